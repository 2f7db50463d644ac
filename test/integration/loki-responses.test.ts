/**
 * What the Loki output does with each answer Loki can give, over HTTP and over gRPC, against the
 * scripted decoding receiver: what arrives, what is sent again, and what is counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { events, lokiHarness, T0 } from '../helpers/loki-harness.js';
import { waitFor } from '../helpers/wait.js';

/** Loki's own texts (grafana/loki pkg/validation/validate.go, pkg/ingester/stream.go). */
const LOKI_400: Record<string, string> = {
  out_of_order: `entry with timestamp 2026-11-25 10:00:00.123456789 +0000 UTC ignored, reason: 'entry out of order' for stream: {job="floki"},\ntotal ignored: 3 out of 3`,
  too_old: `entry for stream '{job="floki"}' has timestamp too old: 2020-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-11-18T10:00:00Z`,
  line_too_long: `Max entry size '256000' bytes exceeded for stream '{job="floki"}' while adding an entry with length '300000' bytes`,
  invalid_labels: `Error parsing labels '{job="floki", 1x="y"}' with error: 1:16: parse error: unexpected character inside braces: '1'`,
};

for (const transport of ['http', 'grpc'] as const) {
  const grpcMode = transport === 'grpc';

  test(`${transport}: 503 twice then success: delivered once, two retries and two errors counted`, async (t) => {
    const h = await lokiHarness(t, {}, { receiver: { grpc: grpcMode } });
    h.receiver.respond(503, 503);
    h.output.write(events(5));
    await h.receiver.waitFor(5);
    assert.deepEqual(h.receiver.requestLog.map((r) => r.outcome), [503, 503, 204]);
    assert.deepEqual(h.receiver.entries.map((e) => e.ts), events(5).map((e) => e.time));
    await waitFor(async () => (await h.value('floki_output_proc_records_total')) === 5, 'records_total = 5', 2000);
    assert.equal(await h.value('floki_output_retries_total'), 2);
    assert.equal(await h.value('floki_output_errors_total'), 2);
    assert.equal(await h.value('floki_output_dropped_records_total'), 0);
    assert.equal(await h.value('floki_output_batches_total'), 1);
    const histogram = await h.metrics.registry.getSingleMetric('floki_output_request_duration_seconds')!.get();
    assert.equal(histogram.values.find((v) => (v as { metricName?: string }).metricName === 'floki_output_request_duration_seconds_count')?.value, 3, 'every request timed');
  });

  test(`${transport}: 429 is retried${grpcMode ? ' (RESOURCE_EXHAUSTED)' : ', after at least its Retry-After'}`, async (t) => {
    const h = await lokiHarness(t, { retry_min_backoff: 1, retry_max_backoff: 5000 }, { receiver: { grpc: grpcMode } });
    h.receiver.respond({ status: 429, body: 'Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec)', headers: { 'Retry-After': '1' } });
    h.output.write(events(2));
    await h.receiver.waitFor(2, 5000);
    const [first, second] = h.receiver.requestLog;
    assert.deepEqual([first!.outcome, second!.outcome], [429, 204]);
    if (!grpcMode) assert.ok(second!.at - first!.at >= 950, `retried after ${Math.round(second!.at - first!.at)}ms`);
    assert.equal(await h.value('floki_output_retries_total'), 1);
    assert.equal(await h.value('floki_output_dropped_records_total'), 0);
  });

  test(`${transport}: a reset connection and a request hanging past timeout are retried`, async (t) => {
    const h = await lokiHarness(t, { timeout: 150 }, { receiver: { grpc: grpcMode } });
    h.receiver.respond('reset', 'stall');
    h.output.write(events(3));
    await h.receiver.waitFor(3, 5000);
    assert.deepEqual(h.receiver.requestLog.map((r) => r.outcome), grpcMode ? [503, 'stalled', 204] : ['reset', 'stalled', 204]);
    assert.equal(h.receiver.entries.length, 3);
    assert.equal(await h.value('floki_output_retries_total'), 2);
    assert.equal(await h.value('floki_output_errors_total'), 2);
  });

  for (const [reason, text] of Object.entries(LOKI_400)) {
    test(`${transport}: 400 ${reason}: the refused entries are never delivered, counted under ${reason}, logged once with Loki's text and a sample entry`, async (t) => {
      const h = await lokiHarness(t, {}, { receiver: { grpc: grpcMode }, capture: true });
      // Loki refuses these three entries whichever request holds them.
      h.receiver.rule = (r) => (r.received.some((e) => e.ts < T0 + 100n) ? { status: 400, body: text } : undefined);
      h.output.write(events(3));
      await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason })) === 3, `dropped ${reason} = 3`, 3000);
      // Later entries still flow; a refused entry is never sent again once it stood alone.
      h.output.write(events(1, () => ({ time: T0 + 100n })));
      await h.receiver.waitFor(1, 3000);
      // too_old names the oldest time Loki takes: all three are past it, set aside at once. Otherwise
      // the batch goes again in halves ([1] and [2], then [1] and [1]) until each stands alone.
      const isolation = reason === 'too_old' ? 0 : 4;
      assert.equal(h.receiver.requests, 2 + isolation);
      assert.deepEqual(h.receiver.entries.map((e) => e.ts), [T0 + 100n]);
      assert.equal(await h.value('floki_output_retries_total'), 0);
      assert.equal(await h.value('floki_output_errors_total'), 1 + isolation);
      const errors = h.logLines.filter((l) => l.includes('"level":50')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!['reason'], reason);
      assert.ok(String(errors[0]!['msg']).includes(text.split('\n')[0]!), String(errors[0]!['msg']));
      assert.deepEqual(errors[0]!['sample'], { labels: '{job="floki"}', ts: String(T0), line: '{"log":"line 0"}' });
    });
  }

  test(`${transport}: an unrecognised 400 and other 4xx are dropped as http_<status>; 5xx after retry_limit as retry_limit`, async (t) => {
    const h = await lokiHarness(t, { retry_limit: '1' }, { receiver: { grpc: grpcMode } });
    // A 400 is sent again in halves until each refused entry stands alone (see loki-reliability.test.ts).
    h.receiver.rule = (r) => (r.received.some((e) => e.ts < T0 + 10n) ? { status: 400, body: 'something new' } : undefined);
    h.receiver.respond(401, 500, 500);
    h.output.write(events(2));
    await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'http_400' })) === 2, 'http_400', 3000);
    h.output.write(events(3, (i) => ({ time: T0 + 10n + BigInt(i) })));
    await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'http_401' })) === 3, 'http_401', 3000);
    h.output.write(events(4, (i) => ({ time: T0 + 20n + BigInt(i) })));
    await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'retry_limit' })) === 4, 'retry_limit', 3000);
    assert.deepEqual(h.receiver.requestLog.map((r) => r.outcome), [400, 400, 400, 401, 500, 500]);
    assert.equal(h.receiver.entries.length, 0);
  });
}

test("grpc: Loki's httpgrpc codes (the HTTP status as the gRPC code) are read as that status", async (t) => {
  const h = await lokiHarness(t, {}, { receiver: { grpc: true } });
  h.receiver.respond({ status: 429, grpcCode: 429, body: 'Ingestion rate limit exceeded' }, { status: 400, grpcCode: 400, body: LOKI_400['too_old']! });
  h.output.write(events(2));
  await waitFor(async () => (await h.value('floki_output_dropped_records_total', { reason: 'too_old' })) === 2, 'too_old after a retried 429', 3000);
  assert.deepEqual(h.receiver.requestLog.map((r) => r.outcome), [429, 400]);
  assert.equal(await h.value('floki_output_retries_total'), 1);
});

test('grpc: metadata carries the tenant, auth and extra headers; the body is the plain PushRequest', async (t) => {
  const h = await lokiHarness(t, { tenant_id: 'team-a', bearer_token: 's3cret', header: ['X-Extra one'] }, { receiver: { grpc: true } });
  h.output.write(events(2));
  await h.receiver.waitFor(2);
  const r = h.receiver.requestLog[0]!;
  assert.equal(r.encoding, 'grpc');
  assert.equal(r.tenant, 'team-a');
  assert.equal(r.headers['authorization'], 'Bearer s3cret');
  assert.equal(r.headers['x-extra'], 'one');
  assert.match(String(r.headers['user-agent']), /floki\//);
  assert.equal(grpc.status.OK, 0);
});
