/**
 * Property-based tests of the msgpack → JSON transcoder (fast-check): records written byte by byte with
 * every header width msgpack allows (not only the ones msgpackr picks), strings with escapes, control
 * characters, any code point and invalid UTF-8, integers at every boundary, doubles, nested maps and
 * arrays. The text must be what decoding with msgpackr and JSON.stringify give, byte for byte, the
 * captured fields those of the decoded record, and a record is declined only where the transcoder's
 * contract says (a key starting with a digit, `__proto__`). Scale the runs with FUZZ_RUNS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { MsgpackJsonTranscoder } from '../../src/msgpack/json-transcoder.js';
import { runs } from '../helpers/fuzz.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const FIELDS = [['type'], ['reason'], ['involvedObject', 'kind'], ['involvedObject', 'namespace']] as const;

/** A value as bytes, the value JavaScript holds for it, and whether the transcoder must decline it. */
interface Wire {
  bytes: Buffer<ArrayBuffer>;
  value: unknown;
  declines: boolean;
  /** Its strings are valid UTF-8 (msgpackr's decoder is then the reference too). */
  utf8: boolean;
}

const be = (n: bigint, bytes: number): number[] => Array.from({ length: bytes }, (_, i) => Number((BigInt.asUintN(bytes * 8, n) >> BigInt(8 * (bytes - 1 - i))) & 0xffn));

/** The header of a str, array or map of `n`, in the width `choice` picks among those that hold it. */
function header(kind: 'str' | 'array' | 'map', n: number, choice: number): number[] {
  const fix = kind === 'str' ? (n < 32 ? [0xa0 | n] : undefined) : n < 16 ? [(kind === 'array' ? 0x90 : 0x80) | n] : undefined;
  const widths: number[][] = [];
  if (fix) widths.push(fix);
  if (kind === 'str' && n < 256) widths.push([0xd9, n]);
  if (n < 65536) widths.push([kind === 'str' ? 0xda : kind === 'array' ? 0xdc : 0xde, ...be(BigInt(n), 2)]);
  widths.push([kind === 'str' ? 0xdb : kind === 'array' ? 0xdd : 0xdf, ...be(BigInt(n), 4)]);
  return widths[choice % widths.length]!;
}

function strWire(content: Buffer, choice: number): Buffer<ArrayBuffer> {
  return Buffer.concat([Buffer.from(header('str', content.length, choice)), content]);
}

/** Every encoding of the integer `n`, one picked by `choice`. */
function intWire(n: bigint, choice: number): Buffer<ArrayBuffer> {
  const forms: number[][] = [];
  if (n >= 0n && n <= 127n) forms.push([Number(n)]);
  if (n >= -32n && n < 0n) forms.push([Number(n) & 0xff]);
  if (n >= 0n && n <= 0xffn) forms.push([0xcc, ...be(n, 1)]);
  if (n >= 0n && n <= 0xffffn) forms.push([0xcd, ...be(n, 2)]);
  if (n >= 0n && n <= 0xffffffffn) forms.push([0xce, ...be(n, 4)]);
  if (n >= 0n && n < 2n ** 64n) forms.push([0xcf, ...be(n, 8)]);
  if (n >= -128n && n <= 127n) forms.push([0xd0, ...be(n, 1)]);
  if (n >= -32768n && n <= 32767n) forms.push([0xd1, ...be(n, 2)]);
  if (n >= -(2n ** 31n) && n < 2n ** 31n) forms.push([0xd2, ...be(n, 4)]);
  if (n >= -(2n ** 63n) && n < 2n ** 63n) forms.push([0xd3, ...be(n, 8)]);
  return Buffer.from(forms[choice % forms.length]!);
}

const BOUNDARIES = [0n, 1n, 9n, 10n, 99n, 100n, 127n, 128n, 255n, 256n, 65535n, 65536n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
const integer = fc
  .oneof(
    fc.constantFrom(...BOUNDARIES, ...BOUNDARIES.filter((b) => b > 0n && b <= 2n ** 63n).map((b) => -b), -32n, -33n),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.integer().map(BigInt),
  )
  .chain((n) => fc.nat().map((choice): Wire => ({ bytes: intWire(n, choice), value: Number(n), declines: false, utf8: true })));

const float = fc.double().map((x): Wire => {
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(x, 1);
  return { bytes: b, value: x, declines: false, utf8: true };
});

const SPECIAL = ['"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u0001', '\u001f', '\u007f', 'é', '€', '😀', '\u2028', '\u2029', 'a', ' ', '<'];
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...SPECIAL), maxLength: 40 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 30, maxLength: 300 }),
);
const string = fc.oneof(
  fc.tuple(text, fc.nat()).map(([s, choice]): Wire => ({ bytes: strWire(Buffer.from(s, 'utf8'), choice), value: Buffer.from(s, 'utf8').toString('utf8'), declines: false, utf8: true })),
  // Any bytes, invalid UTF-8 too: the line decodes them with U+FFFD, as Buffer's toString does.
  fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.nat()).map(([b, choice]): Wire => {
    const content = Buffer.from(b);
    const utf8 = Buffer.from(content.toString('utf8'), 'utf8').equals(content);
    return { bytes: strWire(content, choice), value: content.toString('utf8'), declines: false, utf8 };
  }),
);
const constant = fc.constantFrom<Wire>(
  { bytes: Buffer.from([0xc0]), value: null, declines: false, utf8: true },
  { bytes: Buffer.from([0xc2]), value: false, declines: false, utf8: true },
  { bytes: Buffer.from([0xc3]), value: true, declines: false, utf8: true },
);

const KEYS = ['type', 'reason', 'involvedObject', 'kind', 'namespace', 'message', '', '__proto__', '10', '1a', 'a1', 'ключ', 'k"\\\n'];
// As UTF-8 gives it back (a lone surrogate becomes U+FFFD): keys unique as strings are unique as bytes.
const key = fc
  .oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) })
  .map((k) => Buffer.from(k, 'utf8').toString('utf8'));

function mapWire(pairs: [string, Wire][], choice: number): Wire {
  const parts: Buffer[] = [Buffer.from(header('map', pairs.length, choice))];
  const value: Record<string, unknown> = {};
  let declines = false;
  let utf8 = true;
  for (const [k, v] of pairs) {
    parts.push(strWire(Buffer.from(k, 'utf8'), choice), v.bytes);
    declines ||= v.declines || k === '__proto__' || /^[0-9]/.test(k);
    utf8 &&= v.utf8;
    if (k !== '__proto__') value[k] = v.value;
  }
  return { bytes: Buffer.concat(parts), value, declines, utf8 };
}

const { record } = fc.letrec<{ value: Wire; record: Wire }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    string,
    integer,
    float,
    constant,
    fc.tuple(fc.array(tie('value'), { maxLength: 6 }), fc.nat()).map(([items, choice]): Wire => ({
      bytes: Buffer.concat([Buffer.from(header('array', items.length, choice)), ...items.map((i) => i.bytes)]),
      value: items.map((i) => i.value),
      declines: items.some((i) => i.declines),
      utf8: items.every((i) => i.utf8),
    })),
    tie('record'),
  ),
  record: fc
    .tuple(fc.uniqueArray(fc.tuple(key, tie('value')), { maxLength: 12, selector: ([k]) => k }), fc.nat())
    .map(([pairs, choice]) => mapWire(pairs, choice)),
}));

/** The captured fields the decoded record gives: string values at their places, else undefined. */
function expectedFields(value: unknown): (string | undefined)[] {
  const r = value as Record<string, unknown>;
  const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const io = r.involvedObject;
  const child = (k: string): string | undefined => (io !== null && typeof io === 'object' && !Array.isArray(io) ? s((io as Record<string, unknown>)[k]) : undefined);
  return [s(r.type), s(r.reason), child('kind'), child('namespace')];
}

test('any record: the text JSON.stringify gives for the decoded record, its fields, and declined only where the contract says', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  fc.assert(
    fc.property(record, (w) => {
      const text = t.transcode(w.bytes, 0, w.bytes.length);
      if (w.declines) {
        assert.equal(text, undefined);
        return;
      }
      const expected = JSON.stringify(w.value);
      assert.equal(text, expected);
      if (w.utf8) assert.equal(text, JSON.stringify(unpackr.unpack(w.bytes)));
      assert.deepEqual(t.fields, expectedFields(w.value));
      assert.equal(t.capture(w.bytes, 0, w.bytes.length), true);
      assert.deepEqual(t.fields, expectedFields(w.value));
    }),
    runs(500),
  );
});

test('any record printed into shared memory at any offset and room: the same bytes, or -1 when they do not fit, and nothing outside the room written', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const target = Buffer.from(new SharedArrayBuffer(64 * 1024));
  fc.assert(
    fc.property(record, fc.nat({ max: 4096 }), fc.integer({ min: -8, max: 64 * 1024 }), (w, offset, extra) => {
      const expected = w.declines ? undefined : JSON.stringify(w.value);
      // The text's length in bytes as printed (invalid UTF-8 is copied as it is, replaced only when decoded).
      const bytes = t.print(w.bytes, 0, w.bytes.length);
      const room = Math.max(0, bytes + extra);
      const limit = Math.min(offset + room, target.length);
      target.fill(0xee);
      const length = t.printInto(w.bytes, 0, w.bytes.length, target, offset, limit);
      if (expected === undefined || bytes > limit - offset) {
        assert.equal(length, -1);
      } else {
        assert.equal(length, bytes);
        assert.equal(target.toString('utf8', offset, offset + length), expected);
        assert.equal(t.outputAscii, !target.subarray(offset, offset + length).some((b) => b >= 0x80));
      }
      // Nothing before the offset or past the room (worst-case reserves may scribble inside it).
      assert.ok(target.subarray(0, offset).every((b) => b === 0xee), 'nothing before the offset');
      assert.ok(target.subarray(limit).every((b) => b === 0xee), 'nothing past the room');
    }),
    runs(300),
  );
});

test('records that repeat subtrees (the cache of printed maps and arrays): one transcoder prints each as decoding and JSON.stringify do', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const wrap = (w: Wire, how: number): Wire =>
    how % 3 === 0
      ? w
      : how % 3 === 1
        ? { bytes: Buffer.concat([Buffer.from([0x91]), w.bytes]), value: [w.value], declines: w.declines, utf8: w.utf8 }
        : mapWire([['w', w]], how);
  fc.assert(
    fc.property(
      fc.array(record, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('a', 'involvedObject', 'type', 'x')), { minLength: 1, maxLength: 24 }),
      (pool, picks) => {
        for (const [i, how, k] of picks) {
          const w = mapWire(
            [
              [k, wrap(pool[i % pool.length]!, how)],
              ['n', wrap(pool[how % pool.length]!, i)],
            ],
            0,
          );
          const text = t.transcode(w.bytes, 0, w.bytes.length);
          if (w.declines) {
            assert.equal(text, undefined);
            continue;
          }
          assert.equal(text, JSON.stringify(w.value));
          assert.deepEqual(t.fields, expectedFields(w.value));
          const length = t.print(w.bytes, 0, w.bytes.length);
          assert.equal(t.outputAscii, !t.output.subarray(0, length).some((b) => b >= 0x80));
        }
      },
    ),
    runs(300),
  );
});
