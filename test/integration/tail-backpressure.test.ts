/**
 * Backpressure and fairness: a full output stops the reading (the files wait on disk) and its positions
 * do not move past unsettled lines; files are read in turns, so a huge file does not starve a small one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { criLine, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

/** The file's offsets in the positions file, by file name; {} before the first write. */
function positions(dir: string, db: string): Record<string, number> {
  try {
    const doc = JSON.parse(readFileSync(db, 'utf8')) as { files: { path: string; offset: number }[] };
    return Object.fromEntries(doc.files.map((f) => [f.path.slice(dir.length + 1), f.offset]));
  } catch {
    return {};
  }
}

/** Where the first `n` lines end: the offset a position may reach once exactly those are settled. */
function endOfLines(lines: Buffer[], n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += lines[i]!.length;
  return bytes;
}

test('a full output pauses reading and holds positions; when it drains, reading resumes; a small file is not starved by a huge one', async (t) => {
  const dir = tempDir(t);
  const bigLines = 40_000;
  const big: Buffer[] = [];
  for (let i = 0; i < bigLines; i++) big.push(criLine(T0 + BigInt(i), 'stdout', 'F', `big ${i} ${'x'.repeat(60)}`));
  writeFileSync(join(dir, 'big.log'), Buffer.concat(big));
  const small: Buffer[] = [];
  for (let i = 0; i < 100; i++) small.push(criLine(T0 + BigInt(i), 'stdout', 'F', `small ${i}`));
  writeFileSync(join(dir, 'small.log'), Buffer.concat(small));
  const db = join(dir, 'tail.db');
  const offsets = (): Record<string, number> => positions(dir, db);

  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      read_from_head: true
      multiline.parser: cri
      buffer_chunk_size: 16K
      inotify_watcher: off
      db: ${db}
  outputs:
    - name: capture
      match: '*'
`,
    undefined,
    // From the first lines on nothing is settled, however fast the machine reads: first with reading
    // going on, so that lines of big.log are delivered and not settled (a position settled as lines are
    // emitted would pass them), then with the output full.
    (capture) => capture.holdAfter(1),
  );
  const events = p.capture.events;
  await waitFor(() => p.capture.settledBeforeHold !== undefined, 'the first lines', 20_000);
  const settled = p.capture.settledBeforeHold!;
  // Settled before the hold: the first `settledBig` lines of big.log, in order. No position may pass them.
  const settledBig = events.slice(0, settled).filter((e) => String(e.record.log).startsWith('big')).length;
  await waitFor(() => events.filter((e) => String(e.record.log).startsWith('big')).length >= settledBig + 300, 'lines of big.log delivered, not settled', 20_000);
  p.capture.hold();
  const atHold = events.length;
  // A poll while paused sees the unread bytes of the big file; nothing more is read meanwhile.
  await waitFor(async () => (await p.metric('floki_input_tail_file_lag_bytes', { file: join(dir, 'big.log') })) > 0, 'a poll while paused', 20_000);
  // Positions are written every second when they moved: over two such periods, a position that passed
  // the settled lines would have been written. (A wait for an absence: the window is the writer's.)
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const heldOffset = offsets()['big.log'] ?? 0;
  assert.ok(heldOffset <= endOfLines(big, settledBig), `positions did not move past held lines (${heldOffset} > ${endOfLines(big, settledBig)})`);
  assert.ok(events.length <= atHold + 2 * 300, `at most the block being read when the output filled (${events.length - atHold} more)`);
  assert.ok(events.length < bigLines, 'reading stopped');
  assert.equal(await p.metric('floki_input_ingestion_paused'), 1);

  p.capture.release();
  await waitFor(() => events.length === bigLines + 100, 'every line', 10_000);
  // Turns of one 16 KiB block (~200 lines) each: the small file is done within the first rounds.
  let lastSmall = -1;
  events.forEach((e, i) => String(e.record.log).startsWith('small') && (lastSmall = i));
  assert.ok(lastSmall < 1000, `the small file's lines came early (last at ${lastSmall})`);
  assert.equal(new Set(events.map((e) => e.record.log)).size, bigLines + 100, 'each line once');
  await waitFor(() => offsets()['big.log'] === statSync(join(dir, 'big.log')).size, 'positions at the end once settled', 20_000);
});

test('positions stop exactly at the last settled line; lines delivered but not settled are read again after a restart', async (t) => {
  const dir = tempDir(t);
  const lines: Buffer[] = [];
  for (let i = 0; i < 30_000; i++) lines.push(criLine(T0 + BigInt(i), 'stdout', 'F', `line ${i} ${'z'.repeat(40)}`));
  writeFileSync(join(dir, 'app.log'), Buffer.concat(lines));
  const db = join(dir, 'tail.db');
  const config = `service:
  grace: 1
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
`;
  // From about the 1000th line on, lines are delivered but not settled, and reading goes on (the output is not full).
  const first = await startPipeline(t, config, undefined, (capture) => capture.holdAfter(1000));
  await waitFor(() => first.capture.settledBeforeHold !== undefined, 'the hold');
  const settled = first.capture.settledBeforeHold!;
  assert.ok(settled > 0 && settled <= 1000);
  await waitFor(() => first.capture.events.length >= settled + 500, 'lines delivered, not settled', 20_000);
  // Stopping writes the positions: exactly past the settled lines, whatever was delivered since.
  const writes = await first.metric('floki_input_tail_db_writes_total');
  await first.stop();
  await waitFor(async () => (await first.metric('floki_input_tail_db_writes_total')) > writes, 'the positions written at stop');
  assert.equal(positions(dir, db)['app.log'], endOfLines(lines, settled));

  const second = await startPipeline(t, config);
  await waitFor(() => second.capture.events.length === lines.length - settled, 'the rest of the file', 20_000);
  assert.deepEqual(
    second.capture.events.map((e) => e.record.log),
    lines.slice(settled).map((l) => l.toString().trimEnd().split(' F ')[1]),
    'read again from the first line not settled',
  );
});

test('mem_buf_limit: reading pauses while that many bytes of lines are unsettled, even if the output takes more', async (t) => {
  const dir = tempDir(t);
  const lines: Buffer[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(criLine(T0 + BigInt(i), 'stdout', 'F', `line ${i} ${'y'.repeat(80)}`));
  const content = Buffer.concat(lines);
  writeFileSync(join(dir, 'app.log'), content);
  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      read_from_head: true
      multiline.parser: cri
      buffer_chunk_size: 16K
      mem_buf_limit: 64K
  outputs:
    - name: capture
      match: '*'
`,
  );
  p.capture.hold(false);
  const events = p.capture.events;
  await waitFor(async () => (await p.metric('floki_input_bytes_total')) >= 64 * 1024, 'the limit reached', 20_000);
  // A poll finds the file still has unread bytes: the read loop is stopped at the limit, not done.
  await waitFor(async () => (await p.metric('floki_input_tail_file_lag_bytes')) > 0, 'a look at the file', 20_000);
  const read = await p.metric('floki_input_bytes_total');
  assert.ok(read <= 64 * 1024 + 16 * 1024, `at most one block past the limit (${read} bytes read)`);
  assert.ok(events.length < 20_000);
  // Settled (and settling at once from now on): reading goes on to the end.
  p.capture.release();
  await waitFor(() => events.length === 20_000, 'every line once the output settles', 10_000);
  assert.equal(await p.metric('floki_input_bytes_total'), content.length);
});
