/**
 * Issue #11 at a decoding receiver: whatever one record holds (its depth, its time, its label values),
 * every acked record reaches Loki or is counted with its reason, and nobody else's entries are lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pack } from 'msgpackr';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Delivery } from '../../src/core/delivery.js';
import { secondsToNs, type LogEvent } from '../../src/core/event.js';
import { eventExporterFilter } from '../../src/filters/event_exporter/index.js';
import { SAMPLE_EVENT_JSON } from '../../src/inputs/dummy/sample-event.js';
import { MsgpackEvent } from '../../src/inputs/forward/msgpack-event.js';
import { deepRecord, events, lokiHarness, T0 } from '../helpers/loki-harness.js';
import { filterContext, processSync } from '../helpers/plugin-context.js';
import type { LokiReceiver, ReceivedRequest } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';

test('a record nested 100,000 levels deep is delivered with its whole line, not dropped by the formatter', async (t) => {
  const h = await lokiHarness(t, { max_line_size: 0 });
  h.output.write([
    { tag: 't', time: T0, record: { log: 'deep', deep: deepRecord(100_000) } },
    { tag: 't', time: T0 + 1n, record: { log: 'next' } },
  ]);
  await h.receiver.waitFor(2);
  const line = h.receiver.entries[0]!.line;
  assert.equal(line.length, '{"log":"deep","deep":'.length + 100_000 * 6 + 8 + 1);
  assert.ok(line.startsWith('{"log":"deep","deep":{"a":{"a":'));
  assert.equal(h.receiver.entries[1]!.line, '{"log":"next"}');
  assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'error' }), 0);
});

/** Loki's answer to a push holding a line it refuses: 400, every other entry stored (a partial success). */
function refuseLines(receiver: LokiReceiver, refused: (line: string) => boolean, body: string): void {
  receiver.rule = (r: ReceivedRequest) => (r.received.some((e) => refused(e.line)) ? { status: 400, body, accept: (e) => !refused(e.line) } : undefined);
}

const LINE_TOO_LONG = "Max entry size '256' bytes exceeded for stream '{job=\"b\"}' while adding an entry with length '300' bytes";

for (const mode of ['http', 'grpc', 'disk'] as const) {
  test(`${mode}: a 400 drops only what Loki refused: one refused entry among 950 of another client's, found in at most 2·⌈log2 n⌉ more requests`, async (t) => {
    const storagePath = mode === 'disk' ? await mkdtemp(join(tmpdir(), 'floki-400-')) : undefined;
    if (storagePath) t.after(() => rm(storagePath, { recursive: true, force: true }));
    const h = await lokiHarness(t, { labels: ['$client'], ...(mode === 'disk' ? { 'storage.type': 'filesystem' } : {}) }, { receiver: { grpc: mode === 'grpc' }, storagePath });
    refuseLines(h.receiver, (line) => line.includes('poison'), LINE_TOO_LONG);
    const batch: LogEvent[] = [];
    for (let i = 0; i < 950; i++) batch.push({ tag: 'a', time: T0 + BigInt(i), record: { client: 'a', log: `a ${i}` } });
    batch.splice(477, 0, { tag: 'b', time: T0 + 477n, record: { client: 'b', log: 'poison' } });
    let settled = 0;
    const delivery = new Delivery(() => settled++);
    delivery.add(batch.length);
    await h.output.write(batch, delivery);
    delivery.routed();

    await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'line_too_long' })) === 1, 'the refused entry counted');
    await h.receiver.waitUntil(() => new Set(h.receiver.entries.map((e) => e.line)).size === 950, 'every accepted entry');
    const delivered = new Set(h.receiver.entries.map((e) => `${e.labels['client']} ${e.ts - T0} ${e.line}`));
    for (let i = 0; i < 950; i++) assert.ok(delivered.has(`a ${i} {"log":"a ${i}"}`), `a ${i}`);
    assert.ok(![...delivered].some((d) => d.includes('poison')));
    assert.ok(h.receiver.requests <= 1 + 2 * Math.ceil(Math.log2(951)), `${h.receiver.requests} requests`);
    assert.ok((await h.value('floki_output_rejected_splits_total')) >= 1);
    const dropped = await h.value('floki_output_dropped_records_total', { reason: 'line_too_long' });
    await waitFor(() => h.output.queuedBytes() === 0, 'nothing held');
    assert.equal(dropped, 1);
    assert.equal(settled, 1, 'each entry settled once, the emit once');
    assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'error' }), 0);
    if (storagePath) {
      // Every entry settled (delivered or dropped): a stop leaves no segment to send again.
      await h.output.stop(1000);
      assert.deepEqual((await readdir(join(storagePath, 'loki.0'))).filter((f) => f.endsWith('.avro')), []);
    }
  });
}

test('a 400 naming a time bound: the entries past it are set aside at once, counted too_old, the rest delivered', async (t) => {
  const h = await lokiHarness(t);
  const boundSeconds = T0 / 1_000_000_000n + 100n;
  const bound = new Date(Number(boundSeconds) * 1000).toISOString().replace('.000Z', 'Z');
  refuseLines(h.receiver, (line) => line.includes('"old'), `entry for stream '{job="floki"}' has timestamp too old: 2025-01-01T00:00:00Z, oldest acceptable timestamp is: ${bound}`);
  const batch = events(100, (i) => (i < 60 ? { time: T0 + BigInt(i), record: { log: `old ${i}` } } : { time: (boundSeconds + 1n) * 1_000_000_000n + BigInt(i), record: { log: `new ${i}` } }));
  await h.output.write(batch);
  await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'too_old' })) === 60, '60 too old');
  await h.receiver.waitForRequests(2);
  await waitFor(() => h.output.queuedBytes() === 0, 'nothing held');
  assert.equal(new Set(h.receiver.entries.map((e) => e.line)).size, 40);
  assert.equal(h.receiver.requestLog[1]!.entries, 40, 'the 40 others go again whole, in one request');
  assert.equal(h.receiver.requests, 2);
});

test('a batch Loki refuses entirely costs a bounded number of requests, then its refused parts are dropped, counted once', async (t) => {
  const h = await lokiHarness(t);
  h.receiver.rule = () => ({ status: 400, body: 'something Loki refuses everything for' });
  await h.output.write(events(64));
  await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'http_400' })) === 64, 'all 64 dropped');
  await waitFor(() => h.output.queuedBytes() === 0, 'nothing held');
  assert.ok(h.receiver.requests <= 1 + 8 * 6, `${h.receiver.requests} requests`);
  assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'http_400' }), 64);
  assert.equal(h.receiver.entries.length, 0);
});

test('413: the batch is sent again in halves until each part fits', async (t) => {
  const h = await lokiHarness(t);
  h.receiver.rule = (r) => (r.entries > 10 ? { status: 413, body: 'request entity too large' } : undefined);
  await h.output.write(events(40));
  await h.receiver.waitFor(40);
  assert.deepEqual(new Set(h.receiver.entries.map((e) => e.ts - T0)), new Set(Array.from({ length: 40 }, (_, i) => BigInt(i))));
  assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'http_413' }), 0);
});

test('an entry at 1e300 s (a time Loki cannot hold) is dropped and counted invalid_timestamp; the rest of its batch is delivered', async (t) => {
  const h = await lokiHarness(t);
  const batch = events(10);
  batch[4] = { ...batch[4]!, time: secondsToNs(1e300) };
  batch[7] = { ...batch[7]!, time: 2n ** 70n * 1_000_000_000n };
  let settled = 0;
  const delivery = new Delivery(() => settled++);
  delivery.add(batch.length);
  await h.output.write(batch, delivery);
  delivery.routed();
  await h.receiver.waitFor(8);
  await waitFor(() => settled === 1, 'all settled');
  assert.equal(h.receiver.requests, 1);
  assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'invalid_timestamp' }), 2);
});

test('the cardinality guard: 10,000 distinct values of one label reach Loki as a bounded number of streams, none lost', async (t) => {
  const h = await lokiHarness(t, { labels: ['job=floki', '$request_id'], label_values_limit: 100 });
  const n = 10_000;
  await h.output.write(events(n, (i) => ({ record: { log: `l${i}`, request_id: `r${i}` } })));
  await h.receiver.waitFor(n, 20_000);
  const streams = new Set(h.receiver.entries.map((e) => e.labelString));
  assert.equal(streams.size, 101, 'the first 100 values, then one stream without the label');
  const withoutLabel = h.receiver.entries.filter((e) => e.labels['request_id'] === undefined);
  assert.equal(withoutLabel.length, n - 100);
  assert.ok(withoutLabel.every((e) => e.sm['request_id'] === `r${(e.ts - T0).toString()}`), 'the value moved to structured metadata');
  assert.equal(await h.value('floki_output_label_limited_total', { label: 'request_id', limit: 'cardinality' }), n - 100);
});

test('label values too long for Loki and too many labels: the stream is sent within the limits, the labels moved to structured metadata', async (t) => {
  const h = await lokiHarness(t, { labels: ['job=floki', '$reason'], max_label_names: 3 });
  const reason = 'r'.repeat(3000);
  h.output.write([
    { tag: 't', time: T0, record: { log: 'a', reason } },
    { tag: 't', time: T0 + 1n, record: { log: 'b' }, labels: { a: '1', b: '2', c: '3', d: '4' } },
  ]);
  await h.receiver.waitFor(2);
  const [a, b] = h.receiver.entries;
  assert.deepEqual(a!.labels, { job: 'floki' });
  assert.equal(a!.sm['reason'], 'r'.repeat(2048));
  assert.deepEqual(b!.labels, { job: 'floki', a: '1', b: '2' });
  assert.deepEqual(b!.sm, { c: '3', d: '4' });
  assert.equal(await h.value('floki_output_label_limited_total', { label: 'reason', limit: 'value_length' }), 1);
  assert.equal(await h.value('floki_output_label_limited_total', { label: 'c', limit: 'label_count' }), 1);
});

test('the disk buffer replay goes through the same limits', async (t) => {
  const storagePath = await mkdtemp(join(tmpdir(), 'floki-limits-'));
  t.after(() => rm(storagePath, { recursive: true, force: true }));
  const h = await lokiHarness(t, { labels: ['job=floki', '$reason'], 'storage.type': 'filesystem', label_overflow: 'drop' }, { storagePath });
  await h.output.write([
    { tag: 't', time: T0, record: { log: 'a', reason: 'r'.repeat(3000) } },
    { tag: 't', time: secondsToNs(1e300), record: { log: 'far' } },
  ]);
  await h.receiver.waitFor(1);
  assert.deepEqual(h.receiver.entries[0]!.labels, { job: 'floki' });
  assert.deepEqual(h.receiver.entries[0]!.sm, {});
  await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'invalid_timestamp' })) === 1, 'invalid_timestamp counted');
});

for (const storage of ['memory', 'filesystem'] as const) {
  test(`${storage}: structured metadata counts toward batch_size on the output's path`, async (t) => {
    const storagePath = storage === 'filesystem' ? await mkdtemp(join(tmpdir(), 'floki-sm-')) : undefined;
    if (storagePath) t.after(() => rm(storagePath, { recursive: true, force: true }));
    // 10-byte lines and 300 bytes of structured metadata: with the metadata counted, two entries
    // fill a 1000-byte batch (the third closes it); without it all ten fit in one, which would wait.
    const h = await lokiHarness(t, { batch_size: 1000, batch_wait: 60_000, structured_metadata: ['$trace'], drop_single_key: 'raw', 'storage.type': storage }, { storagePath });
    await h.output.write(events(10, (i) => ({ record: { log: `line ${i}`.padEnd(10, '.'), trace: 't'.repeat(300) } })));
    await h.receiver.waitFor(8);
    assert.ok(h.receiver.requestLog.every((r) => r.entries === 2), h.receiver.requestLog.map((r) => r.entries).join(','));
    assert.equal(h.receiver.entries[0]!.line, 'line 0....');
    assert.equal(h.receiver.entries[0]!.sm['trace'], 't'.repeat(300));
  });
}

test('label values of 2 MiB (event_exporter reasons) leave nothing behind in the label caches once delivered', async (t) => {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  const h = await lokiHarness(t);
  const filter = eventExporterFilter.create({}, filterContext('event_exporter.0'));
  const sample = JSON.parse(SAMPLE_EVENT_JSON) as Record<string, unknown>;
  const n = 20;
  const send = async (from: number): Promise<void> => {
    const batch: LogEvent[] = [];
    for (let i = from; i < from + n; i++) {
      // Distinct 2 MiB reasons, half as forward's msgpack bytes (the filter's shared label sets), half as records.
      const record = { ...sample, reason: `${i}`.padEnd(2 * 1024 * 1024, 'x') };
      if (i % 2 === 0) {
        const buf = pack(record);
        batch.push(new MsgpackEvent('kube.events', T0 + BigInt(i), buf, 0, buf.length));
      } else batch.push({ tag: 'kube.events', time: T0 + BigInt(i), record });
    }
    await h.output.write(processSync(filter, batch));
    await h.receiver.waitFor(n);
    // The receiver would keep the lines: let them go.
    h.receiver.entries.length = 0;
    h.receiver.requestLog.length = 0;
    await waitFor(() => h.output.queuedBytes() === 0, 'delivered');
  };
  await send(0); // warm up: code, buffers and pools reach their size
  gc();
  const before = process.memoryUsage().heapUsed;
  await send(n);
  gc();
  const kept = process.memoryUsage().heapUsed - before;
  assert.ok(kept < 16 * 1024 * 1024, `${(kept / 1048576).toFixed(1)} MiB still held after delivering ${n} events with 2 MiB label values`);
  assert.equal(await h.value('floki_output_label_limited_total', { label: 'reason', limit: 'value_length' }), 2 * n);
});
