/**
 * Entry arenas (issue #12, W2): a batch written as bytes and printed and encoded by the push worker
 * must give exactly the body the string path gives: the same lines (JSON.stringify's escapes, the
 * shared maps' texts), times, streams, order and structured metadata, whether the thread or the main
 * thread encodes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import pino from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { OutputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { LokiOutput, resolveLokiConfig } from '../../src/outputs/loki/index.js';
import type { PushTransport } from '../../src/outputs/loki/batch-sender.js';
import type { PushOutcome } from '../../src/outputs/loki/http-transport.js';
import { EntryArena } from '../../src/outputs/loki/entry-arena.js';
import { encodeArenaInline } from '../../src/outputs/loki/arena-encoding.js';
import { PushRequestEncoder, type LokiEntry } from '../../src/outputs/loki/encoder.js';
import { freezeShared } from '../../src/labels/shared-map.js';
import { decodeProtobuf, decodePushBody, type ReceivedEntry } from '../helpers/loki-receiver.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

class Capture implements PushTransport {
  readonly bodies: Uint8Array[] = [];
  async push(body: Uint8Array): Promise<PushOutcome> {
    this.bodies.push(body);
    return { status: 204, body: '' };
  }
  close(): void {}
}

async function send(events: LogEvent[], arena: boolean, options: Record<string, unknown>, offloadMinBytes?: number): Promise<ReceivedEntry[]> {
  const transport = new Capture();
  const ctx: OutputContext = { name: 'loki.t', log: pino({ level: 'silent' }), metrics: new Metrics(), service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(), setFull: () => {} };
  const output = new LokiOutput(resolveLokiConfig({ batch_wait: 3_600_000, ...options }), ctx, { transport, arena, compressor: offloadMinBytes === undefined ? undefined : { offloadMinBytes }, arenaThreadBatches: offloadMinBytes === undefined ? undefined : 1 });
  await output.start();
  await output.write(events);
  await output.stop(5000);
  const entries = transport.bodies.flatMap((b) => decodePushBody(b));
  return entries.map((e) => ({ ...e, labels: { ...e.labels } }));
}

const kube = freezeShared({ pod_name: 'web-1', namespace_name: 'shop', container_name: 'web', container_id: 'c'.repeat(64) });
const other = freezeShared({ pod_name: 'api-1', namespace_name: 'shop', container_name: 'api', container_id: 'd'.repeat(64) });

function events(): LogEvent[] {
  const logs = ['plain text', 'quotes "a" and \\ back', 'tabs\tnew\nline\r\u0001\u001f\u007f', 'ünïcødé ✓ 🌍', '', 'lone \ud800 surrogate', '{"level":"info","msg":"x"}'];
  const out: LogEvent[] = [];
  let t = 1_700_000_000_000_000_000n;
  for (let i = 0; i < 40; i++) {
    const log = logs[i % logs.length]!;
    const k = i % 3 === 0 ? other : kube;
    // Out of time order now and then (two files of one stream).
    t += i % 5 === 0 ? -3n : 1_000_000n;
    const record: Record<string, unknown> =
      i % 7 === 3 ? { stream: 'stderr', log, n: i, f: 1.5, nan: NaN, b: true, z: null, u: undefined, kubernetes: k } : i % 11 === 5 ? { log, nested: { a: [1, 'x'] }, kubernetes: k } : { stream: 'stdout', log, kubernetes: k };
    out.push({ tag: 'kube.x', time: t, record });
  }
  out.push({ tag: 'kube.x', time: t + 5n, record: { log: 'no shared map', kubernetes: { pod_name: 'p', namespace_name: 'n', container_name: 'c' } } });
  out.push({ tag: 'kube.x', time: t + 6n, record: { log: 'a filter fixed it' }, line: 'the line as a filter fixed it "q"' });
  // Maps and lists in the record (merge_log's), one JSON.stringify cannot print (a bigint), one with a toJSON.
  out.push({ tag: 'kube.x', time: t + 7n, record: { log: 'merged', level: 'info', ctx: { user: 'u "1"', ids: [1, 2, { x: null }] }, kubernetes: kube } });
  out.push({ tag: 'kube.x', time: t + 8n, record: { log: 'big', ctx: { n: 12345678901234567890n }, kubernetes: kube } });
  out.push({ tag: 'kube.x', time: t + 9n, record: { log: 'date', at: new Date(0), kubernetes: kube } });
  return out;
}

const W2_LABELS = { labels: ["namespace=$kubernetes['namespace_name']", "pod=$kubernetes['pod_name']", "container=$kubernetes['container_name']"] };

for (const [name, options] of [
  ['W2 labels', W2_LABELS],
  ['structured metadata, remove_keys, small batches', { ...W2_LABELS, structured_metadata: ['stream=$stream'], remove_keys: ['$n'], batch_size: 2000 }],
  ['max_line_size cutting lines', { ...W2_LABELS, max_line_size: 40 }],
] as const) {
  test(`entry arenas give the string path's entries: ${name}`, async () => {
    const want = await send(events(), false, options);
    assert.ok(want.length > 40);
    assert.deepEqual(await send(events(), true, options), want, 'encoded on the main thread');
    assert.deepEqual(await send(events(), true, options, 1), want, 'encoded on the thread');
  });
}

test('arena encoding equals PushRequestEncoder for any strings, times and streams', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ stream: fc.nat(3), ts: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), log: fc.string({ unit: 'binary' }), raw: fc.string({ unit: 'grapheme' }), sm: fc.option(fc.dictionary(fc.string(), fc.string())) }), { minLength: 1, maxLength: 30 }),
      (items) => {
        const arena = new EntryArena();
        const streams = new Map<string, LokiEntry[]>();
        for (const it of items) {
          const labels = `{s="${it.stream}"}`;
          arena.begin(labels, it.ts);
          arena.text('{"log":');
          arena.string(it.log);
          arena.raw(it.raw);
          arena.text('}');
          const sm = it.sm ?? undefined;
          const counted = arena.end(sm);
          const line = `{"log":${JSON.stringify(it.log)}${it.raw}}`;
          // batch_size and the memory bounds count this: the line's bytes as printed, escapes included.
          assert.equal(counted, Buffer.byteLength(line), 'end() counts the printed bytes');
          let list = streams.get(labels);
          if (list === undefined) streams.set(labels, (list = []));
          list.push({ ts: it.ts, line, sm });
        }
        const got = decodeProtobuf(encodeArenaInline(arena.buf, arena.length, arena.dict, arena.labels));
        const want = decodeProtobuf(new PushRequestEncoder().encode(streams));
        assert.deepEqual(got, want);
        arena.release();
      },
    ),
    { numRuns: 200 },
  );
});

test("every arena batch carries a sample entry for the sender's log lines, a batch opened by a split too", async () => {
  const transport = new Capture();
  const ctx: OutputContext = { name: 'loki.t', log: pino({ level: 'silent' }), metrics: new Metrics(), service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(), setFull: () => {} };
  const output = new LokiOutput(resolveLokiConfig({ batch_wait: 3_600_000, batch_size: 2000, ...W2_LABELS }), ctx, { transport, arena: true });
  const samples: ({ ts: bigint; line: string } | undefined)[] = [];
  const sender = (output as unknown as { sender: { enqueue(batch: { arena?: EntryArena }): void } }).sender;
  const enqueue = sender.enqueue.bind(sender);
  sender.enqueue = (batch) => {
    samples.push(batch.arena?.sample);
    enqueue(batch);
  };
  await output.start();
  await output.write(events());
  await output.stop(5000);
  assert.ok(samples.length > 3, `batches split by batch_size (${samples.length})`);
  samples.forEach((s, i) => {
    assert.ok(s !== undefined && s.ts > 0n && s.line.length > 0, `batch ${i} has a sample: ${JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
  });
});

test('a line cut to max_line_size counts once in floki_output_truncated_records_total, the first of a batch too', async () => {
  const metrics = new Metrics();
  const transport = new Capture();
  const ctx: OutputContext = { name: 'loki.t', log: pino({ level: 'silent' }), metrics, service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(), setFull: () => {} };
  const output = new LokiOutput(resolveLokiConfig({ batch_wait: 3_600_000, max_line_size: 40, ...W2_LABELS }), ctx, { transport, arena: true });
  await output.start();
  const long = Array.from({ length: 5 }, (_, i): LogEvent => ({ tag: 'kube.x', time: 1_700_000_000_000_000_000n + BigInt(i), record: { log: 'x'.repeat(100), kubernetes: kube } }));
  await output.write(long);
  await output.stop(5000);
  const text = await metrics.registry.metrics();
  const counted = /^floki_output_truncated_records_total\{[^}]*\} (\d+)$/m.exec(text);
  assert.equal(counted?.[1], '5', text.split('\n').filter((l) => l.includes('truncated')).join('\n'));
});
