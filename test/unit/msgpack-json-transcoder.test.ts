import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr, Unpackr } from 'msgpackr';
import { MsgpackJsonTranscoder } from '../../src/msgpack/json-transcoder.js';
import { plainValueEnd, NOT_PLAIN, TOO_DEEP, TRUNCATED } from '../../src/msgpack/value-end.js';
import { cat, fixext8Time, map, str } from '../helpers/msgpack-wire.js';
import { criLines } from '../helpers/testdata.js';

// The reference: msgpackr (a library, not the code under test) decodes, JSON.stringify prints.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const reference = (bytes: Buffer): string => JSON.stringify(unpackr.unpack(bytes));

const FIELDS = [['type'], ['reason'], ['involvedObject', 'kind'], ['involvedObject', 'namespace']] as const;

function transcode(bytes: Buffer, t = new MsgpackJsonTranscoder(FIELDS)): string | undefined {
  return t.transcode(bytes, 0, bytes.length);
}

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', ' ', '"', '\\', '\n', '\t', '\r', '\b', '\f', '\u0000', '\u001f', '\u007f', '/', '<', '>', '&', 'é', '€', '😀', '\u2028', 'x'];

function randomString(r: () => number, max: number): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 8));
  switch (k) {
    case 0:
      return randomString(r, 40);
    case 1:
      return Math.floor((r() - 0.5) * 2 ** (Math.floor(r() * 60))); // every integer width, both signs
    case 2:
      return (r() - 0.5) * 10 ** Math.floor(r() * 30 - 10); // float 64
    case 3:
      return r() < 0.5;
    case 4:
      return null;
    case 5:
      return randomString(r, 300); // str 8 / str 16
    case 6:
      return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    default:
      return randomRecord(r, depth + 1);
  }
}

function randomRecord(r: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * (depth === 0 ? 20 : 6));
  for (let i = 0; i < n; i++) out[`${String.fromCharCode(97 + Math.floor(r() * 26))}${randomString(r, 8)}`] = randomValue(r, depth);
  return out;
}

test("the exporter's real events: the same JSON as decoding and JSON.stringify, and their label fields", () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const events = criLines()
    .map((l) => l.content)
    .filter((c) => c.startsWith('{') && c.includes('"involvedObject"'))
    .map((c) => JSON.parse(c) as { type: string; reason: string; involvedObject: { kind: string; namespace?: string } });
  assert.ok(events.length >= 5);
  for (const event of events) {
    const bytes = packr.pack(event);
    assert.equal(transcode(bytes, t), JSON.stringify(event));
    assert.deepEqual(t.fields, [event.type, event.reason, event.involvedObject.kind, event.involvedObject.namespace]);
  }
});

test('random records with every msgpack type it prints give exactly what decoding and JSON.stringify give', () => {
  const r = rng(20261125);
  const t = new MsgpackJsonTranscoder(FIELDS);
  for (let i = 0; i < 2000; i++) {
    const bytes = packr.pack(randomRecord(r, 0));
    assert.equal(transcode(bytes, t), reference(bytes), `record ${i}`);
  }
});

test('wide maps and long strings (map 16, str 32) and the buffer growing past 64 KiB', () => {
  const wide: Record<string, string> = {};
  for (let i = 0; i < 300; i++) wide[`k${i}`] = `v${i}`;
  const big = { message: 'q"'.repeat(70_000), wide };
  const bytes = packr.pack(big);
  assert.equal(transcode(bytes), JSON.stringify(big));
});

test('fields are captured only as strings and only at their place; a repeated parent replaces the earlier one', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  transcode(packr.pack({ type: 7, reason: 'R', nested: { kind: 'no' }, involvedObject: { kind: 'Pod', namespace: '' } }), t);
  assert.deepEqual(t.fields, [undefined, 'R', 'Pod', '']);
  transcode(packr.pack({ involvedObject: 'Pod', kind: 'top' }), t);
  assert.deepEqual(t.fields, [undefined, undefined, undefined, undefined]);
  // Written by hand: msgpackr cannot pack a repeated key.
  const repeated = cat(map(2), str('involvedObject'), map(2), str('kind'), str('Pod'), str('namespace'), str('a'), str('involvedObject'), map(1), str('kind'), str('Node'));
  transcode(repeated, t);
  assert.deepEqual(t.fields, [undefined, undefined, 'Node', undefined]);
});

test('where only a real decode gives the right text, it declines (undefined)', () => {
  const cases: [string, Buffer][] = [
    ['bin', packr.pack({ b: Buffer.from([1, 2]) })],
    ['float 32', cat(map(1), str('f'), Buffer.from([0xca, 0x3f, 0xc0, 0, 0]))],
    ['an ext', cat(map(1), str('t'), fixext8Time(1, 2))],
    ['an integer-like key', packr.pack({ b: 1, 10: 2 })],
    ['a key with a leading digit', packr.pack({ '1a': 1 })],
    ['__proto__', cat(map(1), str('__proto__'), map(0))],
    ['a non-string key', Buffer.from([0x81, 0x01, 0x02])],
    ['0xc1', cat(map(1), str('x'), Buffer.from([0xc1]))],
    ['not a map', packr.pack([1, 2])],
    ['truncated', packr.pack({ a: 'abc' }).subarray(0, 5)],
    ['trailing bytes', cat(packr.pack({ a: 1 }), Buffer.from([0x01]))],
    ['nesting deeper than 64', packr.pack(Array.from({ length: 80 }).reduce<unknown>((inner) => ({ a: [inner] }), {}))],
  ];
  for (const [name, bytes] of cases) assert.equal(transcode(bytes), undefined, name);
});

test('invalid UTF-8 becomes U+FFFD: the line is always valid UTF-8, and still the JSON of the record', () => {
  const bytes = cat(map(1), str('m'), Buffer.from([0xa5, 0x61, 0xff, 0x22, 0xc3, 0x62])); // "a\xff\"\xc3b"
  const line = transcode(bytes)!;
  assert.equal(line, '{"m":"a\uFFFD\\"\uFFFDb"}');
  assert.deepEqual(JSON.parse(line), { m: 'a\uFFFD"\uFFFDb' });
  assert.equal(Buffer.from(line, 'utf8').toString('utf8'), line);
});

test('plainValueEnd finds the end of plain values and flags ext and truncation', () => {
  const record = packr.pack({ a: [1, 'two', { three: 3.5 }], b: null, c: 'x'.repeat(300) });
  const bytes = cat(record, Buffer.from([0x01]));
  assert.equal(plainValueEnd(bytes, 0, bytes.length), record.length);
  assert.equal(plainValueEnd(bytes, 0, record.length - 1), TRUNCATED);
  assert.equal(plainValueEnd(cat(map(1), str('t'), fixext8Time(1, 2)), 0, 16), NOT_PLAIN);
  // What msgpackr refuses to decode is not plain: array, map and bin keys. Nesting past MAX_DEPTH (the
  // record limit, 64 levels) is too deep: refused, never decoded.
  assert.equal(plainValueEnd(Buffer.from([0x81, 0x91, 0x01, 0x02]), 0, 4), NOT_PLAIN);
  assert.equal(plainValueEnd(Buffer.from([0x81, 0x80, 0x02]), 0, 3), NOT_PLAIN);
  assert.equal(plainValueEnd(Buffer.from([0x81, 0xc4, 0x01, 0x61, 0x02]), 0, 5), NOT_PLAIN);
  assert.equal(plainValueEnd(Buffer.from([0x81, 0xa1, 0x61, 0x91, 0x01]), 0, 5), 5, 'an array as a value is fine');
  const nested = (depth: number): Buffer => Buffer.from([...Array(depth).fill(0x91), 0x01]);
  assert.equal(plainValueEnd(nested(64), 0, 65), 65);
  assert.equal(plainValueEnd(nested(65), 0, 66), TOO_DEEP);
  assert.equal(plainValueEnd(Buffer.from([...Array(63).fill(0x91), 0x90]), 0, 64), 64, 'an empty array is a level too: 64 in all');
  assert.equal(plainValueEnd(Buffer.from([...Array(64).fill(0x91), 0x80]), 0, 65), TOO_DEEP, '65 levels with the empty map');
  // A header announcing 2^32 - 1 pairs walks only the bytes there are.
  assert.equal(plainValueEnd(Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 6), TRUNCATED);
});

test('capture (fields only, the JSON printed elsewhere) finds the same fields as transcode', () => {
  const r = rng(7);
  const t = new MsgpackJsonTranscoder(FIELDS);
  const records: unknown[] = criLines()
    .map((l) => l.content)
    .filter((c) => c.startsWith('{') && c.includes('"involvedObject"'))
    .map((c) => JSON.parse(c));
  for (let i = 0; i < 300; i++) records.push({ ...randomRecord(r, 0), type: i % 3 ? 'Normal' : 7, involvedObject: i % 5 ? { kind: `K${i % 4}`, namespace: 'ns' } : 'x' });
  for (const record of records) {
    const bytes = packr.pack(record);
    assert.notEqual(transcode(bytes, t), undefined);
    const fromTranscode = [...t.fields];
    assert.equal(t.capture(bytes, 0, bytes.length), true);
    assert.deepEqual(t.fields, fromTranscode);
  }
  assert.equal(t.capture(packr.pack([1]), 0, 3), false, 'not a map');
  assert.equal(t.capture(packr.pack({ a: 'abc' }).subarray(0, 5), 0, 5), false, 'truncated');
});

test('integers of every width and sign print as JavaScript prints them, up to and beyond 2^53', () => {
  const values = [0, 9, 10, 99, 100, -1, -9, -10, 255, 256, 65535, 65536, -32768, -2147483648, 2147483647, 4294967295, 4294967296, 2 ** 53 - 1, -(2 ** 53 - 1), 1234567890123];
  const t = new MsgpackJsonTranscoder([]);
  for (const v of values) {
    const bytes = packr.pack({ v });
    assert.equal(transcode(bytes, t), JSON.stringify({ v }), String(v));
  }
  // uint 64 and int 64 beyond 2^53, written by hand: a double rounds them, as msgpackr's number does.
  const u64 = cat(map(1), str('v'), Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(transcode(u64, t), reference(u64));
  const i64 = cat(map(1), str('v'), Buffer.from([0xd3, 0x80, 0, 0, 0, 0, 0, 0, 1]));
  assert.equal(transcode(i64, t), reference(i64));
});

test('a key repeated in one map is printed as it was sent, every time (JavaScript would keep only the last)', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const repeated = cat(map(2), str('log'), str('first'), str('log'), str('second'));
  assert.equal(transcode(repeated, t), '{"log":"first","log":"second"}');
  // Captured fields take the last value, as the decoded record would.
  const event = cat(map(4), str('type'), str('Normal'), str('reason'), str('A'), str('type'), str('Warning'), str('involvedObject'), cat(map(1), str('kind'), str('Pod')));
  transcode(event, t);
  assert.deepEqual(t.fields, ['Warning', 'A', 'Pod', undefined]);
  assert.equal(t.capture(event, 0, event.length), true);
  assert.deepEqual(t.fields, ['Warning', 'A', 'Pod', undefined]);
});

test('printInto writes the text straight into a target at an offset, and declines (-1) a text longer than the room', () => {
  const r = rng(42);
  const t = new MsgpackJsonTranscoder(FIELDS);
  const target = Buffer.from(new SharedArrayBuffer(8 * 1024));
  for (let i = 0; i < 300; i++) {
    const bytes = packr.pack(randomRecord(r, 0));
    const text = Buffer.from(reference(bytes), 'utf8');
    const offset = i % 100;
    target.fill(0xee);
    // Room for exactly the text, for one byte less, and for plenty: reserve asks for the worst case
    // of escapes, so an exact fit is finished in the own buffer and copied in.
    for (const room of [text.length, text.length - 1, target.length - offset]) {
      const length = t.printInto(bytes, 0, bytes.length, target, offset, offset + room);
      if (room < text.length) {
        assert.equal(length, -1, `record ${i}, room ${room}`);
        continue;
      }
      assert.equal(length, text.length, `record ${i}, room ${room}`);
      assert.deepEqual(target.subarray(offset, offset + length), text, `record ${i}, room ${room}`);
      assert.equal(t.outputAscii, !/[^\x00-\x7f]/.test(text.toString('latin1')));
      if (offset > 0) assert.equal(target[offset - 1], 0xee, 'nothing before the offset is written');
      if (room === text.length) assert.equal(target[offset + length], 0xee, 'nothing past the room is written');
    }
  }
  // A long text, grown past the own buffer while it spills; print and transcode still work after it.
  const big = packr.pack({ message: 'q"'.repeat(70_000) });
  const large = Buffer.alloc(400_000);
  assert.equal(t.printInto(big, 0, big.length, large, 10, 100), -1);
  const length = t.printInto(big, 0, big.length, large, 10, large.length);
  assert.ok(large.toString('utf8', 10, 10 + length) === reference(big), 'the long text');
  const small = packr.pack({ type: 'Normal', reason: 'R' });
  assert.equal(transcode(small, t), reference(small));
  assert.deepEqual(t.fields, ['Normal', 'R', undefined, undefined]);
  assert.equal(t.printInto(small, 0, small.length, large, 300, 299), -1, 'no room at all');
  assert.equal(t.printInto(packr.pack([1]), 0, 3, large, 0, 100), -1, 'not a map');
});
