/**
 * The limits the forward decoder applies before a chunk can be acked (issue #11): times Loki cannot
 * store and records nested too deeply are refused entry by entry, counted by reason, and the rest of
 * the frame is kept, in every mode and encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arr, bin, cat, entry, eventTime, float64, map, NIL, rec, str } from '../helpers/msgpack-wire.js';
import { MAX_RECORD_NESTING, MAX_TIME_NS, nestingExceeds } from '../../src/core/limits.js';
import { ForwardFrameDecoder, type ForwardFrame } from '../../src/inputs/forward/decoder.js';
import { measureValue } from '../../src/msgpack/measure.js';

const SEC = 1764064800;

function decodeOne(bytes: Buffer): ForwardFrame {
  const d = new ForwardFrameDecoder({ bufferMaxSize: 16 * 1024 * 1024 });
  d.push(bytes);
  const f = d.next();
  assert.ok(f, 'a frame');
  assert.equal(d.next(), undefined);
  assert.equal(d.pendingBytes, 0);
  return f;
}

const uint64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = 0xcf;
  b.writeBigUInt64BE(n, 1);
  return b;
};
const int8 = (n: number): Buffer => Buffer.from([0xd0, n & 0xff]);

/** A map nested `levels` deep: {a: {a: … {}}}, as msgpack. */
function deepMap(levels: number): Buffer {
  const parts: number[] = [];
  for (let i = 1; i < levels; i++) parts.push(0x81, 0xa1, 0x61);
  parts.push(0x80);
  return Buffer.from(parts);
}
/** The same as JSON text. */
const deepJson = (levels: number): string => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

const BAD_TIMES: [string, Buffer][] = [
  ['1e300 s (float)', float64(1e300)],
  ['2^70 s (float)', float64(2 ** 70)],
  ['2^64-1 s (uint64)', uint64(2n ** 64n - 1n)],
  ['9223372037 s, just past 2^63 ns', uint64(9_223_372_037n)],
  ['NaN', float64(NaN)],
  ['Infinity', float64(Infinity)],
  ['-Infinity', float64(-Infinity)],
  ['-5 s, before 1970', int8(-5)],
  ['-0.5 s, before 1970', float64(-0.5)],
];

test('Message mode: a time Loki cannot store is refused and counted apart', () => {
  for (const [what, time] of BAD_TIMES) {
    const f = decodeOne(cat(arr(4), str('t'), time, rec({ log: 'x' }), rec({ chunk: 'c' })));
    assert.deepEqual(f.events, [], what);
    assert.deepEqual([f.outOfRange, f.skipped, f.tooDeep], [1, 0, 0], what);
    assert.deepEqual(f.option, { chunk: 'c' }, `${what}: the chunk is still answered`);
  }
});

test('Forward mode: out-of-range times are refused one by one, the other entries kept with their exact times', () => {
  const entries = [entry(eventTime(SEC, 1), { n: 1 }), ...BAD_TIMES.map(([, time]) => cat(arr(2), time, rec({ bad: true }))), entry(eventTime(SEC, 2), { n: 2 })];
  const f = decodeOne(cat(arr(3), str('t'), arr(entries.length), ...entries, rec({ size: entries.length })));
  assert.deepEqual(f.events.map((e) => [e.record.n, e.time]), [[1, BigInt(SEC) * 1_000_000_000n + 1n], [2, BigInt(SEC) * 1_000_000_000n + 2n]]);
  assert.equal(f.outOfRange, BAD_TIMES.length);
  assert.equal(f.skipped, 0);
});

test('PackedForward, on the lazy path and on the decoded one (a float time first): the same refusals', () => {
  for (const first of [entry(eventTime(SEC, 1), { n: 1 }), cat(arr(2), float64(SEC + 0.5), rec({ n: 1 }))]) {
    const packed = cat(first, ...BAD_TIMES.map(([, time]) => cat(arr(2), time, rec({ bad: true }))), entry(eventTime(SEC, 2), { n: 2 }));
    const f = decodeOne(cat(arr(3), str('t'), bin(packed), rec({ size: BAD_TIMES.length + 2, chunk: 'p' })));
    assert.deepEqual(f.events.map((e) => e.record.n), [1, 2]);
    assert.equal(f.outOfRange, BAD_TIMES.length);
  }
});

test('the edges of the range: the last storable second and nanosecond are kept; 0 and nil are still "now"', () => {
  const f = decodeOne(
    cat(
      arr(3),
      str('t'),
      arr(4),
      cat(arr(2), uint64(9_223_372_036n), rec({ n: 'last second' })),
      cat(arr(2), float64(9_223_372_036.5), rec({ n: 'half past' })),
      cat(arr(2), Buffer.from([0x00]), rec({ n: 'zero' })),
      cat(arr(2), NIL, rec({ n: 'nil' })),
      rec({ size: 4 }),
    ),
  );
  assert.deepEqual(f.events.map((e) => e.record.n), ['last second', 'half past', 'zero', 'nil']);
  assert.equal(f.events[0]!.time, 9_223_372_036_000_000_000n);
  assert.equal(f.events[1]!.time, 9_223_372_036_500_000_000n);
  assert.ok(f.events.every((e) => e.time >= 0n && e.time <= MAX_TIME_NS));
  assert.equal(f.outOfRange, 0);
});

test('JSON mode: a time of 1e300, -1e300 or 1e400 (Infinity) is refused; the rest of the frame is kept and the chunk answered', () => {
  const d = new ForwardFrameDecoder({ bufferMaxSize: 1024 * 1024 });
  d.push(Buffer.from(`["j",[[1e300,{"n":0}],[${SEC},{"n":1}],[-1e300,{"n":2}],[1e400,{"n":3}],[${SEC}.25,{"n":4}]],{"chunk":"j1"}]`));
  const f = d.next()!;
  assert.deepEqual(f.events.map((e) => e.record.n), [1, 4]);
  assert.equal(f.outOfRange, 3);
  assert.deepEqual(f.option, { chunk: 'j1' });
});

test(`nesting: a record of ${MAX_RECORD_NESTING} levels is kept, ${MAX_RECORD_NESTING + 1} refused, in each mode and on each packed path`, () => {
  const ok = deepMap(MAX_RECORD_NESTING);
  const over = deepMap(MAX_RECORD_NESTING + 1);
  const t = eventTime(SEC, 0);
  const frames: [string, (record: Buffer) => Buffer][] = [
    ['message', (r) => cat(arr(3), str('t'), t, r)],
    ['forward', (r) => cat(arr(2), str('t'), arr(2), cat(arr(2), t, r), entry(t, { n: 'other' }))],
    ['forward v1.5 metadata', (r) => cat(arr(2), str('t'), arr(2), cat(arr(2), cat(arr(2), t, map(1), str('m'), str('v')), r), entry(t, { n: 'other' }))],
    ['packed (lazy)', (r) => cat(arr(2), str('t'), bin(cat(cat(arr(2), t, r), entry(t, { n: 'other' }))))],
    ['packed (decoded)', (r) => cat(arr(2), str('t'), bin(cat(cat(arr(2), float64(SEC + 0.5), r), entry(t, { n: 'other' }))))],
  ];
  for (const [mode, frame] of frames) {
    const kept = decodeOne(frame(ok));
    assert.equal(kept.tooDeep, 0, mode);
    assert.ok(!nestingExceeds(kept.events[0]!.record), mode);
    assert.ok(nestingExceeds(kept.events[0]!.record, MAX_RECORD_NESTING - 1), `${mode}: the record really is ${MAX_RECORD_NESTING} deep`);
    const refused = decodeOne(frame(over));
    assert.equal(refused.tooDeep, 1, mode);
    assert.equal(refused.events.length, mode === 'message' ? 0 : 1, mode);
    if (mode !== 'message') assert.equal(refused.events[0]!.record.n, 'other', mode);
  }
});

test('nesting: 100,000 levels in every mode and encoding is refused without overflowing the stack; the rest is kept', () => {
  const deep = Buffer.concat([Buffer.alloc(99_999, 0x91), Buffer.from([0x80])]); // [[[…{}…]]]
  const record = cat(map(1), str('a'), deep);
  const t = eventTime(SEC, 0);
  const cases: [string, Buffer][] = [
    ['message', cat(arr(4), str('t'), t, record, rec({ chunk: 'm' }))],
    ['message, the time array', cat(arr(3), str('t'), cat(arr(2), t, deep), rec({}))],
    ['forward', cat(arr(3), str('t'), arr(3), entry(t, { n: 1 }), cat(arr(2), t, record), entry(t, { n: 2 }), rec({ size: 3 }))],
    ['forward, deep first', cat(arr(2), str('t'), arr(2), cat(arr(2), t, record), entry(t, { n: 2 }))],
    ['packed (lazy)', cat(arr(2), str('t'), bin(cat(entry(t, { n: 1 }), cat(arr(2), t, record), entry(t, { n: 2 }))))],
    ['packed (decoded)', cat(arr(2), str('t'), bin(cat(cat(arr(2), float64(SEC + 0.5), rec({ n: 1 })), cat(arr(2), t, record), entry(t, { n: 2 }))))],
  ];
  for (const [mode, bytes] of cases) {
    const f = decodeOne(bytes);
    assert.equal(f.tooDeep, 1, mode);
    assert.deepEqual(f.events.map((e) => e.record.n), mode.startsWith('message') ? [] : mode === 'forward, deep first' ? [2] : [1, 2], mode);
  }
  const d = new ForwardFrameDecoder({ bufferMaxSize: 16 * 1024 * 1024 });
  d.push(Buffer.from(`["j",[[${SEC},{"n":1}],[${SEC},${deepJson(100_000)}],[${SEC},{"n":2}]],{"chunk":"j"}]["m",${SEC},${deepJson(100_000)},{"chunk":"m"}]`));
  const forward = d.next()!;
  assert.deepEqual([forward.events.map((e) => e.record.n), forward.tooDeep, forward.option], [[1, 2], 1, { chunk: 'j' }]);
  const message = d.next()!;
  assert.deepEqual([message.events.length, message.tooDeep, message.option], [0, 1, { chunk: 'm' }]);
});

test('an option map nested too deeply is a protocol error, not a decode crash', () => {
  const deepOption = cat(map(1), str('o'), Buffer.alloc(50_000, 0x91), Buffer.from([0x80]));
  const d = new ForwardFrameDecoder({ bufferMaxSize: 1024 * 1024 });
  d.push(cat(arr(3), str('t'), bin(entry(eventTime(SEC, 0), { n: 1 })), deepOption));
  assert.throws(() => d.next(), /option \(last element\) is a value nested deeper than 64 levels/);
});

test('measureValue finds the end and the nesting of any value, ext types included, without recursion', () => {
  const out = { levels: -1 };
  const cases: [Buffer, number][] = [
    [Buffer.from([0x01]), 0],
    [Buffer.from([0x80]), 1],
    [rec({ a: [1, { b: [] }], c: 'x' }), 4],
    [cat(arr(2), eventTime(1, 2), Buffer.from([0xc7, 0x03, 0x05, 1, 2, 3])), 1],
    [deepMap(70), 70],
  ];
  for (const [bytes, levels] of cases) {
    const padded = cat(bytes, Buffer.from([0xc0]));
    assert.equal(measureValue(padded, 0, padded.length, 100, out), bytes.length);
    assert.equal(out.levels, levels);
  }
  const deep = Buffer.concat([Buffer.alloc(1_000_000, 0x91), Buffer.from([0x01])]);
  assert.equal(measureValue(deep, 0, deep.length, 64, out), deep.length);
  assert.equal(out.levels, 65, 'counted up to cap + 1');
  assert.equal(measureValue(deep, 0, deep.length - 1, 64, out), -1, 'truncated');
});
