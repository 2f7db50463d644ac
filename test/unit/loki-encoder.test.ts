import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compress } from 'snappyjs';
import { ArenaLine, clampTimestampNs, MAX_TIMESTAMP_NS, MIN_TIMESTAMP_NS, PushRequestEncoder, sortByTime, timestampInRange, toTimestamp, type LokiEntry } from '../../src/outputs/loki/encoder.js';
import { JsonPushEncoder } from '../../src/outputs/loki/json-encoder.js';
import { loadPushProto, PROTO_DIR } from '../../src/outputs/loki/push-proto.js';
import { decodeJsonPush, decodeProtobuf, decodePushBody, parseLabelString, snappyUncompress } from '../helpers/loki-receiver.js';

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

test('a time Loki cannot hold (2^70 s, 1e300 s, before year 1) is clamped to its range: the message still decodes, and so does every other entry', () => {
  // Issue #11: seconds of 2^70 took an 11-byte varint; Loki answered 400 "invalid varint encoding"
  // to the whole push and ~950 entries of other clients were dropped with it.
  const bad: bigint[] = [2n ** 70n * 1_000_000_000n, BigInt(1e300) * 1_000_000_000n, -(10n ** 30n), MAX_TIMESTAMP_NS + 1n, MIN_TIMESTAMP_NS - 1n];
  const good: LokiEntry[] = Array.from({ length: 950 }, (_, i) => ({ ts: 1_700_000_000_000_000_000n + BigInt(i), line: `ok ${i}` }));
  const streams = new Map<string, LokiEntry[]>([
    ['{job="bad"}', bad.map((ts, i) => ({ ts, line: `bad ${i}` }))],
    ['{job="good"}', good],
  ]);
  const got = decodeProtobuf(new PushRequestEncoder().encode(streams));
  assert.equal(got.length, bad.length + good.length);
  const badGot = new Map(got.filter((e) => e.labels['job'] === 'bad').map((e) => [e.line, e.ts]));
  bad.forEach((ts, i) => assert.equal(badGot.get(`bad ${i}`), clampTimestampNs(ts), `bad ${i}`));
  assert.ok([...badGot.values()].every((ts) => timestampInRange(ts)));
  assert.deepEqual(got.filter((e) => e.labels['job'] === 'good').map((e) => e.ts), good.map((e) => e.ts));

  const json = new JsonPushEncoder().encode(streams).toString('utf8');
  const fromJson = decodeJsonPush(json);
  assert.ok(fromJson.every((e) => timestampInRange(e.ts)));
  assert.equal(fromJson.length, bad.length + good.length);
});

test('whatever the entries, the encoder writes a PushRequest the receiver’s own schema decodes to the same entries (seeded random)', () => {
  const random = seeded(20261125);
  const encoder = new PushRequestEncoder();
  for (let round = 0; round < 200; round++) {
    const streams = new Map<string, LokiEntry[]>();
    const nStreams = 1 + Math.floor(random() * 4);
    for (let s = 0; s < nStreams; s++) {
      const entries: LokiEntry[] = [];
      const n = Math.floor(random() * 20);
      for (let i = 0; i < n; i++) {
        const sm = random() < 0.3 ? { [randomText(random, 8) || 'k']: randomText(random, 30) } : undefined;
        entries.push({ ts: randomTime(random), line: randomText(random, 200), sm });
      }
      streams.set(`{s="${s}"}`, entries);
    }
    const expected = [...streams].flatMap(([labels, entries]) => entries.map((e) => [labels, clampTimestampNs(e.ts), utf8(e.line)] as const));
    const got = decodeProtobuf(encoder.encode(streams)).map((e) => [e.labelString, e.ts, e.line] as const);
    const key = (x: readonly [string, bigint, string]) => `${x[0]}|${x[1]}|${x[2]}`;
    assert.deepEqual(got.map(key).sort(), expected.map(key).sort());
  }
});

test('entries that carry their line\'s UTF-8 length (the output counted it) encode to the same bytes as entries that do not', () => {
  const random = seeded(20261202);
  const encoder = new PushRequestEncoder();
  for (let round = 0; round < 100; round++) {
    const plain = new Map<string, LokiEntry[]>();
    const counted = new Map<string, LokiEntry[]>();
    for (let s = 0; s < 3; s++) {
      const entries: LokiEntry[] = [];
      for (let i = Math.floor(random() * 30); i > 0; i--) entries.push({ ts: randomTime(random), line: randomText(random, 300) });
      plain.set(`{s="${s}"}`, entries);
      counted.set(`{s="${s}"}`, entries.map((e) => ({ ...e, lineBytes: Buffer.byteLength(e.line) })));
    }
    assert.deepEqual(encoder.encode(counted), encoder.encode(plain));
  }
});

test('ASCII lines (copied as latin1) and lines with any other character (encoded as UTF-8) decode to their text', () => {
  const lines = ['plain ascii', '', 'del \u007f and nul \u0000', 'é latin1 but not ASCII', 'ÿ', '日本語', 'emoji 🚀', 'lone \ud800', '\u0080'];
  const entries: LokiEntry[] = lines.map((line, i) => ({ ts: 1_700_000_000_000_000_000n + BigInt(i), line, lineBytes: Buffer.byteLength(line) }));
  const got = decodeProtobuf(new PushRequestEncoder().encode(new Map([['{a="1"}', entries]])));
  assert.deepEqual(got.map((e) => e.line), lines.map(utf8));
});

test('arena lines (bytes in shared chunks, copied a chunk range at a time) encode to the same bytes as the same lines given as strings (seeded random)', () => {
  const random = seeded(20261203);
  const encoder = new PushRequestEncoder();
  // Where the body goes: a plain buffer, a view of shared memory at offset 0 (as the compressor's slots), a view at an offset.
  const shared = new SharedArrayBuffer(4 * 1024 * 1024);
  const pool = Buffer.allocUnsafeSlow(4 * 1024 * 1024 + 100);
  const allocators: ((size: number) => Buffer)[] = [(size) => Buffer.allocUnsafe(size), (size) => Buffer.from(shared, 0, size), (size) => pool.subarray(100, 100 + size)];
  for (let round = 0; round < 300; round++) {
    // Small chunks make many per batch; wide gaps (other batches' lines) make the chunk ranges outgrow the message.
    const chunkBytes = [256, 4096, 65536][Math.floor(random() * 3)]!;
    const gapMax = random() < 0.3 ? 20_000 : random() < 0.5 ? 40 : 0;
    const chunks: Buffer[] = [];
    let chunk = Buffer.alloc(0);
    let pos = 0;
    const arenaLine = (ts: bigint, line: string, sm: Record<string, string> | undefined): ArenaLine => {
      const bytes = Buffer.from(line, 'utf8');
      pos += Math.floor(random() * gapMax);
      if (random() < 0.05) {
        // A line alone in a chunk of its exact size (as an outsized line's).
        const own = Buffer.from(bytes);
        return new ArenaLine(ts, own, 0, own.length, sm);
      }
      if (chunks.length === 0 || pos + bytes.length > chunk.length || random() < 0.02) {
        chunk = Buffer.alloc(Math.max(chunkBytes, bytes.length), 0xee);
        chunks.push(chunk);
        pos = 0;
      }
      bytes.copy(chunk, pos);
      const e = new ArenaLine(ts, chunk, pos, bytes.length, sm);
      pos += bytes.length;
      return e;
    };
    const arena = new Map<string, LokiEntry[]>();
    const strings = new Map<string, LokiEntry[]>();
    const nStreams = 1 + Math.floor(random() * 4);
    for (let s = 0; s < nStreams; s++) {
      arena.set(`{s="${s}", v="ü${s}"}`, []);
      strings.set(`{s="${s}", v="ü${s}"}`, []);
    }
    // Streams' lines interleave in the arena as they arrive: a stream's chunks are shared with the others'.
    const n = Math.floor(random() * (random() < 0.2 ? 6000 : 150));
    let ts = 1_700_000_000_000_000_000n;
    for (let i = 0; i < n; i++) {
      const s = Math.floor(random() * nStreams);
      const a = arena.get(`{s="${s}", v="ü${s}"}`)!;
      const t = strings.get(`{s="${s}", v="ü${s}"}`)!;
      // Mostly in order, some ties, some out of order, some outside Loki's range.
      const r = random();
      ts = r < 0.6 ? ts + BigInt(Math.floor(random() * 2e9)) : r < 0.75 ? ts : r < 0.95 ? ts - BigInt(Math.floor(random() * 1e9)) : randomTime(random);
      const line = random() < 0.1 ? '' : random() < 0.7 ? 'x'.repeat(Math.floor(random() * 400)) + i : randomText(random, 400);
      const sm = random() < 0.2 ? { trace_id: randomText(random, 10), [randomText(random, 5) || 'k']: randomText(random, 20) } : undefined;
      // Line's lengths are as the output gives them: counted, or (strings) not.
      if (random() < 0.1) a.push({ ts, line, sm });
      else a.push(arenaLine(ts, line, sm));
      t.push({ ts, line, sm });
    }
    const allocate = allocators[round % allocators.length]!;
    const want = Buffer.from(encoder.encode(strings));
    const got = Buffer.from(encoder.encode(arena, allocate));
    assert.ok(got.equals(want), `round ${round}: arena and string bodies differ`);
    assert.equal(decodeProtobuf(got).length, [...arena.values()].reduce((n, e) => n + e.length, 0));
  }
});

/** A time from anywhere: near now, near the int64 edges, or astronomically far, either sign. */
function randomTime(random: () => number): bigint {
  const pick = random();
  const sign = random() < 0.5 ? -1n : 1n;
  if (pick < 0.4) return 1_700_000_000_000_000_000n + BigInt(Math.floor(random() * 1e12));
  if (pick < 0.6) return sign * (2n ** 63n) + BigInt(Math.floor(random() * 2e9) - 1e9);
  return sign * BigInt(Math.floor(random() * 1e15)) ** BigInt(1 + Math.floor(random() * 25));
}

/** Any UTF-16 code units, lone surrogates and controls included. */
function randomText(random: () => number, max: number): string {
  const n = Math.floor(random() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(random() < 0.7 ? 32 + Math.floor(random() * 95) : Math.floor(random() * 0x10000));
  return s;
}

function utf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
