/**
 * plainValueEnd (msgpack/value-end.ts) against a plain recursive walk of the same rules: random
 * msgpack values (every header form, ext types, bin and container keys, nesting past the limit), cut
 * short anywhere or with a byte changed, and random bytes, give the same verdict or end from both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { MAX_DEPTH, NOT_PLAIN, plainValueEnd, TOO_DEEP, TRUNCATED } from '../../src/msgpack/value-end.js';
import { SAMPLE_EVENT_JSON } from '../../src/inputs/dummy/sample-event.js';

/** The rules, one value at a time: the first problem in byte order decides. */
function oracle(buf: Uint8Array, p: number, end: number): number {
  const r = walk(buf, p, end, 0, false);
  return r > end ? TRUNCATED : r;
}

function walk(buf: Uint8Array, p: number, end: number, depth: number, key: boolean): number {
  if (p >= end) return TRUNCATED;
  const b = buf[p]!;
  if (b < 0x80 || b >= 0xe0) return p + 1;
  if (b >= 0xa0 && b < 0xc0) return p + 1 + (b & 0x1f);
  const container = b < 0xa0 || (b >= 0xdc && b <= 0xdf);
  if (key && (container || (b >= 0xc4 && b <= 0xc6))) return NOT_PLAIN;
  const fixed: Record<number, number> = { 0xc0: 1, 0xc2: 1, 0xc3: 1, 0xcc: 2, 0xd0: 2, 0xcd: 3, 0xd1: 3, 0xca: 5, 0xce: 5, 0xd2: 5, 0xcb: 9, 0xcf: 9, 0xd3: 9 };
  if (fixed[b] !== undefined) return p + fixed[b]!;
  const lengthBytes: Record<number, number> = { 0xc4: 1, 0xd9: 1, 0xc5: 2, 0xda: 2, 0xc6: 4, 0xdb: 4 };
  const size = (at: number, n: number): number => (n === 1 ? buf[at]! : n === 2 ? (buf[at]! << 8) | buf[at + 1]! : ((buf[at]! << 24) >>> 0) + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!));
  if (lengthBytes[b] !== undefined) {
    const n = lengthBytes[b]!;
    if (p + 1 + n > end) return TRUNCATED;
    return p + 1 + n + size(p + 1, n);
  }
  if (!container) return NOT_PLAIN;
  let count: number;
  let map: boolean;
  if (b < 0xa0) {
    map = b < 0x90;
    count = b & 0x0f;
    p += 1;
  } else {
    const n = b === 0xdc || b === 0xde ? 2 : 4;
    if (p + 1 + n > end) return TRUNCATED;
    map = b >= 0xde;
    count = size(p + 1, n);
    p += 1 + n;
  }
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  for (let i = 0; i < (map ? 2 * count : count); i++) {
    p = walk(buf, p, end, depth + 1, map && i % 2 === 0);
    if (p < 0) return p;
    if (p > end) return TRUNCATED;
  }
  return p;
}

/** Random msgpack: trees written with random header forms, with the odd ext, bin key or container key. */
const bytesOf = (...parts: (number | number[] | Uint8Array)[]): number[] => parts.flatMap((x) => (typeof x === 'number' ? [x] : [...x]));
const header = (n: number, fix: number, fixMax: number, h16: number, h32: number, form: number): number[] => {
  if (form === 0 && n <= fixMax) return [fix | n];
  if (form <= 1 && n < 0x10000) return [h16, n >> 8, n & 0xff];
  return [h32, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
};
const scalar = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }).map((n) => [n]),
  fc.integer({ min: 0xe0, max: 0xff }).map((n) => [n]),
  fc.constantFrom<number[]>([0xc0], [0xc2], [0xc3], [0xcc, 1], [0xd1, 1, 2], [0xca, 0, 0, 0, 0], [0xcf, 1, 2, 3, 4, 5, 6, 7, 8], [0xc1]),
  fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 2 })).map(([s, form]) => bytesOf(header(s.length, 0xa0, 31, form === 0 ? 0xd9 : 0xda, 0xdb, form), s)),
  fc.tuple(fc.uint8Array({ maxLength: 10 }), fc.constantFrom(0xc4, 0xc5, 0xc6)).map(([s, h]) => bytesOf(h === 0xc4 ? [h, s.length] : h === 0xc5 ? [h, 0, s.length] : [h, 0, 0, 0, s.length], s)),
  fc.constantFrom<number[]>([0xd7, 0, 1, 2, 3, 4, 5, 6, 7, 8], [0xd4, 1, 2], [0xc7, 1, 5, 9]),
);
const { tree } = fc.letrec<{ tree: number[] }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.tuple(fc.array(tie('tree'), { maxLength: 5 }), fc.integer({ min: 0, max: 2 })).map(([items, form]) => bytesOf(header(items.length, 0x90, 15, 0xdc, 0xdd, form), ...items)),
    fc
      .tuple(fc.array(fc.tuple(fc.oneof(scalar, tie('tree')), tie('tree')), { maxLength: 5 }), fc.integer({ min: 0, max: 2 }))
      .map(([pairs, form]) => bytesOf(header(pairs.length, 0x80, 15, 0xde, 0xdf, form), ...pairs.flat())),
  ),
}));

function nested(levels: number, inner: number[]): number[] {
  let v = inner;
  for (let i = 0; i < levels; i++) v = i % 2 ? [0x91, ...v] : [0x81, 0xa1, 0x6b, ...v];
  return v;
}

test('property: random values, cut short or changed anywhere, get the verdict of the recursive walk', () => {
  fc.assert(
    fc.property(tree, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 }), (value, cut, at, byte, how) => {
      const bytes = Uint8Array.from(value);
      if (how === 1 && bytes.length > 0) bytes[at % bytes.length] = byte;
      const end = how === 2 ? cut % (bytes.length + 1) : bytes.length;
      assert.equal(plainValueEnd(bytes, 0, end), oracle(bytes, 0, end));
    }),
    { numRuns: 3000, seed: 1 },
  );
});

test('property: random bytes and values nested around the limit get the verdict of the recursive walk', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: MAX_DEPTH - 3, max: MAX_DEPTH + 2 }), tree, (random, levels, inner) => {
      assert.equal(plainValueEnd(random, 0, random.length), oracle(random, 0, random.length));
      const deep = Uint8Array.from(nested(levels, inner));
      assert.equal(plainValueEnd(deep, 0, deep.length), oracle(deep, 0, deep.length));
    }),
    { numRuns: 1000, seed: 2 },
  );
});

test("an exporter's event record (and a copy with empty maps and short strings) walked to its end, as the recursive walk and msgpackr find it", () => {
  const packr = new Packr({ useRecords: false });
  const event = JSON.parse(SAMPLE_EVENT_JSON) as Record<string, unknown>;
  for (const record of [event, { ...event, a: {}, b: [], c: 'x', d: { e: 'f', g: {} } }]) {
    const bytes = packr.pack(record);
    const padded = Buffer.concat([bytes, Buffer.from([0xc0])]);
    assert.equal(plainValueEnd(padded, 0, padded.length), bytes.length);
    assert.equal(oracle(padded, 0, padded.length), bytes.length);
    for (let cut = 0; cut < bytes.length; cut++) assert.equal(plainValueEnd(padded, 0, cut), TRUNCATED);
  }
});
