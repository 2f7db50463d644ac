/**
 * The sender's scheduling with a transport the test answers by hand: `workers` requests in flight,
 * each stream's batches strictly one after the other, and no head-of-line blocking: a batch waiting
 * for its retry holds no worker, a 429 naming streams holds back only those, a tenant's rate limit
 * holds back only that tenant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { OutputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { LokiOutput, resolveLokiConfig } from '../../src/outputs/loki/index.js';
import type { PushTransport } from '../../src/outputs/loki/batch-sender.js';
import type { PushOutcome } from '../../src/outputs/loki/http-transport.js';
import { decodePushBody, type ReceivedEntry } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

interface Pending {
  body: Uint8Array;
  tenant: string | undefined;
  entries: ReceivedEntry[];
  answer(o: PushOutcome): void;
}

/** A transport whose requests stay pending until the test answers them. */
class HeldTransport implements PushTransport {
  readonly pending: Pending[] = [];
  closed = false;
  push(body: Uint8Array, tenant?: string): Promise<PushOutcome> {
    return new Promise((resolve) => this.pending.push({ body, tenant, entries: decodePushBody(body, tenant), answer: resolve }));
  }
  close(): void {
    this.closed = true;
    for (const p of this.pending.splice(0)) p.answer({ status: 0, body: '', error: new Error('closed') });
  }
  /** Answers (and removes) the pending request whose entries satisfy `which`. */
  answer(which: (p: Pending) => boolean, outcome: PushOutcome = { status: 204, body: '' }): Pending {
    const i = this.pending.findIndex(which);
    assert.ok(i >= 0, 'a pending request matches');
    const [p] = this.pending.splice(i, 1);
    p!.answer(outcome);
    return p!;
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(options: Record<string, unknown>): { output: LokiOutput; transport: HeldTransport; metrics: Metrics } {
  const transport = new HeldTransport();
  const metrics = new Metrics();
  const ctx: OutputContext = { name: 'loki.w', log: pino({ level: 'silent' }), metrics, service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(), setFull: () => {} };
  const output = new LokiOutput(resolveLokiConfig({ batch_wait: 3_600_000, labels: ['job=floki', '$app'], ...options }), ctx, { transport, random: () => 0 });
  return { output, transport, metrics };
}

/** One event that closes a batch on its own (line + overhead > 64 bytes) when batch_size is 64. */
const ev = (app: string, i: number, extra: Partial<LogEvent> = {}): LogEvent => ({ tag: 't', time: BigInt(i), record: { app, log: `${i}`.repeat(60) }, ...extra });
const appOf = (p: Pending) => p.entries[0]!.labels['app'];

test('at most `workers` requests are in flight; distinct streams go in parallel', async () => {
  const { output, transport } = setup({ workers: 2, batch_size: 64 });
  for (let i = 0; i < 5; i++) output.write([ev(`app${i}`, i)]);
  await tick();
  assert.equal(transport.pending.length, 2);
  transport.answer(() => true);
  await tick();
  assert.equal(transport.pending.length, 2);
  while (transport.pending.length > 0) {
    transport.answer(() => true);
    await tick();
  }
  await output.stop(1000);
  assert.equal(output.queuedBytes(), 0);
  assert.equal(transport.closed, true);
});

test("a stream's batches never overlap, so its entries arrive in time order, whatever the workers", async () => {
  const { output, transport } = setup({ workers: 4, batch_size: 64 });
  for (let i = 0; i < 6; i++) output.write([ev('one', i), ev(`other${i}`, 100 + i)]);
  await tick();
  // Four workers: the first batch of 'one' plus other streams; never two of 'one' at once.
  const arrived: bigint[] = [];
  for (let rounds = 0; rounds < 50 && (transport.pending.length > 0 || arrived.length < 6); rounds++) {
    const ones = transport.pending.filter((p) => appOf(p) === 'one');
    assert.ok(ones.length <= 1, `${ones.length} batches of one stream in flight`);
    assert.ok(transport.pending.length <= 4);
    // Answer the newest request first, to tempt any reordering.
    const p = transport.pending[transport.pending.length - 1];
    if (p === undefined) break;
    if (appOf(p) === 'one') arrived.push(p.entries[0]!.ts);
    transport.answer((x) => x === p);
    await tick();
  }
  assert.deepEqual(arrived, [0n, 1n, 2n, 3n, 4n, 5n]);
  await output.stop(1000);
});

test('streams are sharded over the workers: batches of a write touching every stream still go in parallel', async () => {
  const { output, transport } = setup({ workers: 4, batch_size: 2048 });
  let peak = 0;
  for (let round = 0; round < 6; round++) {
    output.write(Array.from({ length: 32 }, (_, s) => ev(`app${s}`, round * 100 + s)));
    await tick();
    peak = Math.max(peak, transport.pending.length);
  }
  assert.ok(peak >= 3, `${peak} requests in flight at most`);
  for (const p of transport.pending) {
    const apps = new Set(p.entries.map((e) => e.labels['app']));
    for (const q of transport.pending) if (q !== p) for (const e of q.entries) assert.ok(!apps.has(e.labels['app']), 'no stream in two requests at once');
  }
  while (transport.pending.length > 0) {
    transport.answer(() => true);
    await tick();
  }
  await output.stop(1000);
});

test('a batch waiting for its retry holds no worker: other streams flow with workers 1', async () => {
  const { output, transport, metrics } = setup({ workers: 1, batch_size: 64, retry_min_backoff: 60_000, retry_max_backoff: 60_000 });
  output.write([ev('down', 0)]);
  await tick();
  transport.answer(() => true, { status: 503, body: 'unavailable' });
  for (let i = 1; i <= 3; i++) output.write([ev('up', i)]);
  for (let i = 1; i <= 3; i++) {
    await waitFor(() => transport.pending.length === 1, `request ${i} of the other stream`, 2000);
    assert.equal(appOf(transport.pending[0]!), 'up');
    transport.answer(() => true);
  }
  // The failed stream's next batch waits behind its retry: its entries stay in order.
  output.write([ev('down', 4)]);
  await tick();
  await tick();
  assert.equal(transport.pending.length, 0);
  assert.equal(await metrics.value('floki_output_proc_records_total'), 3);
  await output.stop(50);
});

test("a 429 naming streams holds back only those; the others are sent again at once and keep flowing", async () => {
  const { output, transport, metrics } = setup({ workers: 1, batch_wait: 1, retry_min_backoff: 60_000, retry_max_backoff: 60_000 });
  output.write([ev('hot', 1), ev('calm', 2), ev('quiet', 3)]);
  await waitFor(() => transport.pending.length === 1, 'the first batch', 2000);
  const hot = transport.pending[0]!.entries.find((e) => e.labels['app'] === 'hot')!.labelString;
  transport.answer(() => true, {
    status: 429,
    body: `Per stream rate limit exceeded (limit: 3MB/sec) while attempting to ingest for stream '${hot}' totaling 2MB, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased`,
  });
  await waitFor(() => transport.pending.length === 1, 'the other streams sent again', 2000);
  assert.deepEqual(transport.pending[0]!.entries.map((e) => e.labels['app']).sort(), ['calm', 'quiet']);
  transport.answer(() => true);
  // A later batch mixing the held stream with others: the others go, the held stream waits its turn.
  output.write([ev('calm', 4), ev('hot', 5)]);
  await waitFor(() => transport.pending.length === 1, 'the free part of the next batch', 2000);
  assert.deepEqual(transport.pending[0]!.entries.map((e) => [e.labels['app'], e.ts]), [['calm', 4n]]);
  transport.answer(() => true);
  await waitFor(async () => (await metrics.value('floki_output_proc_records_total')) === 3, 'three delivered', 2000);
  assert.equal(transport.pending.length, 0, 'the rate-limited stream waits for its backoff');
  assert.equal(await metrics.value('floki_output_retries_total'), 1);
  await output.stop(20);
});

test("a tenant's rate limit (429 naming no stream) holds back that tenant only", async () => {
  const { output, transport, metrics } = setup({ workers: 1, batch_wait: 1, tenant_id_key: 'team', retry_min_backoff: 60_000, retry_max_backoff: 60_000 });
  output.write([ev('a', 1, { record: { app: 'a', team: 'busy', log: 'x' } })]);
  await waitFor(() => transport.pending.length === 1, 'the busy tenant', 2000);
  assert.equal(transport.pending[0]!.tenant, 'busy');
  transport.answer(() => true, {
    status: 429,
    body: "Ingestion rate limit exceeded for user busy (limit: 4194304 bytes/sec) while attempting to ingest '1' lines totaling '1' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
  });
  // New streams of the busy tenant wait with it; the other tenant flows.
  output.write([ev('b', 2, { record: { app: 'b', team: 'busy', log: 'y' } }), ev('c', 3, { record: { app: 'c', team: 'calm', log: 'z' } })]);
  await waitFor(() => transport.pending.length === 1, 'the calm tenant', 2000);
  assert.equal(transport.pending[0]!.tenant, 'calm');
  transport.answer(() => true);
  await tick();
  await tick();
  assert.equal(transport.pending.length, 0);
  assert.equal(await metrics.value('floki_output_proc_records_total'), 1);
  await output.stop(20);
});
