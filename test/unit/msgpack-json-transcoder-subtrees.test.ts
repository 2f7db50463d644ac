/**
 * The transcoder's cache of subtrees it printed before (src/msgpack/subtree-cache.ts) and its short
 * string path: a transcoder that has seen other records must print every record exactly as a fresh
 * one does (and as decoding + JSON.stringify does), capture the same fields, and decline the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr, Unpackr } from 'msgpackr';
import { MsgpackJsonTranscoder } from '../../src/msgpack/json-transcoder.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const reference = (bytes: Buffer): string => JSON.stringify(unpackr.unpack(bytes));
const FIELDS = [['type'], ['reason'], ['involvedObject', 'kind'], ['involvedObject', 'namespace']] as const;

/** Prints `value` with `t` (a transcoder with a history) and with a fresh one: both must agree, text, ASCII flag and fields. */
function check(t: MsgpackJsonTranscoder, value: unknown, label: string): string | undefined {
  const bytes = packr.pack(value);
  const fresh = new MsgpackJsonTranscoder(FIELDS);
  const want = fresh.transcode(bytes, 0, bytes.length);
  const got = t.transcode(bytes, 0, bytes.length);
  assert.equal(got, want, label);
  if (want !== undefined) {
    assert.equal(got, reference(bytes), label);
    assert.deepEqual(t.fields, fresh.fields, label);
    assert.equal(t.outputAscii, fresh.outputAscii, label);
  }
  return got;
}

const managed = { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', fieldsV1: { 'f:count': {}, 'f:source': { 'f:component': {}, 'f:host': {} } } };

test('a subtree seen before prints the same text at any place, and a repeated one is copied', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  for (let i = 0; i < 20; i++) {
    check(t, { metadata: { name: `n${i}`, managedFields: [managed] }, type: 'Normal', count: i }, `record ${i}`);
    check(t, { other: { deeper: [managed, { again: managed }] }, managed }, `record ${i} elsewhere`);
    check(t, [managed].reduce<unknown>((inner) => ({ a: [inner, managed] }), managed), `record ${i} nested`);
  }
});

test('a subtree under a parent of captured fields is printed there, so its fields are captured', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const object = { kind: 'Pod', namespace: 'kube-system', name: 'coredns-abcdef', uid: '0123456789' };
  for (let i = 0; i < 10; i++) {
    check(t, { spare: object, involvedObject: object, reason: 'Pulled' }, `record ${i}`);
    assert.deepEqual(t.fields, [undefined, 'Pulled', 'Pod', 'kube-system']);
    check(t, { involvedObject: object, list: [object, { involvedObject: object }] }, `record ${i} b`);
    assert.deepEqual(t.fields, [undefined, undefined, 'Pod', 'kube-system']);
    // The same bytes as a whole record: its top-level keys are fields.
    check(t, { type: 'Warning', reason: 'BackOff', involvedObject: object }, `record ${i} c`);
    check(t, { x: { type: 'Warning', reason: 'BackOff', involvedObject: object } }, `record ${i} d`);
    assert.deepEqual(t.fields, [undefined, undefined, undefined, undefined]);
  }
});

test('a subtree printed near the nesting limit is not taken deeper, where it is too deep', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  // 60 levels of { a: [...] } around a 16+ byte leaf: 61 levels of maps and arrays under the record.
  const leaf = { leaf: 'value value value' };
  const nest = (levels: number): unknown => Array.from({ length: levels }).reduce<unknown>((inner) => [inner], leaf);
  for (let extra = 0; extra < 4; extra++) {
    for (let levels = 58; levels <= 64; levels++) {
      check(t, { a: nest(levels) }, `levels ${levels}`);
      check(t, { a: { b: { c: nest(levels) } } }, `levels ${levels} deeper`);
      check(t, { a: nest(levels - 3) }, `levels ${levels - 3} shallower`);
    }
  }
  // The deepest nest that still prints under one key: one level more is too deep, also after it was printed.
  const fresh = new MsgpackJsonTranscoder(FIELDS);
  const fits = (value: unknown): boolean => fresh.transcode(packr.pack(value), 0, packr.pack(value).length) !== undefined;
  let limit = 40;
  while (fits({ a: nest(limit + 1) })) limit++;
  assert.equal(fits({ a: { b: nest(limit) } }), false);
  for (let i = 0; i < 3; i++) {
    assert.notEqual(check(t, { a: nest(limit) }, 'fits'), undefined);
    assert.equal(check(t, { a: { b: nest(limit) } }, 'too deep'), undefined);
  }
});

test('empty maps and arrays print at every depth up to the limit, as before the cache (they close as any other)', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  for (const leaf of [{}, [], { k: {} }, { k: [] }]) {
    const nest = (levels: number): unknown => Array.from({ length: levels }).reduce<unknown>((inner) => [inner], leaf);
    let printed = 0;
    for (let levels = 50; levels <= 66; levels++) {
      const bytes = packr.pack({ a: nest(levels) });
      // The record map, the arrays and the leaf if it is not empty: 64 levels of maps and arrays with
      // values at most; an empty one may be a level deeper (it has no values there).
      const empty = Array.isArray(leaf) ? leaf.length === 0 : Object.keys(leaf).length === 0;
      const depth = 1 + levels + (empty ? 0 : 1);
      const text = check(t, { a: nest(levels) }, `${JSON.stringify(leaf)} in ${levels} levels`);
      assert.equal(text, depth <= 64 ? reference(bytes) : undefined, `${JSON.stringify(leaf)} in ${levels} levels (${depth})`);
      if (text !== undefined) printed++;
    }
    assert.ok(printed > 0);
  }
});

test('many different subtrees take each other\'s slots; every record still prints right', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  for (let round = 0; round < 3; round++)
    for (let i = 0; i < 300; i++) {
      const sub = { id: `subtree-${i % 150}`, list: [i % 7, 'constant constant'], nested: { k: i % 3 } };
      check(t, { a: sub, b: [sub], c: { sub } }, `round ${round} record ${i}`);
    }
});

test('non-ASCII and escaped subtrees keep their flag and escapes when copied', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const wide = { text: 'caf\u00e9 \u20ac \ud83d\ude00', q: 'say "hi"\n\\', ctl: '\u0001\u001f' };
  const plain = { text: 'plain ascii text here', q: 'nothing to escape' };
  for (let i = 0; i < 10; i++) {
    check(t, { w: wide, n: i }, `wide ${i}`);
    assert.equal(t.outputAscii, false);
    check(t, { p: plain, n: i }, `plain ${i}`);
    assert.equal(t.outputAscii, true);
    check(t, { p: plain, w: [wide] }, `both ${i}`);
  }
  // Invalid UTF-8 in a repeated subtree: the bytes are kept as they are, as the first time.
  const raw = Buffer.from([0x82, 0xa1, 0x61, 0x81, 0xa1, 0x6d, 0xb2, ...Buffer.from('0123456789abcde'), 0xff, 0xfe, 0x22, 0xa1, 0x62, 0x01]);
  const fresh = new MsgpackJsonTranscoder(FIELDS).transcode(raw, 0, raw.length);
  for (let i = 0; i < 5; i++) assert.equal(t.transcode(raw, 0, raw.length), fresh);
});

test('a record cut short inside a subtree seen before is declined, and a record with bytes past it too', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const whole = packr.pack({ a: managed, b: 1 });
  for (let i = 0; i < 3; i++) assert.equal(t.transcode(whole, 0, whole.length), reference(whole));
  for (let end = 1; end < whole.length; end++) assert.equal(t.transcode(whole, 0, end), undefined, `cut at ${end}`);
  const longer = Buffer.concat([whole, Buffer.from([0xc0])]);
  assert.equal(t.transcode(longer, 0, longer.length), undefined);
});

test('printInto with a subtree copy that outgrows the room finishes in the own buffer, or declines', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const bytes = packr.pack({ m: 'x'.repeat(40), managed, list: [managed, managed] });
  const text = Buffer.from(reference(bytes));
  for (let i = 0; i < 3; i++) t.transcode(bytes, 0, bytes.length);
  const target = Buffer.alloc(4096);
  for (let room = text.length - 5; room <= text.length + 200; room++) {
    target.fill(0);
    const length = t.printInto(bytes, 0, bytes.length, target, 7, 7 + room);
    if (room < text.length) assert.equal(length, -1, `room ${room}`);
    else {
      assert.equal(length, text.length, `room ${room}`);
      assert.deepEqual(target.subarray(7, 7 + length), text, `room ${room}`);
    }
  }
});

test('input and output over SharedArrayBuffers (the transcode thread\'s): the same text', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const records = Array.from({ length: 50 }, (_, i) => packr.pack({ type: 'Normal', n: i, managed, s: 'a"b'.repeat(i % 5), involvedObject: { kind: 'Pod', namespace: `ns${i % 3}` } }));
  const total = records.reduce((n, r) => n + r.length, 0);
  const input = Buffer.from(new SharedArrayBuffer(total + 3), 3);
  const output = Buffer.from(new SharedArrayBuffer(1 << 16), 1);
  let p = 0;
  for (const r of records) {
    r.copy(input, p);
    p += r.length;
  }
  for (let round = 0; round < 2; round++) {
    let s = 0;
    let o = 0;
    for (const r of records) {
      const length = t.printInto(input, s, s + r.length, output, o, output.length);
      assert.equal(output.toString('utf8', o, o + length), reference(r));
      assert.equal(t.fields[3], unpackr.unpack(r).involvedObject.namespace);
      s += r.length;
      o += length;
    }
  }
});

test('strings of every length 0..70 with an escape or a non-ASCII byte at every position print as JSON.stringify', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  const specials = ['"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u00e9', '\u20ac', '\ud83d\ude00'];
  for (let length = 0; length <= 70; length++) {
    const base = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_./:;,+=%'.slice(0, length);
    check(t, { [`k${base}`]: base, v: base }, `plain ${length}`);
    for (let at = 0; at < length; at++)
      for (const c of specials) {
        const s = base.slice(0, at) + c + base.slice(at + 1);
        check(t, { [`k${s}`]: s }, `length ${length}, ${JSON.stringify(c)} at ${at}`);
      }
  }
});

test('subtrees that differ only in their last bytes (the same first 16 bytes, the same slot) are told apart', () => {
  const t = new MsgpackJsonTranscoder(FIELDS);
  for (let length = 10; length <= 40; length++)
    for (let round = 0; round < 3; round++)
      for (const last of [1, 2, 3, 4, 5, 127, -1]) {
        const sub = { name: 'n'.repeat(length), v: last };
        check(t, { a: sub, b: [sub] }, `length ${length}, last ${last}`);
        check(t, { a: { ...sub, w: last & 1 } }, `length ${length}, last ${last}, w`);
      }
});
