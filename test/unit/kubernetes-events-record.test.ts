import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { eventTimeNs, exporterRecord, ResourceVersionDb, rfc3339ToNs, SeenEvents, WatchLineSplitter } from '../../src/inputs/kubernetes_events/index.js';
import { DeliveredVersion } from '../../src/inputs/kubernetes_events/delivered-version.js';
import { EventExporterFilter } from '../../src/filters/event_exporter/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

/** An Event as `kubectl get events -o json` shows one (API server order, managedFields, kind/apiVersion in a watch). */
const API_EVENT = {
  kind: 'Event',
  apiVersion: 'v1',
  metadata: {
    name: 'api-7d9f8b6c5-xk2lp.17a9c3e5b2f0d4c1',
    namespace: 'shop',
    uid: 'b1e2c3d4-5f60-4a7b-8c9d-0e1f2a3b4c5d',
    resourceVersion: '48213377',
    creationTimestamp: '2026-11-25T09:58:12Z',
    managedFields: [{ manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: '2026-11-25T10:00:42Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:count': {} } }],
  },
  involvedObject: { kind: 'Pod', namespace: 'shop', name: 'api-7d9f8b6c5-xk2lp', uid: '3f6c2a1e-8b7d-4c9e-a0f1-2d3e4f5a6b7c', apiVersion: 'v1', resourceVersion: '48210954', fieldPath: 'spec.containers{api}' },
  reason: 'Unhealthy',
  message: 'Liveness probe failed: Get "http://10.244.1.17:8080/healthz?full=1&timeout=2s": context deadline exceeded',
  source: { component: 'kubelet', host: 'worker-2' },
  firstTimestamp: '2026-11-25T09:58:12Z',
  lastTimestamp: '2026-11-25T10:00:42Z',
  count: 6,
  type: 'Warning',
  eventTime: null,
  reportingComponent: 'kubelet',
  reportingInstance: 'worker-2',
};

test('an API event becomes the record kubernetes-event-exporter prints (omitLookup), key for key and in its order', () => {
  // Written out by hand from the exporter's Go structs: managedFields dropped, clusterName, involvedObject last with deleted.
  const expected =
    '{"metadata":{"name":"api-7d9f8b6c5-xk2lp.17a9c3e5b2f0d4c1","namespace":"shop","uid":"b1e2c3d4-5f60-4a7b-8c9d-0e1f2a3b4c5d","resourceVersion":"48213377","creationTimestamp":"2026-11-25T09:58:12Z"},' +
    '"reason":"Unhealthy","message":"Liveness probe failed: Get \\"http://10.244.1.17:8080/healthz?full=1&timeout=2s\\": context deadline exceeded",' +
    '"source":{"component":"kubelet","host":"worker-2"},"firstTimestamp":"2026-11-25T09:58:12Z","lastTimestamp":"2026-11-25T10:00:42Z","count":6,"type":"Warning","eventTime":null,' +
    '"reportingComponent":"kubelet","reportingInstance":"worker-2","clusterName":"",' +
    '"involvedObject":{"kind":"Pod","namespace":"shop","name":"api-7d9f8b6c5-xk2lp","uid":"3f6c2a1e-8b7d-4c9e-a0f1-2d3e4f5a6b7c","apiVersion":"v1","resourceVersion":"48210954","fieldPath":"spec.containers{api}","deleted":false}}';
  assert.equal(JSON.stringify(exporterRecord(structuredClone(API_EVENT))), expected);
  assert.deepEqual(API_EVENT.metadata.managedFields.length, 1, 'the input object is not changed');
});

test("Go's omitempty: empty reason/message/type and zero count are left out, zero times are null, series/action/related kept in place", () => {
  const record = exporterRecord({
    metadata: { name: 'n1.1', namespace: 'kube-system', uid: 'u', resourceVersion: '7', creationTimestamp: '2026-11-25T10:00:00Z' },
    involvedObject: { kind: 'Node', name: 'worker-2', uid: 'n', apiVersion: 'v1' },
    reason: 'NodeNotReady',
    message: '',
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    count: 0,
    type: 'Normal',
    eventTime: '2026-11-25T10:00:01.123456Z',
    series: { count: 4, lastObservedTime: '2026-11-25T10:05:00.654321Z' },
    action: 'NodeNotReady',
    reportingComponent: 'node-controller',
    reportingInstance: '',
  });
  assert.deepEqual(Object.keys(record), [
    'metadata', 'reason', 'source', 'firstTimestamp', 'lastTimestamp', 'type', 'eventTime', 'series', 'action',
    'reportingComponent', 'reportingInstance', 'clusterName', 'involvedObject',
  ]);
  assert.equal(record.firstTimestamp, null);
  assert.deepEqual(record.involvedObject, { kind: 'Node', name: 'worker-2', uid: 'n', apiVersion: 'v1', deleted: false });
});

test('the record is recognised by the event_exporter filter, with the labels the exporter log gets', () => {
  const filter = new EventExporterFilter({}, { name: 'event_exporter.0', log: pino({ level: 'silent' }), metrics: new Metrics(), service: { flushMs: 1000, graceMs: 0, logLevel: 'info' }, parsers: new ParserRegistry() });
  const record = exporterRecord(structuredClone(API_EVENT));
  const [event] = filter.process([{ tag: 'kube.events', time: 1n, record }]);
  assert.deepEqual(event!.labels, { type: 'Warning', reason: 'Unhealthy', kind: 'Pod', namespace: 'shop' });
  assert.equal(event!.line, JSON.stringify(record));
});

test('event time: lastTimestamp, else series.lastObservedTime, eventTime, firstTimestamp, creationTimestamp; exact to the ns', () => {
  assert.equal(eventTimeNs(API_EVENT), 1795600842_000000000n);
  assert.equal(eventTimeNs({ lastTimestamp: null, series: { lastObservedTime: '2026-11-25T10:05:00.654321Z' }, eventTime: '2026-11-25T10:00:01.123456Z' }), 1795601100_654321000n);
  assert.equal(eventTimeNs({ lastTimestamp: null, eventTime: '2026-11-25T10:00:01.123456Z' }), 1795600801_123456000n);
  assert.equal(eventTimeNs({ firstTimestamp: '2026-11-25T10:00:00Z' }), 1795600800_000000000n);
  assert.equal(eventTimeNs({ metadata: { creationTimestamp: '2026-11-25T10:00:00Z' } }), 1795600800_000000000n);
  assert.equal(eventTimeNs({ lastTimestamp: 'yesterday' }), undefined);
  assert.equal(rfc3339ToNs('2026-11-25T11:00:00.5+01:00'), 1795600800_500000000n);
  assert.equal(rfc3339ToNs('2026-11-25T10:00:00.123456789Z'), 1795600800_123456789n);
});

test('event time: one Loki cannot store (year 9999, or before 1970) is passed over for the next, as one that does not parse', () => {
  assert.equal(eventTimeNs({ lastTimestamp: '9999-12-31T23:59:59Z', eventTime: '2026-11-25T10:00:01.123456Z' }), 1795600801_123456000n);
  assert.equal(eventTimeNs({ lastTimestamp: '0001-01-01T00:00:00Z', firstTimestamp: '2026-11-25T10:00:00Z' }), 1795600800_000000000n);
  assert.equal(eventTimeNs({ lastTimestamp: '2262-04-11T23:47:16.854775807Z' }), 9_223_372_036_854_775_807n, 'the last storable nanosecond');
  assert.equal(eventTimeNs({ lastTimestamp: '2262-04-11T23:47:16.854775808Z' }), undefined);
  assert.equal(eventTimeNs({ lastTimestamp: '9999-12-31T23:59:59Z' }), undefined, 'none: the input takes the time it read the event');
});

test('watch lines: split anywhere across chunks, even inside a UTF-8 character, come out whole', () => {
  const lines = ['{"type":"ADDED","object":{"message":"café ✓ 🚀"}}', '{"type":"BOOKMARK"}', '{"type":"MODIFIED","object":{"message":"ünïcödé"}}'];
  const bytes = Buffer.from(lines.join('\n') + '\n\n', 'utf8');
  for (let size = 1; size <= 7; size++) {
    const splitter = new WatchLineSplitter();
    const got: string[] = [];
    for (let i = 0; i < bytes.length; i += size) got.push(...splitter.push(bytes.subarray(i, i + size)));
    assert.equal(splitter.end(), undefined);
    assert.deepEqual(got, lines, `chunks of ${size} bytes`);
  }
  const splitter = new WatchLineSplitter();
  assert.deepEqual(splitter.push(Buffer.from('{"a":1}\n{"b"')), ['{"a":1}']);
  assert.equal(splitter.end(), '{"b"');
});

test('seen events: one version per uid, the oldest forgotten past the bound, pruned to a list', () => {
  const seen = new SeenEvents(3);
  seen.add('a', '1');
  seen.add('b', '2');
  seen.add('a', '3');
  assert.ok(seen.has('a', '3'));
  assert.ok(!seen.has('a', '1'));
  seen.add('c', '4');
  seen.add('d', '5');
  assert.equal(seen.size, 3);
  assert.ok(!seen.has('b', '2'), 'b was the oldest');
  seen.keepOnly(new Set(['a', 'd']));
  assert.equal(seen.size, 2);
  assert.ok(seen.has('d', '5'));
});

test('delivered version: reported only once every earlier step settled, whatever order they settle in', () => {
  const reported: string[] = [];
  const versions = new DeliveredVersion((rv) => reported.push(rv));
  const a = versions.add('10');
  const b = versions.add(undefined);
  const c = versions.add('12');
  const d = versions.add('13');
  c();
  d();
  assert.deepEqual(reported, []);
  a();
  assert.deepEqual(reported, ['10']);
  b();
  assert.deepEqual(reported, ['10', '13']);
  const e = versions.add('14');
  e(false);
  e();
  assert.deepEqual(reported, ['10', '13'], 'a step whose events were refused records no version');
  assert.equal(versions.pending, 0);
});

test('db: resourceVersion written atomically (no temporary file left), reloaded only for the same API server and namespace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floki-events-db-'));
  try {
    const path = join(dir, 'sub', 'events.db');
    const errors: string[] = [];
    const db = new ResourceVersionDb(path, { kubeUrl: 'https://kubernetes.default.svc/', namespace: '' }, (m) => errors.push(m));
    assert.equal(db.load(), undefined);
    for (let i = 1; i <= 50; i++) db.save(String(i));
    await db.close();
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { kube_url: 'https://kubernetes.default.svc/', namespace: '', resourceVersion: '50' });
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['events.db']);
    db.save('51');
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).resourceVersion, '51', 'after close, saves are written at once');

    assert.equal(new ResourceVersionDb(path, { kubeUrl: 'https://kubernetes.default.svc/', namespace: '' }, () => {}).load(), '51');
    assert.equal(new ResourceVersionDb(path, { kubeUrl: 'https://other:6443/', namespace: '' }, () => {}).load(), undefined);
    assert.equal(new ResourceVersionDb(path, { kubeUrl: 'https://kubernetes.default.svc/', namespace: 'shop' }, () => {}).load(), undefined);
    writeFileSync(path, 'SQLite format 3\0');
    assert.equal(new ResourceVersionDb(path, { kubeUrl: 'https://kubernetes.default.svc/', namespace: '' }, (m) => errors.push(m)).load(), undefined);
    assert.match(errors.at(-1)!, /is not floki's JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
