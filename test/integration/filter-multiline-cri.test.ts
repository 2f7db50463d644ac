/**
 * The multiline filter after the tail input's `multiline.parser cri`, on real files: Java (with
 * `Caused by:` and `... N more`), Python and Go traces in two containers' CRI logs, whose runtime split
 * long lines (P/F) and interleaved stdout with the stderr traces (test/fixtures/multiline/cri), each
 * come out as one entry with its first line's time. Tail positions move past a held trace's lines only
 * once its entry is delivered; a trace written in two parts is one entry; an unfinished one goes on
 * after flush_ms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from '../../src/core/event.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { criLine, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = join(PACKAGE_ROOT, 'test/fixtures/multiline/cri');
const ORDERS = 'orders_shop_app-1111111111111111111111111111111111111111111111111111111111111111.log';
const WORKER = 'worker_shop_app-2222222222222222222222222222222222222222222222222222222222222222.log';

/** The CRI time of line `n` (0-based) of a fixture file, in ns. */
function criTime(file: string, n: number): bigint {
  const t = readFileSync(join(FIXTURES, file), 'utf8').split('\n')[n]!.split(' ')[0]!;
  const [s, frac] = t.replace('Z', '').split('.');
  return (BigInt(Date.parse(s + 'Z')) / 1000n) * 1_000_000_000n + BigInt(frac!.padEnd(9, '0'));
}

function config(dir: string, flushMs: number, db?: string): string {
  return `pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
      refresh_interval: 1s${db ? `\n      db: ${db}` : ''}
  filters:
    - name: multiline
      match: kube.*
      multiline.key_content: log
      multiline.parser: java, python, go
      flush_ms: ${flushMs}
  outputs:
    - name: capture
      match: '*'
`;
}

const ofFile = (events: LogEvent[], file: string) => events.filter((e) => e.tag.endsWith(file.replaceAll('/', '.')));
const stream = (events: LogEvent[], s: string) => events.filter((e) => e.record.stream === s);

function savedOffset(db: string, file: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(db, 'utf8')) as { files: { path: string; offset: number }[] }).files.find((f) => f.path.endsWith(file))?.offset;
  } catch {
    return undefined;
  }
}

test('Java, Python and Go traces in CRI logs, split by the runtime and interleaved with stdout, are one entry each with their first line time', async (t) => {
  const dir = tempDir(t, 'floki-ml-cri-');
  const db = join(dir, 'tail.db');
  copyFileSync(join(FIXTURES, WORKER), join(dir, WORKER));
  copyFileSync(join(FIXTURES, ORDERS), join(dir, ORDERS));
  const p = await startPipeline(t, config(dir, 60_000, db));
  const events = p.capture.events;

  // The worker's traces end with a line no parser takes ("exit status 2"): all of them go on at once.
  await waitFor(() => ofFile(events, WORKER).length === 7, "the worker's 7 entries");
  const worker = ofFile(events, WORKER);
  assert.deepEqual(
    stream(worker, 'stdout').map((e) => e.record.log),
    ['2026-11-30 10:20:01,000 INFO worker started', '2026-11-30 10:20:01,001 INFO heartbeat', '2026-11-30 10:20:01,002 INFO worker idle', '2026-11-30 10:20:01,003 INFO heartbeat'],
  );
  const stderr = stream(worker, 'stderr');
  assert.deepEqual(
    stderr.map((e) => e.record.log),
    [
      'Traceback (most recent call last):\n  File "/app/worker.py", line 42, in run\n    result = handle(job, retries=3, timeout=10)\n  File "/app/worker.py", line 17, in handle\n    return job["payload"]["id"]\nKeyError: \'id\'',
      'panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.lookup(...)\n\t/app/main.go:12\nmain.main()\n\t/app/main.go:20 +0x1d',
      'exit status 2',
    ],
  );
  assert.equal(stderr[0]!.time, criTime(WORKER, 1), "the traceback's first line time");
  assert.equal(stderr[1]!.time, criTime(WORKER, 10), "the panic's first line time");

  // The Java trace is the last stderr of its file: held until its stream's next line (flush_ms is long).
  await waitFor(() => ofFile(events, ORDERS).length === 5, "the orders file's other 5 entries");
  const orders = readFileSync(join(dir, ORDERS));
  const exceptionAt = orders.indexOf('java.lang.IllegalStateException');
  const exceptionLineStart = orders.lastIndexOf('\n', exceptionAt) + 1;
  // The records of a read are one emit: its position moves only once every one of them is delivered.
  const workerSize = readFileSync(join(dir, WORKER)).length;
  await waitFor(() => savedOffset(db, WORKER) === workerSize, "positions saved past the worker's delivered lines");
  const held = savedOffset(db, ORDERS);
  assert.ok(held !== undefined && held <= exceptionLineStart, `the position (${held}) stays before the held trace (${exceptionLineStart}), though the lines after it were delivered`);
  assert.equal(ofFile(events, ORDERS).filter((e) => String(e.record.log).startsWith('java.lang')).length, 0);

  appendFileSync(join(dir, ORDERS), criLine(T0, 'stderr', 'F', 'shutting down'));
  await waitFor(() => ofFile(events, ORDERS).length === 7, 'the Java trace and the line that ended it');
  const java = ofFile(events, ORDERS).find((e) => String(e.record.log).startsWith('java.lang'))!;
  assert.equal(
    java.record.log,
    'java.lang.IllegalStateException: Failed to process order 42\n' +
      '\tat com.example.demo.OrderService.process(OrderService.java:57)\n' +
      '\tat com.example.demo.OrderController.create(OrderController.java:31)\n' +
      'Caused by: java.sql.SQLException: Connection refused (host=db.default.svc.cluster.local, port=5432, timeout=30s)\n' +
      '\tat com.example.demo.Db.connect(Db.java:12)\n' +
      '\t... 2 more',
  );
  assert.equal(java.time, criTime(ORDERS, 2));
  assert.equal(java.record.stream, 'stderr');
  assert.deepEqual(
    stream(ofFile(events, ORDERS), 'stdout').map((e) => e.record.log),
    [
      '2026-11-30 10:20:00.124  INFO 1 --- [main] c.e.demo.Application : Started Application',
      '2026-11-30 10:20:00.126  INFO 1 --- [exec-2] c.e.demo.OrderController : GET /orders 200',
      '2026-11-30 10:20:00.127  INFO 1 --- [exec-3] c.e.demo.OrderController : a long stdout line that the runtime split in two pieces',
      '2026-11-30 10:20:00.128  INFO 1 --- [exec-4] c.e.demo.OrderController : GET /orders 200',
    ],
  );
  const size = readFileSync(join(dir, ORDERS)).length;
  await waitFor(() => savedOffset(db, ORDERS) === size, 'the position past the trace once it was delivered');
});

test('a trace written in two parts (two reads) is one entry; an unfinished one goes on after flush_ms', async (t) => {
  const dir = tempDir(t, 'floki-ml-cri-');
  const file = join(dir, 'app_ns_c-' + 'a'.repeat(64) + '.log');
  let ns = T0;
  const line = (s: 'stdout' | 'stderr', text: string) => criLine((ns += 1000n), s, 'F', text);
  const first = ns + 2000n;
  writeFileSync(file, Buffer.concat([line('stdout', 'started'), line('stderr', 'java.lang.RuntimeException: boom'), line('stderr', '\tat a.B.c(B.java:1)')]));
  const p = await startPipeline(t, config(dir, 500));
  const events = p.capture.events;
  await waitFor(() => events.length === 1, 'the line before the trace');
  appendFileSync(file, Buffer.concat([line('stdout', 'between'), line('stderr', 'Caused by: java.io.IOException: x'), line('stderr', '\t... 1 more')]));
  await waitFor(() => events.length === 2, 'the stdout line written with the second part');
  const written = performance.now();
  await waitFor(() => events.length === 3, 'the trace, after flush_ms', 10_000);
  const waited = performance.now() - written;
  const trace = events[2]!;
  assert.equal(trace.record.log, 'java.lang.RuntimeException: boom\n\tat a.B.c(B.java:1)\nCaused by: java.io.IOException: x\n\t... 1 more');
  assert.equal(trace.time, first);
  assert.ok(waited >= 100, `went on ${waited} ms after its last line was read, not at once`);
  assert.equal(await p.metric('floki_filter_multiline_unfinished_entries_total', { name: 'multiline.0', reason: 'timeout' }), 1);
});
