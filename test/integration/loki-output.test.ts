// Responses (503, 429, resets, timeouts, 400s) over HTTP and gRPC: loki-responses.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { Output, OutputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { lokiOutput } from '../../src/outputs/loki/index.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

const T0 = 1_700_000_000_123_456_789n;

interface Harness {
  receiver: LokiReceiver;
  output: Output;
  metrics: Metrics;
  fullCalls: boolean[];
  logLines: string[];
  value(metric: string, labels?: Record<string, string>): Promise<number>;
}

/** A receiver plus an output sending to it; both are cleaned up when the test ends. */
async function setup(t: TestContext, options: Record<string, unknown> = {}, capture = false): Promise<Harness> {
  const receiver = await LokiReceiver.start();
  const metrics = new Metrics();
  const fullCalls: boolean[] = [];
  const logLines: string[] = [];
  const log = capture
    ? pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) }))
    : pino({ level: 'silent' });
  const ctx: OutputContext = {
    name: 'loki.0',
    log,
    metrics,
    service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(),
    setFull: (full) => fullCalls.push(full),
  };
  // Options as the config validator resolves them: durations in ms, sizes in bytes.
  const output = lokiOutput.create({ port: receiver.port, batch_wait: 20, retry_min_backoff: 5, retry_max_backoff: 50, ...options }, ctx);
  await output.start();
  t.after(async () => {
    await output.stop(200);
    await receiver.close();
  });
  return { receiver, output, metrics, fullCalls, logLines, value: (m, l = {}) => metrics.value(m, { name: 'loki.0', ...l }) };
}

function events(n: number, make: (i: number) => Partial<LogEvent> = () => ({})): LogEvent[] {
  return Array.from({ length: n }, (_, i) => ({ tag: 'kube.app', time: T0 + BigInt(i), record: { log: `line ${i}` }, ...make(i) }));
}

test('entries arrive with exact ns timestamps, labels and lines, sorted per stream', async (t) => {
  const h = await setup(t, {
    labels: ['job=floki', "namespace=$kubernetes['namespace_name']", '$stream'],
    label_keys: ["$kubernetes['pod_name']"],
    tenant_id: 'team-a',
  });
  const input: LogEvent[] = [
    { tag: 'a', time: T0 + 5n, record: { log: 'later', stream: 'stdout', kubernetes: { namespace_name: 'prod', pod_name: 'web-1' } } },
    { tag: 'a', time: T0, record: { log: 'earlier', stream: 'stdout', kubernetes: { namespace_name: 'prod', pod_name: 'web-1' } } },
    { tag: 'a', time: T0 + 1n, record: { log: 'err', stream: 'stderr', kubernetes: { namespace_name: 'prod', pod_name: 'web-1' } } },
    { tag: 'ev', time: T0 + 2n, record: { ignored: true }, labels: { kind: 'Pod', reason: 'BackOff' }, line: '{"as":"printed"}' },
  ];
  h.output.write(input);
  await h.receiver.waitFor(4);

  const got = h.receiver.entries.map((e) => ({ labels: e.labels, ts: e.ts, line: e.line, tenant: e.tenant }));
  // As Fluent Bit 5.1.1: a bare accessor's label is named after its path; every key read into a label leaves the line.
  const web = { job: 'floki', namespace: 'prod', kubernetes_pod_name: 'web-1' };
  assert.deepEqual(
    got.sort((a, b) => (a.ts < b.ts ? -1 : 1)),
    [
      { labels: { ...web, stream: 'stdout' }, ts: T0, line: '{"log":"earlier","kubernetes":{}}', tenant: 'team-a' },
      { labels: { ...web, stream: 'stderr' }, ts: T0 + 1n, line: '{"log":"err","kubernetes":{}}', tenant: 'team-a' },
      { labels: { job: 'floki', kind: 'Pod', reason: 'BackOff' }, ts: T0 + 2n, line: '{"as":"printed"}', tenant: 'team-a' },
      { labels: { ...web, stream: 'stdout' }, ts: T0 + 5n, line: '{"log":"later","kubernetes":{}}', tenant: 'team-a' },
    ],
  );
  // Within one stream the request carries entries in time order.
  const stdout = h.receiver.entries.filter((e) => e.labels['stream'] === 'stdout');
  assert.deepEqual(stdout.map((e) => e.line.slice(8, 13)), ['earli', 'later']);
  assert.equal(h.receiver.requests, 1);
  assert.match(String(h.receiver.requestLog[0]!.headers['user-agent']), /^floki\//);
  await waitFor(async () => (await h.value('floki_output_proc_records_total')) === 4, 'records_total = 4', 2000);
  assert.equal(await h.value('floki_output_batches_total'), 1);
  assert.ok((await h.value('floki_output_proc_bytes_total')) > 0);
});

test('a batch closes when it reaches batch_size', async (t) => {
  // Each entry is ~300 bytes of line plus overhead: three fit in 1000 bytes, the fourth does not.
  const h = await setup(t, { batch_size: 1000, batch_wait: 3_600_000 });
  h.output.write(events(10, (i) => ({ record: { log: `${i}`.padEnd(280, '.') } })));
  await h.receiver.waitFor(9);
  assert.deepEqual(h.receiver.requestLog.map((r) => r.entries), [3, 3, 3]);
  await h.output.stop(2000);
  assert.equal(h.receiver.entries.length, 10);
  assert.deepEqual(h.receiver.entries.map((e) => e.ts), events(10).map((e) => e.time));
});

test('a batch closes batch_wait after its first entry', async (t) => {
  const h = await setup(t, { batch_size: 1 << 20, batch_wait: 60 });
  const started = performance.now();
  h.output.write(events(2));
  h.output.write(events(1, () => ({ time: T0 + 100n })));
  await h.receiver.waitFor(3);
  assert.ok(performance.now() - started >= 55, 'sent before batch_wait');
  assert.deepEqual(h.receiver.requestLog.map((r) => r.entries), [3]);
});

test('setFull(true) past mem_buf_limit, setFull(false) once delivered', async (t) => {
  const h = await setup(t, { mem_buf_limit: 4096, batch_size: 1024, batch_wait: 3_600_000 });
  h.receiver.respond('stall');
  h.output.write(events(10, () => ({ record: { log: 'x'.repeat(500) } })));
  assert.ok(h.output.queuedBytes() > 4096);
  assert.deepEqual(h.fullCalls, [true]);
  assert.ok((await h.value('floki_output_queue_bytes')) > 4096);
  await h.receiver.waitForRequests(1);
  h.receiver.release();
  await waitFor(() => h.output.queuedBytes() < 4096, 'queue under the limit', 3000);
  await waitFor(() => h.fullCalls.length === 2, 'setFull(false)', 3000);
  assert.deepEqual(h.fullCalls, [true, false]);
  await h.output.stop(2000);
  assert.equal(h.receiver.entries.length, 10);
  assert.equal(await h.value('floki_output_queue_bytes'), 0);
});

test('stop() sends the open batch before resolving', async (t) => {
  const h = await setup(t, { batch_wait: 3_600_000 });
  h.output.write(events(7));
  assert.equal(h.receiver.requests, 0);
  await h.output.stop(5000);
  assert.equal(h.receiver.entries.length, 7);
  assert.equal(h.output.queuedBytes(), 0);
});

test('stop() gives up at its deadline and counts what was left', async (t) => {
  const h = await setup(t, { batch_wait: 3_600_000 }, true);
  h.receiver.respond('stall');
  h.output.write(events(6));
  const started = performance.now();
  await h.output.stop(150);
  const took = performance.now() - started;
  assert.ok(took >= 140 && took < 2000, `stop took ${Math.round(took)}ms`);
  assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'shutdown' }), 6);
  assert.ok(h.logLines.some((l) => l.includes('6 entries not delivered')));
  // Writes after stop are counted as dropped, not sent.
  h.output.write(events(2));
  assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'shutdown' }), 8);
});
