import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compress } from 'snappyjs';
import { PushRequestEncoder, sortByTime, toTimestamp, type LokiEntry } from '../../src/outputs/loki/encoder.js';
import { loadPushProto, PROTO_DIR } from '../../src/outputs/loki/push-proto.js';
import { decodeProtobuf, decodePushBody, parseLabelString, snappyUncompress } from '../helpers/loki-receiver.js';

test('timestamps split exactly into seconds and nanos', () => {
  assert.deepEqual(toTimestamp(1_700_000_000_123_456_789n), { seconds: 1_700_000_000, nanos: 123_456_789 });
  assert.deepEqual(toTimestamp(0n), { seconds: 0, nanos: 0 });
  assert.deepEqual(toTimestamp(999_999_999n), { seconds: 0, nanos: 999_999_999 });
  assert.deepEqual(toTimestamp(-1n), { seconds: -1, nanos: 999_999_999 });
});

test('sortByTime is stable and leaves sorted input alone', () => {
  const entries: LokiEntry[] = [
    { ts: 3n, line: 'c' },
    { ts: 1n, line: 'a1' },
    { ts: 2n, line: 'b' },
    { ts: 1n, line: 'a2' },
  ];
  sortByTime(entries);
  assert.deepEqual(entries.map((e) => e.line), ['a1', 'a2', 'b', 'c']);
});

test('push.proto loads from the package root, with the Pusher service and Timestamp import', () => {
  assert.match(PROTO_DIR, /proto$/);
  const proto = loadPushProto();
  assert.ok(proto.Pusher.methods['Push']);
  assert.equal(proto.root.lookupType('google.protobuf.Timestamp').fields['seconds']!.type, 'int64');
});

test('round trip: encoded body decodes with the receiver’s own snappy and schema', () => {
  const encoder = new PushRequestEncoder();
  const streams = new Map<string, LokiEntry[]>([
    [
      '{job="floki", namespace="prod"}',
      [
        { ts: 1_700_000_000_000_000_002n, line: 'second' },
        { ts: 1_700_000_000_000_000_001n, line: 'first ünïcødé ✓' },
      ],
    ],
    ['{job="floki", msg="a \\"q\\""}', [{ ts: 1_700_000_001_999_999_999n, line: 'x'.repeat(100_000) }]],
  ]);
  const body = compress(encoder.encode(streams));
  const entries = decodePushBody(body, 'tenant-a');
  assert.equal(entries.length, 3);
  assert.deepEqual(
    entries.map((e) => [e.labelString, e.ts, e.line.length > 50 ? e.line.length : e.line, e.tenant]),
    [
      ['{job="floki", namespace="prod"}', 1_700_000_000_000_000_001n, 'first ünïcødé ✓', 'tenant-a'],
      ['{job="floki", namespace="prod"}', 1_700_000_000_000_000_002n, 'second', 'tenant-a'],
      ['{job="floki", msg="a \\"q\\""}', 1_700_000_001_999_999_999n, 100_000, 'tenant-a'],
    ],
  );
  assert.deepEqual(entries[2]!.labels, { job: 'floki', msg: 'a "q"' });
});

test('the receiver’s snappy decoder agrees with snappyjs on varied input', () => {
  const samples: Uint8Array[] = [new Uint8Array(0), Buffer.from('a'), Buffer.from('abcabcabcabcabcabcabcabcabcabc'.repeat(1000))];
  let seed = 7;
  const rnd = new Uint8Array(70_000);
  for (let i = 0; i < rnd.length; i++) rnd[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  samples.push(rnd);
  for (const s of samples) assert.deepEqual(Buffer.from(snappyUncompress(compress(s))), Buffer.from(s));
});

test('parseLabelString reads escapes and rejects junk', () => {
  assert.deepEqual(parseLabelString('{a="b", c="d\\"e\\\\f\\ng"}'), { a: 'b', c: 'd"e\\f\ng' });
  assert.deepEqual(parseLabelString('{}'), {});
  assert.throws(() => parseLabelString('{a=b}'));
});

test('the compression thread gives the same bytes back as snappy; inline below the threshold', async () => {
  const { SnappyCompressor } = await import('../../src/outputs/loki/snappy-compressor.js');
  const threaded = new SnappyCompressor({ offloadMinBytes: 1024 });
  const small = Buffer.from('small body '.repeat(10));
  const big = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i * 7919} `).join(''));
  const outs = await Promise.all([threaded.compress(big), threaded.compress(small), threaded.compress(big)]);
  assert.deepEqual(outs.map((o) => Buffer.from(snappyUncompress(o)).toString()), [big.toString(), small.toString(), big.toString()]);
  await threaded.close();
  // After close (or if the thread died) compression carries on inline.
  assert.equal(Buffer.from(snappyUncompress(await threaded.compress(big))).toString(), big.toString());
  const inline = new SnappyCompressor({ useWorker: false });
  assert.equal(Buffer.from(snappyUncompress(await inline.compress(big))).toString(), big.toString());
});

test('each codec decodes its own bodies back to the same streams (a split batch is decoded again)', async () => {
  const { JsonGzipCodec, ProtobufCodec, ProtobufSnappyCodec } = await import('../../src/outputs/loki/body-codec.js');
  const streams = new Map<string, LokiEntry[]>([
    ['{job="floki", msg="tab\there \\"q\\" \\\\ end"}', [{ ts: 1_700_000_000_000_000_001n, line: 'ünïcødé ✓', sm: { uid: 'f1e2', name: 'web-1' } }]],
    ['{job="floki"}', [{ ts: 1n, line: 'a' }, { ts: 1_700_000_001_999_999_999n, line: 'b' }]],
  ]);
  for (const codec of [new ProtobufSnappyCodec({ useWorker: false }), new ProtobufCodec(), new JsonGzipCodec()]) {
    const decoded = await codec.decode(await codec.encode(streams));
    assert.deepEqual(
      [...decoded].map(([labels, entries]) => [labels, entries.map((e) => [e.ts, e.line, e.sm])]),
      [...streams].map(([labels, entries]) => [labels, entries.map((e) => [e.ts, e.line, e.sm])]),
      codec.constructor.name,
    );
    await codec.close();
  }
});

test('the encoder writes every field the receiver’s own schema reads: metadata, edge timestamps, empty lines, many entries', () => {
  const encoder = new PushRequestEncoder();
  const edge: LokiEntry[] = [
    { ts: -1n, line: 'before the epoch' },
    { ts: 0n, line: '' },
    { ts: 5n, line: 'nanos only', sm: { trace_id: 'abc', empty: '', 'ünï': 'cødé ✓' } },
    { ts: 1_700_000_000_000_000_000n, line: 'seconds only', sm: {} },
    { ts: 2n ** 62n, line: 'far future, lone surrogate \ud800 becomes U+FFFD' },
  ];
  const many: LokiEntry[] = Array.from({ length: 3000 }, (_, i) => ({ ts: 1_700_000_000_000_000_000n + BigInt(i), line: `line ${i} ${'x'.repeat(i % 300)}` }));
  // Twice on one encoder: the second call reuses (and grows) the per-entry scratch arrays.
  for (let round = 0; round < 2; round++) {
    const raw = encoder.encode(new Map([['{a="1"}', edge], ['{b="2"}', many]]));
    const got = decodeProtobuf(raw);
    assert.equal(got.length, edge.length + many.length);
    assert.deepEqual(
      got.slice(0, edge.length).map((e) => [e.labelString, e.ts, e.line, e.sm]),
      edge.map((e) => ['{a="1"}', e.ts, e.line.replace('\ud800', '\ufffd'), e.sm ?? {}]),
    );
    assert.deepEqual(
      got.slice(edge.length).map((e) => [e.labelString, e.ts, e.line]),
      many.map((e) => ['{b="2"}', e.ts, e.line]),
    );
  }
});
