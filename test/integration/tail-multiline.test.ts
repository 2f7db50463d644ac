/**
 * Stack traces folded at the source: the tail input's `multiline.parser` with the stack-trace parsers
 * (and the config's own) after `cri`: Java with `Caused by:` and `... N more`, Python tracebacks and
 * Go panics in CRI logs whose runtime split long lines (P/F), stdout interleaved with the stderr traces,
 * two containers (test/fixtures/multiline/cri). A trace read in many reads, or written in two parts,
 * is one entry; an unfinished one goes out after its flush_timeout; the lines of an entry not made
 * yet keep the file's position behind them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from '../../src/core/event.js';
import { ROOT } from '../helpers/floki-process.js';
import { criLine, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

const CRI = join(ROOT, 'test', 'fixtures', 'multiline', 'cri');
const ORDERS = `orders_shop_app-${'1'.repeat(64)}.log`;
const WORKER = `worker_shop_app-${'2'.repeat(64)}.log`;

/** `keys`: more keys of the input; `top`: sections before `pipeline` (multiline_parsers). */
const config = (dir: string, parsers: string, keys = '', top = '') => `${top}pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      read_from_head: true
      multiline.parser: ${parsers}
${keys}  outputs:
    - name: capture
      match: '*'
`;

const ns = (s: string) => BigInt(s);
const view = (e: LogEvent) => [e.time, e.record.stream, e.record.log];
const byTime = (a: LogEvent, b: LogEvent) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0);

test('Java, Python and Go traces in CRI logs with split lines, streams and containers interleaved: one entry each, with its first line\'s time', async (t) => {
  const dir = tempDir(t);
  copyFileSync(join(CRI, ORDERS), join(dir, ORDERS));
  copyFileSync(join(CRI, WORKER), join(dir, WORKER));
  // A last stderr line ends the Java trace (else it waits its 4 s flush_timeout).
  appendFileSync(join(dir, ORDERS), '2026-11-30T10:20:00.159000000Z stderr F done\n');
  // Blocks of 100 bytes: every trace is read over several reads.
  const p = await startPipeline(t, config(dir, 'cri, java, python, go', '      tag: kube.*\n      buffer_chunk_size: 100\n'));
  const events = p.capture.events;
  await waitFor(() => events.length >= 14, '14 entries', 10_000);
  const orders = events.filter((e) => e.tag.endsWith(ORDERS)).sort(byTime);
  const worker = events.filter((e) => e.tag.endsWith(WORKER)).sort(byTime);
  assert.deepEqual(orders.map(view), [
    [ns('1796034000124457106'), 'stdout', '2026-11-30 10:20:00.124  INFO 1 --- [main] c.e.demo.Application : Started Application'],
    [ns('1796034000125457423'), 'stderr', '2026-11-30 10:20:00.125 ERROR 1 --- [exec-1] o.a.c.c.C.[dispatcherServlet] : Servlet.service() threw exception'],
    [
      ns('1796034000126457740'),
      'stderr',
      'java.lang.IllegalStateException: Failed to process order 42\n' +
        '\tat com.example.demo.OrderService.process(OrderService.java:57)\n' +
        '\tat com.example.demo.OrderController.create(OrderController.java:31)\n' +
        'Caused by: java.sql.SQLException: Connection refused (host=db.default.svc.cluster.local, port=5432, timeout=30s)\n' +
        '\tat com.example.demo.Db.connect(Db.java:12)\n' +
        '\t... 2 more',
    ],
    [ns('1796034000128458374'), 'stdout', '2026-11-30 10:20:00.126  INFO 1 --- [exec-2] c.e.demo.OrderController : GET /orders 200'],
    [ns('1796034000130459008'), 'stdout', '2026-11-30 10:20:00.127  INFO 1 --- [exec-3] c.e.demo.OrderController : a long stdout line that the runtime split in two pieces'],
    [ns('1796034000138461544'), 'stdout', '2026-11-30 10:20:00.128  INFO 1 --- [exec-4] c.e.demo.OrderController : GET /orders 200'],
    [ns('1796034000159000000'), 'stderr', 'done'],
  ]);
  assert.deepEqual(worker.map(view), [
    [ns('1796034000139461861'), 'stdout', '2026-11-30 10:20:01,000 INFO worker started'],
    [
      ns('1796034000140462178'),
      'stderr',
      'Traceback (most recent call last):\n' +
        '  File "/app/worker.py", line 42, in run\n' +
        '    result = handle(job, retries=3, timeout=10)\n' +
        '  File "/app/worker.py", line 17, in handle\n' +
        '    return job["payload"]["id"]\n' +
        "KeyError: 'id'",
    ],
    [ns('1796034000142462812'), 'stdout', '2026-11-30 10:20:01,001 INFO heartbeat'],
    [ns('1796034000148464714'), 'stdout', '2026-11-30 10:20:01,002 INFO worker idle'],
    [
      ns('1796034000149465031'),
      'stderr',
      'panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.lookup(...)\n\t/app/main.go:12\nmain.main()\n\t/app/main.go:20 +0x1d',
    ],
    [ns('1796034000152465982'), 'stdout', '2026-11-30 10:20:01,003 INFO heartbeat'],
    [ns('1796034000158467884'), 'stderr', 'exit status 2'],
  ]);
  assert.equal(events.length, 14);
  assert.deepEqual(orders[2]!.record.kubernetes, { pod_name: 'orders', namespace_name: 'shop', container_name: 'app', container_id: '1'.repeat(64) });
});

test('a trace written in two parts, the first already read and its neighbours sent, is one entry', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  const ms = (n: number) => T0 + BigInt(n) * 1_000_000n;
  writeFileSync(file, Buffer.concat([criLine(ms(1), 'stderr', 'F', 'Traceback (most recent call last):'), criLine(ms(2), 'stderr', 'F', '  File "/app/a.py", line 1, in <module>'), criLine(ms(3), 'stdout', 'F', 'between')]));
  const p = await startPipeline(t, config(dir, 'cri, python'));
  const events = p.capture.events;
  await waitFor(() => events.length === 1, 'the stdout line after the first part');
  appendFileSync(file, Buffer.concat([criLine(ms(4), 'stderr', 'F', '    import nothing'), criLine(ms(5), 'stderr', 'F', "ModuleNotFoundError: No module named 'nothing'")]));
  await waitFor(() => events.length === 2, 'the traceback');
  assert.deepEqual(events.map(view), [
    [ms(3), 'stdout', 'between'],
    [ms(1), 'stderr', "Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in <module>\n    import nothing\nModuleNotFoundError: No module named 'nothing'"],
  ]);
});

const USER_PARSER = (flushMs: number) => `multiline_parsers:
  - name: app_trace
    type: regex
    flush_timeout: ${flushMs}
    rules:
      - state: start_state
        regex: '/^\\d{4}-\\d{2}-\\d{2} .*ERROR/'
        next_state: cont
      - state: cont
        regex: '/^\\s+at /'
        next_state: cont
`;

test("an unfinished entry (a user's multiline parser) goes out after its flush_timeout, not before it and not long after", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const p = await startPipeline(t, config(dir, 'app_trace', '', USER_PARSER(800)));
  const events = p.capture.events;
  appendFileSync(file, '2026-11-30 10:00:00 INFO ok\n2026-11-30 10:00:01 ERROR boom\n  at a.b(C.java:1)\n  at c.d(E.java:2)\n');
  // The plain line goes out at once: it is not a start, and nothing was pending.
  await waitFor(() => events.length === 1, 'the plain line');
  const read = Date.now();
  await waitFor(() => events.length === 2, 'the unfinished entry', 5000, 5);
  const waited = Date.now() - read;
  assert.ok(waited >= 700, `sent after its flush_timeout (800 ms from its last line), not after ${waited} ms`);
  assert.ok(waited <= 800 + 1500, `not held long past its flush_timeout (${waited} ms)`);
  assert.deepEqual(
    events.map((e) => e.record.log),
    ['2026-11-30 10:00:00 INFO ok\n', '2026-11-30 10:00:01 ERROR boom\n  at a.b(C.java:1)\n  at c.d(E.java:2)\n'],
  );
});

test('the lines of an entry not made yet keep the position behind them: after a restart the entry is read again whole, once', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  const db = join(dir, 'tail.db');
  const before = '2026-11-30 10:00:00 INFO started\n';
  const trace = '2026-11-30 10:00:01 ERROR boom\n  at a.b(C.java:1)\n';
  writeFileSync(file, before + trace);
  const cfg = config(dir, 'app_trace', `      db: ${db}\n`, USER_PARSER(60_000));
  const first = await startPipeline(t, cfg);
  await waitFor(() => first.capture.events.length === 1, 'the line before the trace');
  await waitFor(() => {
    try {
      return (JSON.parse(readFileSync(db, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset === before.length;
    } catch {
      return false;
    }
  }, 'the position at the start of the held trace');
  await first.stop();
  assert.equal((JSON.parse(readFileSync(db, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset, before.length, 'not past the held trace at stop');

  appendFileSync(file, '  at c.d(E.java:2)\n2026-11-30 10:00:02 INFO after\n');
  const second = await startPipeline(t, cfg);
  await waitFor(() => second.capture.events.length === 2, 'the trace and the line after it');
  assert.deepEqual(
    second.capture.events.map((e) => e.record.log),
    ['2026-11-30 10:00:01 ERROR boom\n  at a.b(C.java:1)\n  at c.d(E.java:2)\n', '2026-11-30 10:00:02 INFO after\n'],
  );
});

test('a file truncated (copytruncate) while an entry is held: the entry is sent as it is, at once, not lost', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, '2026-11-30 10:00:01 ERROR boom\n  at a.b(C.java:1)\n');
  const p = await startPipeline(t, config(dir, 'app_trace', '', USER_PARSER(60_000)));
  await waitFor(async () => (await p.metric('floki_input_tail_lines_total')) === 2, 'the trace read');
  assert.equal(p.capture.events.length, 0, 'held: its flush_timeout is a minute');
  truncateSync(file, 0);
  await waitFor(() => p.capture.events.length === 1, 'the held entry, sent when the truncation is noticed', 5000);
  assert.equal(p.capture.events[0]!.record.log, '2026-11-30 10:00:01 ERROR boom\n  at a.b(C.java:1)\n');
});
