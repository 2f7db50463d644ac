/** Keys and tags as Fluent Bit's filters read them: src/record/. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileKeyReference } from '../../src/record/key-reference.js';
import { TagTemplate, valueText } from '../../src/record/tag-template.js';
import { appendKey } from '../../src/record/append-key.js';
import { approximateSize } from '../../src/record/approximate-size.js';

const record = { 'Mem.used': 'dotted', Mem: 'plain', k8s: { labels: { 'app.kubernetes.io/name': 'shop', app: 'web' } }, list: ['a', 'b'], n: null };

test('a key without $ is a top-level key taken literally', () => {
  assert.equal(compileKeyReference('Mem.used').get(record), 'dotted');
  assert.equal(compileKeyReference('missing').get(record), undefined);
  assert.equal(compileKeyReference('n').get(record), null, 'a null value exists');
});

test('a key with $ is a record accessor that ends where Fluent Bit ends it', () => {
  assert.equal(compileKeyReference('$Mem.used').get(record), 'plain', "Fluent Bit's accessor stops at the dot");
  assert.equal(compileKeyReference("$k8s['labels']['app.kubernetes.io/name']").get(record), 'shop');
  assert.equal(compileKeyReference("$k8s['labels']['app']").get(record), 'web');
  assert.equal(compileKeyReference('$list[1]').get(record), 'b');
  assert.equal(compileKeyReference('$TAG').get(record), undefined);
  assert.throws(() => compileKeyReference("$k8s['labels"), /unterminated/);
});

test("the page's New_Tag example renders as the page says", () => {
  const t = new TagTemplate("newtag.$TAG.$TAG[1].$1.$ss['s1']['s2'].out");
  const m = /^([a-z]+)-([0-9]+)$/.exec('abc-123')!;
  assert.equal(t.render('aa.bb.cc', { name: 'abc-123', ss: { s1: { s2: 'flb' } } }, m), 'newtag.aa.bb.cc.bb.abc.flb.out');
});

test('tag parts: no captures without groups, parts past the end, a tag without dots', () => {
  const noGroups = /^hello$/.exec('hello')!;
  assert.equal(new TagTemplate('x.$0.$TAG[1].$TAG[5]').render('a.b', {}, noGroups), 'x..b.');
  assert.equal(new TagTemplate('$TAG[0]-$TAG[1]').render('single', {}, noGroups), 'single-');
  const unmatched = /^(h)ello|(z)$/.exec('hello')!;
  assert.equal(new TagTemplate('y.$0.$2').render('t', {}, unmatched), 'y.hello.');
  assert.equal(new TagTemplate('plain').render('t', {}, noGroups), 'plain');
  assert.equal(new TagTemplate('a').render('t', {}, noGroups), 'a');
});

test('record values in a tag, as flb_ra_translate prints them', () => {
  assert.equal(valueText('s'), 's');
  assert.equal(valueText(500), '500');
  assert.equal(valueText(2.5), '2.500000');
  assert.equal(valueText(true), 'true');
  assert.equal(valueText(null), 'null');
  assert.equal(valueText({ m: 1 }), '{"m":1}');
  assert.equal(valueText([1]), '');
  assert.equal(valueText(undefined), '');
  assert.equal(valueText(2 ** 60), '1152921504606846976');
});

test('appendKey puts an existing key last with its new value', () => {
  const r: Record<string, unknown> = { a: 1, b: 2 };
  appendKey(r, 'a', 'x');
  appendKey(r, 'c', 3);
  assert.deepEqual(Object.entries(r), [['b', 2], ['a', 'x'], ['c', 3]]);
});

test('approximateSize grows with the record and stops at a depth', () => {
  assert.ok(approximateSize({ log: 'x'.repeat(1000) }) > 1000);
  assert.ok(approximateSize({ a: 1 }) < 30);
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 1000; i++) deep = { d: deep };
  assert.ok(approximateSize(deep) < 1000, 'a pathological depth does not overflow the stack');
});
