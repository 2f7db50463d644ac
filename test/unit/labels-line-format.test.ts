import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLabelRules } from '../../src/labels/label-rules.js';
import { LineFormatter, parseDropSingleKey, type DropSingleKey, type LineFormat } from '../../src/labels/line-formatter.js';
import { compileRecordAccessor } from '../../src/labels/record-accessor.js';
import { RecordPruner } from '../../src/labels/record-pruner.js';

function formatter(format: LineFormat, dropSingleKey: DropSingleKey = 'off', remove: string[] = []): LineFormatter {
  return new LineFormatter({ format, dropSingleKey, removePaths: remove.map((k) => compileRecordAccessor(k).path) });
}

test('json line is the record as JSON, key order kept', () => {
  const f = formatter('json');
  assert.equal(f.format({ log: 'hi "there"', n: 1, ok: true, nested: { a: [1, 2] }, nil: null }), '{"log":"hi \\"there\\"","n":1,"ok":true,"nested":{"a":[1,2]},"nil":null}');
});

test('json survives bigint values', () => {
  assert.equal(formatter('json').format({ big: 12345678901234567890n }), '{"big":"12345678901234567890"}');
});

test('key_value line: strings quoted and escaped, scalars bare, maps as quoted JSON', () => {
  const f = formatter('key_value');
  assert.equal(
    f.format({ level: 'info', msg: 'say "hi"', code: 200, ok: false, nil: null, obj: { a: 1 } }),
    'level="info" msg="say \\"hi\\"" code=200 ok=false nil=null obj="{\\"a\\":1}"',
  );
});

test('remove_keys removes top-level and nested keys without touching the record', () => {
  const record = { log: 'x', stream: 'stdout', kubernetes: { pod_name: 'p', namespace_name: 'n', labels: { app: 'a' } } };
  const copy = structuredClone(record);
  const f = formatter('json', 'off', ['$stream', "$kubernetes['labels']", "$kubernetes['pod_name']", '$absent']);
  assert.equal(f.format(record), '{"log":"x","kubernetes":{"namespace_name":"n"}}');
  assert.deepEqual(record, copy);
});

test('the pruner returns the same object when nothing is removed', () => {
  const pruner = new RecordPruner([['absent'], ['kubernetes', 'absent']]);
  const record = { log: 'x', kubernetes: { pod_name: 'p' } };
  assert.equal(pruner.prune(record), record);
  assert.equal(new RecordPruner([]).prune(record), record);
});

test('a shorter remove path wins over a longer one', () => {
  const pruner = new RecordPruner([['a', 'b'], ['a']]);
  assert.deepEqual(pruner.prune({ a: { b: 1, c: 2 }, d: 3 }), { d: 3 });
});

test('keys read into labels, by labels (bare or name=$accessor) and label_keys, are removed from the line, as Fluent Bit does', () => {
  const { consumedPaths } = compileLabelRules(['job=floki', "ns=$kubernetes['namespace_name']"], ["$kubernetes['pod_name']", '$stream']);
  const f = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: consumedPaths });
  assert.equal(f.format({ log: 'x', stream: 'stderr', kubernetes: { pod_name: 'p', namespace_name: 'n', host: 'h' } }), '{"log":"x","kubernetes":{"host":"h"}}');
});

test('drop_single_key on: json keeps the value JSON (strings quoted)', () => {
  const f = formatter('json', 'on', ['$stream']);
  assert.equal(f.format({ log: 'hello', stream: 'stdout' }), '"hello"');
  assert.equal(f.format({ n: 5 }), '5');
  assert.equal(f.format({ m: { a: 1 } }), '{"a":1}');
  assert.equal(f.format({ a: 1, b: 2 }), '{"a":1,"b":2}');
});

test('drop_single_key raw: a string value goes unquoted', () => {
  const f = formatter('json', 'raw', ['$stream']);
  assert.equal(f.format({ log: 'hello "x"', stream: 'stdout' }), 'hello "x"');
  assert.equal(f.format({ n: 5 }), '5');
  assert.equal(f.format({ m: { a: 'b' } }), '{"a":"b"}');
});

test('drop_single_key with key_value: strings raw, others formatted', () => {
  const f = formatter('key_value', 'on');
  assert.equal(f.format({ log: 'hello "x"' }), 'hello "x"');
  assert.equal(f.format({ n: 5 }), '5');
  assert.equal(f.format({ a: 'x', b: 'y' }), 'a="x" b="y"');
});

test('drop_single_key off keeps the map', () => {
  assert.equal(formatter('json', 'off').format({ log: 'hello' }), '{"log":"hello"}');
});

test('LogEvent.line is used as it is', () => {
  const f = formatter('json', 'raw', ['$log']);
  assert.equal(f.lineFor({ tag: 't', time: 1n, record: { log: 'ignored' }, line: '{"kind":"Pod" , "as":"printed"}' }), '{"kind":"Pod" , "as":"printed"}');
  assert.equal(f.lineFor({ tag: 't', time: 1n, record: { log: 'x', a: 1 } }), '1');
});

test('drop_single_key accepts Fluent Bit spellings', () => {
  assert.equal(parseDropSingleKey('true'), 'on');
  assert.equal(parseDropSingleKey('On'), 'on');
  assert.equal(parseDropSingleKey('false'), 'off');
  assert.equal(parseDropSingleKey('raw'), 'raw');
  assert.throws(() => parseDropSingleKey('maybe'), /drop_single_key/);
});
