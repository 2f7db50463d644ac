/**
 * Stopping: the positions file holds the settled lines' end by the time the engine stops waiting for
 * the tail input, however long service.grace is, since the engine waits for inputs only part of the
 * grace it is given (and the CLI exits then).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { criLine, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

function offsetOf(db: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(db, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset;
  } catch {
    return undefined;
  }
}

test('positions are written before the engine stops waiting for the input, even with lines in flight and a long grace', async (t) => {
  const dir = tempDir(t);
  const lines: Buffer[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(criLine(T0 + BigInt(i), 'stdout', 'F', `line ${i} ${'z'.repeat(60)}`));
  writeFileSync(join(dir, 'app.log'), Buffer.concat(lines));
  const db = join(dir, 'tail.db');
  // A 20 s grace: the input may wait 10 s for lines in flight; the engine is stopped with 500 ms.
  const p = await startPipeline(
    t,
    `service:
  grace: 20
pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      read_from_head: true
      multiline.parser: cri
      buffer_chunk_size: 4K
      db: ${db}
  outputs:
    - name: capture
      match: '*'
`,
  );
  const events = p.capture.events;
  await waitFor(() => events.length >= 100, 'the first lines');
  p.capture.hold(false);
  await waitFor(() => events.length >= 600, 'lines delivered, not settled', 20_000);
  // Settled just now (the positions writer, once a second, has most likely not seen them), then more
  // lines delivered and not settled while the pipeline stops.
  p.capture.release();
  const settled = events.length;
  p.capture.hold(false);
  await waitFor(() => events.length >= settled + 100, 'more lines in flight', 20_000);
  await p.stop();
  const end = lines.slice(0, settled).reduce((n, l) => n + l.length, 0);
  assert.equal(offsetOf(db), end, 'the end of the settled lines, written before the engine stopped waiting');
  // Lines in flight settle: the input's own wait ends, and moves them on.
  p.capture.release();
  await waitFor(() => (offsetOf(db) ?? 0) > end, 'positions past the lines that settled late', 5000);
});
