/**
 * Issue #11 at a decoding receiver: whatever one record holds (its depth, its time, its label values),
 * every acked record reaches Loki or is counted with its reason, and nobody else's entries are lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Delivery } from '../../src/core/delivery.js';
import type { LogEvent } from '../../src/core/event.js';
import { deepRecord, events, lokiHarness, T0 } from '../helpers/loki-harness.js';
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
