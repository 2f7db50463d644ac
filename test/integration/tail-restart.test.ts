/**
 * Restarts: floki killed (SIGKILL) while reading and while Loki answers 503, then started again on the
 * same `db`; files rotated while floki was down found again by identity. No line is lost, and a line
 * delivered twice carries the same timestamp both times (Loki stores it once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LokiReceiver, type ReceivedEntry } from '../helpers/loki-receiver.js';
import { criLine, KillableFloki, nodeLayout, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

const config = (root: string, port: number) => `service:
  grace: 1s
pipeline:
  inputs:
    - name: tail
      path: ${root}/var/log/containers/*.log
      read_from_head: true
      tag: kube.*
      multiline.parser: cri
      refresh_interval: 1s
      rotate_wait: 200ms
      buffer_chunk_size: 32K
      db: ${root}/tail.db
  outputs:
    - name: loki
      match: '*'
      port: ${port}
      batch_wait: 20ms
      batch_size: 32K
      retry_min_backoff: 20ms
      retry_max_backoff: 100ms
      retry_limit: no_limits
      labels: job=floki, pod=$kubernetes['pod_name'], stream=$stream
`;

const lines = (from: number, to: number) => {
  const out: Buffer[] = [];
  // Every fifth line is split in two pieces, so a kill can fall between a P and its F.
  for (let i = from; i < to; i++) {
    const time = T0 + BigInt(i) * 1000n;
    const content = `seq=${i} ${'x'.repeat(i % 80)}`;
    if (i % 5 === 0) out.push(criLine(time, 'stdout', 'P', content.slice(0, 7)), criLine(time, 'stdout', 'F', content.slice(7)));
    else out.push(criLine(time, i % 11 === 0 ? 'stderr' : 'stdout', 'F', content));
  }
  return Buffer.concat(out);
};

const seqOf = (e: ReceivedEntry): number => Number(/seq=(\d+)/.exec(JSON.parse(e.line).log as string)![1]);

/** Every line from..to arrived; copies of one line carry one timestamp. Returns the number of copies beyond the first. */
function assertNoLossNoSkew(entries: ReceivedEntry[], from: number, to: number): number {
  const times = new Map<number, Set<bigint>>();
  for (const e of entries) {
    const seq = seqOf(e);
    if (!times.has(seq)) times.set(seq, new Set());
    times.get(seq)!.add(e.ts);
  }
  const missing: number[] = [];
  for (let i = from; i < to; i++) if (!times.has(i)) missing.push(i);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines lost`);
  for (const [seq, ts] of times) assert.deepEqual([...ts], [T0 + BigInt(seq) * 1000n], `line ${seq}: one timestamp, its own`);
  return entries.length - times.size;
}

test('SIGKILL while reading and while Loki answers 503, restarted on the same db: nothing lost, repeats only with the same timestamp', async (t) => {
  const root = tempDir(t);
  const loki = await LokiReceiver.start();
  const { target } = nodeLayout(root, 'web-0', 'shop', 'nginx');
  const db = join(root, 'tail.db');
  const savedOffset = (): number => {
    try {
      return (JSON.parse(readFileSync(db, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset ?? 0;
    } catch {
      return 0;
    }
  };
  writeFileSync(target, lines(0, 20_000));
  let written = 20_000;
  // The container keeps writing all along: floki is always reading when it is killed.
  const grow = setInterval(() => {
    appendFileSync(target, lines(written, written + 20));
    written += 20;
  }, 10);
  const running: KillableFloki[] = [];
  t.after(async () => {
    clearInterval(grow);
    for (const f of running) await f.stop('SIGKILL');
    await loki.close();
  });
  const run = async () => {
    const f = new KillableFloki(root, config(root, loki.port));
    running.push(f);
    await f.ready();
    return f;
  };

  const first = await run();
  await waitFor(() => savedOffset() > 0 && loki.entries.length >= 3000, 'positions saved while reading', 15_000);
  await first.stop('SIGKILL');
  const deliveredFirst = loki.entries.length;
  const offsetFirst = savedOffset();
  // The lines before the saved offset are settled: only those after it may come again.
  const settledFirst = readFileSync(target).subarray(0, offsetFirst).toString().split('\n').filter((l) => / F /.test(l)).length;

  // Loki fails every push: floki reads and retries, its positions must not move; killed meanwhile.
  loki.respond(...Array<number>(10_000).fill(503));
  const second = await run();
  const requestsBefore = loki.requests;
  await loki.waitForRequests(requestsBefore + 5, 15_000);
  await second.stop('SIGKILL');
  assert.equal(loki.entries.length, deliveredFirst, 'nothing accepted while answering 503');
  assert.equal(savedOffset(), offsetFirst, 'positions did not move past undelivered lines');
  (loki as unknown as { script: unknown[] }).script.length = 0;

  const third = await run();
  await waitFor(() => savedOffset() > offsetFirst, 'reading again', 15_000);
  clearInterval(grow);
  await waitFor(() => new Set(loki.entries.map(seqOf)).size === written, 'every line', 15_000);
  const repeats = assertNoLossNoSkew(loki.entries, 0, written);
  assert.ok(repeats <= deliveredFirst - settledFirst, `only lines delivered after the last saved position came again (${repeats})`);
  assert.equal(await third.stop(), 0);
});

test('files rotated while floki was down are found by identity, renamed or gzipped, and finished from their saved offset before the new file', async (t) => {
  const root = tempDir(t);
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const { target } = nodeLayout(root, 'web-0', 'shop', 'nginx');
  const cfg = config(root, loki.port);

  writeFileSync(target, lines(0, 1000));
  let p = await startPipeline(t, cfg);
  await loki.waitFor(1000, 5000);
  await p.stop();

  // Down: the file gets more lines, is rotated, and a new one starts.
  appendFileSync(target, lines(1000, 1500));
  renameSync(target, `${target}.20261125-100001`);
  writeFileSync(target, lines(1500, 1800));
  p = await startPipeline(t, cfg);
  await waitFor(() => loki.entries.length >= 1800, 'the rest of the rotated file and the new file', 5000);
  await p.stop();

  // Down again: two more rotations; kubelet gzips all but the newest rotated file.
  appendFileSync(target, lines(1800, 2000));
  renameSync(target, `${target}.20261125-100002`);
  writeFileSync(target, lines(2000, 2100));
  renameSync(target, `${target}.20261125-100003`);
  writeFileSync(target, lines(2100, 2200));
  for (const older of ['20261125-100001', '20261125-100002']) {
    writeFileSync(`${target}.${older}.gz`, gzipSync(readFileSync(`${target}.${older}`)));
    rmSync(`${target}.${older}`);
  }
  p = await startPipeline(t, cfg);
  await waitFor(() => loki.entries.length >= 2200, 'the gzipped rotation, the one after it and the new file', 5000);
  await p.stop();

  assert.deepEqual(loki.entries.map(seqOf).sort((a, b) => a - b), Array.from({ length: 2200 }, (_, i) => i), 'every line exactly once');
  // In each stream the lines came in the order written: rotated files first, then the new one.
  const streams = new Map<string, number[]>();
  for (const e of loki.entries) streams.set(e.labelString, [...(streams.get(e.labelString) ?? []), seqOf(e)]);
  for (const [labels, s] of streams) assert.deepEqual(s, [...s].sort((a, b) => a - b), `order within ${labels}`);
  assertNoLossNoSkew(loki.entries, 0, 2200);
});

test('with the disk buffer, positions move once lines are on disk, even while Loki answers 503; after SIGKILL the disk delivers them', async (t) => {
  const root = tempDir(t);
  const loki = await LokiReceiver.start();
  const { target } = nodeLayout(root, 'web-0', 'shop', 'nginx');
  const db = join(root, 'tail.db');
  const total = 3000;
  writeFileSync(target, lines(0, total));
  const running: KillableFloki[] = [];
  t.after(async () => {
    for (const f of running) await f.stop('SIGKILL');
    await loki.close();
  });
  const cfg = config(root, loki.port).replace('service:\n', `service:\n  storage.path: ${join(root, 'storage')}\n`).replace('      labels:', '      storage.type: filesystem\n      labels:');
  loki.respond(...Array<number>(10_000).fill(503));
  const first = new KillableFloki(root, cfg);
  running.push(first);
  await first.ready();
  const size = readFileSync(target).length;
  await waitFor(() => {
    try {
      return (JSON.parse(readFileSync(db, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset === size;
    } catch {
      return false;
    }
  }, 'positions at the end of the file while nothing is delivered', 15_000);
  assert.equal(loki.entries.length, 0);
  await first.stop('SIGKILL');
  (loki as unknown as { script: unknown[] }).script.length = 0;

  const second = new KillableFloki(root, cfg);
  running.push(second);
  await second.ready();
  await waitFor(() => new Set(loki.entries.map(seqOf)).size === total, 'every line, from the disk buffer', 15_000);
  assert.equal(assertNoLossNoSkew(loki.entries, 0, total), 0, 'the file was not read again');
  assert.equal(await second.stop(), 0);
});
