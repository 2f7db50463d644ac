import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRecordAccessor, RecordAccessorSyntaxError, scalarToString } from '../../src/labels/record-accessor.js';

const record = {
  log: 'hello',
  kubernetes: { namespace_name: 'prod', labels: { app: 'web', 'app.kubernetes.io/name': 'shop' }, pod_ip: null },
  involvedObject: { kind: 'Pod', name: 'web-1' },
  list: ['a', { deep: 'b' }],
  'with-dash': 1,
};

test('compiles a top-level key to a one-element path', () => {
  const ra = compileRecordAccessor('$log');
  assert.deepEqual(ra.path, ['log']);
  assert.equal(ra.lastKey, 'log');
  assert.equal(ra.get(record), 'hello');
});

test('reads nested keys with single and double quotes', () => {
  assert.equal(compileRecordAccessor("$kubernetes['namespace_name']").get(record), 'prod');
  assert.equal(compileRecordAccessor(`$kubernetes["labels"]["app"]`).get(record), 'web');
  assert.equal(compileRecordAccessor("$kubernetes['labels']['app.kubernetes.io/name']").get(record), 'shop');
  assert.equal(compileRecordAccessor("$involvedObject['kind']").get(record), 'Pod');
  const ra = compileRecordAccessor("$kubernetes['labels']['app']");
  assert.deepEqual(ra.path, ['kubernetes', 'labels', 'app']);
  assert.equal(ra.lastKey, 'app');
});

test('reads array indexes', () => {
  assert.equal(compileRecordAccessor('$list[0]').get(record), 'a');
  assert.equal(compileRecordAccessor("$list[1]['deep']").get(record), 'b');
  assert.equal(compileRecordAccessor('$list[5]').get(record), undefined);
});

test('accepts dashes in bare key names', () => {
  assert.equal(compileRecordAccessor('$with-dash').get(record), 1);
});

test('missing keys and non-containers give undefined', () => {
  assert.equal(compileRecordAccessor('$nope').get(record), undefined);
  assert.equal(compileRecordAccessor("$kubernetes['nope']['deeper']").get(record), undefined);
  assert.equal(compileRecordAccessor("$log['sub']").get(record), undefined);
  assert.equal(compileRecordAccessor("$kubernetes['pod_ip']['x']").get(record), undefined);
  assert.equal(compileRecordAccessor("$kubernetes['pod_ip']").get(record), null);
});

test('does not read inherited properties', () => {
  assert.equal(compileRecordAccessor('$constructor').get(record), undefined);
  assert.equal(compileRecordAccessor("$kubernetes['toString']").get(record), undefined);
});

test('$TAG reads the tag or one of its parts', () => {
  assert.equal(compileRecordAccessor('$TAG').get(record, 'kube.var.log'), 'kube.var.log');
  assert.equal(compileRecordAccessor('$TAG[1]').get(record, 'kube.var.log'), 'var');
  assert.equal(compileRecordAccessor('$TAG').isTag, true);
});

test('invalid syntax throws a typed error naming the pattern and position', () => {
  const bad = ['log', '$', "$a['b'", '$a[b]', "$a['b']x", "$a['']", '$a[', '$TAG[x]', "$TAG['a']"];
  for (const pattern of bad) {
    assert.throws(() => compileRecordAccessor(pattern), (err: unknown) => {
      assert.ok(err instanceof RecordAccessorSyntaxError, `${pattern}: ${String(err)}`);
      assert.match(err.message, /invalid record accessor/);
      assert.ok(err.message.includes(pattern));
      return true;
    });
  }
});

test('scalarToString prints scalars and leaves out containers and null', () => {
  assert.equal(scalarToString('x'), 'x');
  assert.equal(scalarToString(12), '12');
  assert.equal(scalarToString(1.5), '1.5');
  assert.equal(scalarToString(10n), '10');
  assert.equal(scalarToString(true), 'true');
  assert.equal(scalarToString(null), undefined);
  assert.equal(scalarToString({ a: 1 }), undefined);
  assert.equal(scalarToString([1]), undefined);
  assert.equal(scalarToString(Number.NaN), undefined);
});
