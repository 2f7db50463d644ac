import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecordPruner } from '../../src/labels/record-pruner.js';
import { REMOVE, REMOVE_SETS, formatter, general, sharedMapRecords } from '../helpers/line-formatter.js';
import { freezeShared, isSharedMap } from '../../src/labels/shared-map.js';
import { compileLabelRules } from '../../src/labels/label-rules.js';
import { StreamLabeler } from '../../src/labels/stream-labeler.js';

const kube = () => ({
  pod_name: 'web-1',
  namespace_name: 'shop',
  pod_id: 'uid-1',
  labels: { app: 'web', 'app.kubernetes.io/name': 'web', tier: 'front' },
  annotations: { 'prometheus.io/scrape': 'true' },
  host: 'node-1',
  container_name: 'web',
  docker_id: 'abc',
  list: [1, 'two', { three: 3 }],
});

test('freezeShared freezes every map and array in a map; isSharedMap accepts it and only it', () => {
  const map = freezeShared(kube());
  assert.ok(Object.isFrozen(map) && Object.isFrozen(map.labels) && Object.isFrozen(map.list) && Object.isFrozen(map.list[2]));
  assert.ok(isSharedMap(map));
  assert.equal(isSharedMap(kube()), false, 'not frozen');
  assert.equal(isSharedMap(Object.freeze(kube())), false, 'frozen at the top only');
  assert.equal(isSharedMap(freezeShared({ a: 1n })), false, 'a bigint');
  assert.equal(isSharedMap(freezeShared({ a: undefined })), false, 'undefined');
  assert.equal(isSharedMap(freezeShared({ toJSON: () => 'x' })), false, 'a function');
  assert.equal(isSharedMap(freezeShared({ d: new Date(0) })), false, 'not a plain object');
  assert.equal(isSharedMap(Object.freeze(new Map())), false);
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) deep = { d: deep };
  assert.equal(isSharedMap(freezeShared(deep)), false, 'deeper than a record may nest');
});

test('a record ending with a shared map: the same line as the general way, whatever is removed', () => {
  const shared = freezeShared(kube());
  // `__proto__` as an own key, as JSON.parse makes it.
  const proto: Record<string, unknown> = {};
  Object.defineProperty(proto, '__proto__', { value: 'p', enumerable: true, writable: true, configurable: true });
  proto.log = 'x';
  proto.kubernetes = shared;
  const records = [...sharedMapRecords(shared, kube), proto];
  for (const remove of REMOVE_SETS) {
    const f = formatter(remove);
    for (const record of records) {
      const want = general(record, remove);
      assert.equal(f.format(record), want, `${JSON.stringify(remove)} ${want}`);
      assert.equal(f.format(record), want, 'again, from the kept text');
      JSON.parse(f.format(record));
    }
  }
});

test('a record whose own keys JSON.stringify cannot print (a bigint) is printed the general way', () => {
  const record = { big: 12345678901234567890n, kubernetes: freezeShared(kube()) };
  assert.equal(formatter(REMOVE).format(record), general(record, REMOVE));
  assert.match(formatter(REMOVE).format(record), /^\{"big":"12345678901234567890","kubernetes":\{"pod_id"/);
});

test('the kept text belongs to the map: another map (a pod that changed) is printed anew', () => {
  const f = formatter(REMOVE);
  const before = freezeShared(kube());
  const after = freezeShared({ ...kube(), host: 'node-2' });
  assert.match(f.format({ log: 'a', kubernetes: before }), /"host":"node-1"/);
  assert.match(f.format({ log: 'b', kubernetes: after }), /"host":"node-2"/);
  assert.match(f.format({ log: 'c', kubernetes: before }), /"host":"node-1"/);
});

test('the record and its shared map are left as they were', () => {
  const shared = freezeShared(kube());
  const record = { log: 'x', kubernetes: shared };
  formatter(REMOVE).format(record);
  assert.deepEqual(record, { log: 'x', kubernetes: kube() });
  assert.equal(record.kubernetes, shared);
});

test('removing a key keeps a `__proto__` key beside it (JSON.parse makes one; assigned, it set the prototype and was lost)', () => {
  const record = JSON.parse('{"__proto__":"p","stream":"stdout","log":"x"}') as Record<string, unknown>;
  assert.equal(formatter(['$stream']).format(record), '{"__proto__":"p","log":"x"}');
  assert.deepEqual(Object.keys(new RecordPruner([['stream']]).prune(record)), ['__proto__', 'log']);
});

test('utf8Bytes counts a line made from a kept text as Buffer.byteLength does (multi-byte text in both parts)', () => {
  const f = formatter(REMOVE);
  const shared = freezeShared({ ...kube(), host: 'nœud-1 ☃' });
  for (const record of [{ log: 'héllo 🌍', kubernetes: shared }, { kubernetes: shared }, { log: 'plain' }, { log: 'x', kubernetes: kube() }]) {
    const line = f.format(record);
    assert.equal(f.utf8Bytes(line), Buffer.byteLength(line), line);
  }
  const line = f.format({ log: 'a', kubernetes: shared });
  f.format({ log: 'another line', kubernetes: shared });
  assert.equal(f.utf8Bytes(line), Buffer.byteLength(line), 'an earlier line is counted afresh');
});

test('a tail record ({stream, log, kubernetes}) with any text: the line JSON.stringify prints, and utf8Bytes its exact UTF-8 length', () => {
  // The Loki encoder sizes each entry by utf8Bytes (issue #12): a wrong count would corrupt the message.
  const f = formatter(REMOVE);
  const shared = freezeShared({ ...kube(), host: 'nœud-1 ☃' });
  const unit = fc.oneof(
    fc.constantFrom('"', '\\', 'a', ' ', 'é', '日', '\n', '\t', '\u0000', '\u007f', '\ud800', '\udc00', '\ud83d', '\ude80'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 80 }), fc.string({ unit, maxLength: 8 }), fc.oneof(fc.string({ unit, maxLength: 8 }), fc.integer(), fc.boolean()), (log, stream, extra) => {
      for (const record of [{ stream, log, kubernetes: shared }, { [stream]: extra, log, kubernetes: shared }]) {
        const line = f.format(record);
        assert.equal(line, general(record, REMOVE));
        assert.equal(f.utf8Bytes(line), Buffer.byteLength(line));
      }
    }),
    { numRuns: 3000 },
  );
});

test('stream labels read under one shared map: the same label strings as from an unshared copy, per map', () => {
  const rules = compileLabelRules(['job=k8s', "ns=$kubernetes['namespace_name']", "pod=$kubernetes['pod_name']", "app=$kubernetes['labels']['app']"]).rules;
  for (const auto of [false, true]) {
    const shared = new StreamLabeler(rules, { autoKubernetesLabels: auto });
    const plain = new StreamLabeler(rules, { autoKubernetesLabels: auto });
    const a = freezeShared(kube());
    const b = freezeShared({ ...kube(), pod_name: 'web-2', labels: { app: 'api' } });
    const events = [a, b, a, Object.freeze(kube()), kube()].map((k, i) => ({ tag: 't', time: 0n, record: { log: String(i), kubernetes: k } }));
    for (const event of [...events, ...events]) {
      const copy = { ...event, record: { ...event.record, kubernetes: structuredClone(event.record.kubernetes) } };
      assert.equal(shared.labelsFor(event), plain.labelsFor(copy));
    }
    assert.notEqual(shared.labelsFor(events[0]!), shared.labelsFor(events[1]!));
    // An event's own labels (a filter's) still count.
    const withOwn = { ...events[0]!, labels: { extra: 'x' } };
    assert.match(shared.labelsFor(withOwn), /extra="x"/);
  }
  // Rules under different keys (or the tag): no shared map to key on, the same answers.
  const mixed = new StreamLabeler(compileLabelRules(["pod=$kubernetes['pod_name']", 'stream=$stream']).rules);
  const shared = freezeShared(kube());
  assert.equal(mixed.labelsFor({ tag: 't', time: 0n, record: { stream: 'stdout', kubernetes: shared } }), '{pod="web-1", stream="stdout"}');
  assert.equal(mixed.labelsFor({ tag: 't', time: 0n, record: { stream: 'stderr', kubernetes: shared } }), '{pod="web-1", stream="stderr"}');
});
