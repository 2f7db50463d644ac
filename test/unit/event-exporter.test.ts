import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { PluginContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { EVENT_EXPORTER_RECORDS_METRIC, eventExporterFilter } from '../../src/filters/event_exporter/index.js';
import { SAMPLE_EVENT_DUMMY, SAMPLE_EVENT_JSON } from '../../src/inputs/dummy/sample-event.js';
import { TESTDATA } from '../helpers/testdata.js';
import { filterContext, processSync } from '../helpers/plugin-context.js';

const file = (pred: (name: string) => boolean): string => join(TESTDATA, readdirSync(TESTDATA).find(pred)!);
const CRI_FILE = file((n) => n.endsWith('.log') && !n.endsWith('.docker.log'));
const DOCKER_FILE = file((n) => n.endsWith('.docker.log'));

const context = (metrics = new Metrics()) => filterContext('x.0', metrics);

function parseRfc3339Nano(ts: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts);
  assert.ok(m, `not an RFC3339 UTC time: ${ts}`);
  return BigInt(Date.parse(m[1] + 'Z')) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** A tailed line after partials are joined: the record the tail input makes, and the exact content bytes. */
interface Tailed {
  event: LogEvent;
  content: Buffer;
  /** How many lines of the file it was made of. */
  parts: number;
}

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  if (start < buf.length) lines.push(buf.subarray(start));
  return lines;
}

/**
 * containerd CRI: `<time> <stream> <P|F> <content>`. Partials are joined per stream as bytes and decoded
 * only when whole, since a split can fall inside a UTF-8 character. The entry keeps the first part's time.
 */
function readCri(path: string): Tailed[] {
  const out: Tailed[] = [];
  const open = new Map<string, { time: string; parts: Buffer[] }>();
  for (const line of splitLines(readFileSync(path))) {
    const s1 = line.indexOf(0x20);
    const s2 = line.indexOf(0x20, s1 + 1);
    const s3 = line.indexOf(0x20, s2 + 1);
    const time = line.subarray(0, s1).toString('latin1');
    const stream = line.subarray(s1 + 1, s2).toString('latin1');
    const flag = line.subarray(s2 + 1, s3).toString('latin1');
    const part = line.subarray(s3 + 1);
    const pending = open.get(stream) ?? { time, parts: [] };
    pending.parts.push(part);
    if (flag === 'P') {
      open.set(stream, pending);
      continue;
    }
    assert.equal(flag, 'F');
    open.delete(stream);
    const content = Buffer.concat(pending.parts);
    out.push({
      content,
      parts: pending.parts.length,
      event: { tag: 'kube.cri', time: parseRfc3339Nano(pending.time), record: { stream, logtag: 'F', message: content.toString('utf8') } },
    });
  }
  assert.equal(open.size, 0, 'a partial line was never finished');
  return out;
}

/** docker json-file: a `log` without a trailing newline is a partial; the rest follows in the next line of its stream. */
function readDocker(path: string): Tailed[] {
  const out: Tailed[] = [];
  const open = new Map<string, { time: string; parts: Buffer[] }>();
  for (const line of splitLines(readFileSync(path))) {
    const entry = JSON.parse(line.toString('utf8')) as { log: string; stream: string; time: string };
    const pending = open.get(entry.stream) ?? { time: entry.time, parts: [] };
    pending.parts.push(Buffer.from(entry.log, 'utf8'));
    if (!entry.log.endsWith('\n')) {
      open.set(entry.stream, pending);
      continue;
    }
    open.delete(entry.stream);
    const content = Buffer.concat(pending.parts);
    out.push({
      content,
      parts: pending.parts.length,
      event: { tag: 'kube.docker', time: parseRfc3339Nano(pending.time), record: { log: content.toString('utf8'), stream: entry.stream, time: pending.time } },
    });
  }
  assert.equal(open.size, 0, 'a partial line was never finished');
  return out;
}

function readExpected(name: string): Array<{ ts: string; labels: Record<string, string> }> {
  return readFileSync(join(TESTDATA, name), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { ts: string; labels: Record<string, string> });
}

async function checkFile(tailed: Tailed[], expectedName: string, partialsJoined: number): Promise<void> {
  const expected = readExpected(expectedName);
  const metrics = new Metrics();
  const filter = eventExporterFilter.create({ key: ['log', 'message'], reserve_data: false }, context(metrics));
  const originals = tailed.map((t) => ({ record: t.event.record, copy: structuredClone(t.event.record) }));
  const events = tailed.map((t) => t.event);

  // The engine hands filters batches; several of them, as it would.
  const out: LogEvent[] = [];
  for (let i = 0; i < events.length; i += 64) out.push(...processSync(filter, events.slice(i, i + 64)));
  assert.equal(out.length, events.length, 'the filter keeps every record');

  const recognised: Tailed[] = [];
  for (let i = 0; i < out.length; i++) {
    const e = out[i]!;
    if (e.labels === undefined) {
      // Not an event: untouched.
      assert.equal(e.line, undefined);
      assert.equal(e.record, originals[i]!.record);
      assert.deepEqual(e.record, originals[i]!.copy);
    } else recognised.push(tailed[i]!);
  }
  assert.equal(recognised.length, expected.length, 'events found');

  let joined = 0;
  for (let i = 0; i < expected.length; i++) {
    const { event, content, parts } = recognised[i]!;
    const want = expected[i]!;
    // Labels exactly, including their order.
    assert.equal(JSON.stringify(event.labels), JSON.stringify(want.labels), `labels of event ${i}`);
    assert.equal(event.time, parseRfc3339Nano(want.ts), `time of event ${i}`);
    const contentWithoutNewline = content[content.length - 1] === 0x0a ? content.subarray(0, -1) : content;
    assert.ok(Buffer.from(event.line!, 'utf8').equals(contentWithoutNewline), `line of event ${i} is the content byte for byte`);
    assert.ok(!event.line!.includes('\uFFFD'), `event ${i} was joined on bytes, not characters`);
    // The record is now the event, so record accessors reach its fields.
    const io = event.record.involvedObject as Record<string, unknown>;
    assert.equal(io.kind, want.labels.kind);
    assert.equal(typeof io.name, 'string');
    if (parts > 1) joined++;
  }
  assert.equal(joined, partialsJoined, 'events that came in partial lines');

  const notEvents = tailed.length - expected.length;
  assert.ok(notEvents > 0);
  assert.equal(await metrics.value(EVENT_EXPORTER_RECORDS_METRIC, { name: 'x.0', result: 'event' }), expected.length);
  assert.equal(await metrics.value(EVENT_EXPORTER_RECORDS_METRIC, { name: 'x.0', result: 'not_event' }), notEvents);
}

test('CRI file: every event gets its labels, time and exact line; the rest pass unchanged', async () => {
  const tailed = readCri(CRI_FILE);
  assert.equal(tailed.length, 310);
  await checkFile(tailed, 'expected-cri.jsonl', 3);
});

test('docker file: every event gets its labels, time and exact line (no trailing newline); the rest pass unchanged', async () => {
  const tailed = readDocker(DOCKER_FILE);
  assert.equal(tailed.length, 156);
  await checkFile(tailed, 'expected-docker.jsonl', 2);
});

test('the line keeps Go escapes (\\u003c, \\u0026) and key order', () => {
  const filter = eventExporterFilter.create({}, context());
  const line = readFileSync(CRI_FILE, 'utf8').split('\n').map((l) => l.split(' ').slice(3).join(' ')).find((c) => c.includes('\\u003c'))!;
  assert.ok(line);
  const [e] = processSync(filter, [{ tag: 't', time: 1n, record: { log: line + '\n' } }]);
  assert.equal(e!.line, line);
  assert.notEqual(JSON.stringify(e!.record), line, 're-serialising would have changed it');
});

test('a record that is itself the event (parsed upstream) gets labels, and its JSON as line', () => {
  const filter = eventExporterFilter.create({}, context());
  const record = JSON.parse(SAMPLE_EVENT_JSON) as Record<string, unknown>;
  const [e] = processSync(filter, [{ tag: 't', time: 1n, record }]);
  assert.deepEqual(e!.labels, { type: 'Warning', reason: 'Unhealthy', kind: 'Pod', namespace: 'shop' });
  assert.equal(e!.line, JSON.stringify(record));
  assert.equal(e!.record, record);
});

test('a cluster-scoped object (Node) has no namespace label, even over an earlier one', () => {
  const filter = eventExporterFilter.create({}, context());
  const node = JSON.parse(SAMPLE_EVENT_JSON) as Record<string, Record<string, unknown>>;
  node.involvedObject = { kind: 'Node', name: 'worker-2', uid: 'u', apiVersion: 'v1' };
  const empty = structuredClone(node);
  empty.involvedObject!.namespace = '';
  const events = processSync(filter, [
    { tag: 't', time: 1n, record: { log: JSON.stringify(node) } },
    { tag: 't', time: 2n, record: empty, labels: { namespace: 'monitoring', pod: 'event-exporter-0' } },
  ]);
  assert.equal(JSON.stringify(events[0]!.labels), '{"type":"Warning","reason":"Unhealthy","kind":"Node"}');
  assert.deepEqual(events[1]!.labels, { pod: 'event-exporter-0', type: 'Warning', reason: 'Unhealthy', kind: 'Node' });
});

test('not events: exporter logs, torn JSON, JSON without the event shape, non-strings, other keys', async () => {
  const metrics = new Metrics();
  const filter = eventExporterFilter.create({ key: ['log'] }, context(metrics));
  const records: Array<Record<string, unknown>> = [
    { log: '{"level":"error","message":"Cannot list namespaces"}' },
    { log: SAMPLE_EVENT_JSON.slice(0, -40) },
    { log: '{"involvedObject":{"name":"no kind"},"reason":"x","type":"Normal"}' },
    { log: '[{"involvedObject":{"kind":"Pod"}}]' },
    { log: ' ' + SAMPLE_EVENT_JSON },
    { log: 42 },
    { message: SAMPLE_EVENT_JSON },
    { involvedObject: 'Pod', reason: 'x', type: 'Normal' },
    {},
  ];
  const copies = structuredClone(records);
  const events = processSync(filter, records.map((record, i) => ({ tag: 't', time: BigInt(i), record })));
  for (let i = 0; i < events.length; i++) {
    assert.equal(events[i]!.labels, undefined, `record ${i}`);
    assert.equal(events[i]!.line, undefined, `record ${i}`);
    assert.deepEqual(events[i]!.record, copies[i], `record ${i}`);
  }
  assert.equal(await metrics.value(EVENT_EXPORTER_RECORDS_METRIC, { name: 'x.0', result: 'not_event' }), records.length);
  assert.equal(await metrics.value(EVENT_EXPORTER_RECORDS_METRIC, { name: 'x.0', result: 'event' }), 0);
});

test('keys are tried in order; reserve_data keeps the other keys of the record', () => {
  const filter = eventExporterFilter.create({ key: ['message'], reserve_data: true }, context());
  const [e] = processSync(filter, [
    { tag: 't', time: 1n, record: { stream: 'stdout', message: SAMPLE_EVENT_JSON + '\n', kubernetes: { pod_name: 'event-exporter-0' } } },
  ]);
  assert.equal(e!.line, SAMPLE_EVENT_JSON);
  assert.equal(e!.record.stream, 'stdout');
  assert.deepEqual(e!.record.kubernetes, { pod_name: 'event-exporter-0' });
  assert.equal(e!.record.message, JSON.parse(SAMPLE_EVENT_JSON).message, "the event's own message wins");
  assert.equal((e!.record.involvedObject as Record<string, unknown>).name, 'api-7d9f8b6c5-xk2lp');
});

test('reserve_data keeps a key named __proto__ as a key, whether the record or the event has it', () => {
  const filter = eventExporterFilter.create({ key: ['log'], reserve_data: true }, context());
  const record = JSON.parse(`{"__proto__": {"polluted": true}, "log": ${JSON.stringify(SAMPLE_EVENT_JSON)}}`) as Record<string, unknown>;
  const [e] = processSync(filter, [{ tag: 't', time: 1n, record }]);
  assert.ok(Object.hasOwn(e!.record, '__proto__'), 'the record keeps its own __proto__ key');
  assert.deepEqual(Object.getOwnPropertyDescriptor(e!.record, '__proto__')!.value, { polluted: true });
  assert.equal(Object.getPrototypeOf(e!.record), Object.prototype, 'and its prototype is untouched');
  assert.equal((e!.record as { polluted?: unknown }).polluted, undefined);
});

test('the sample event is what the exporter prints: key order, Go escapes, recognised by the filter', () => {
  const keys = Object.keys(JSON.parse(SAMPLE_EVENT_JSON) as object);
  assert.deepEqual(keys, [
    'metadata', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime',
    'reportingComponent', 'reportingInstance', 'clusterName', 'involvedObject',
  ]);
  assert.doesNotMatch(SAMPLE_EVENT_JSON, /[<>&]/);
  assert.match(SAMPLE_EVENT_JSON, /\\u0026/);
  const filter = eventExporterFilter.create({}, context());
  const [e] = processSync(filter, [{ tag: 'dummy', time: 1n, record: JSON.parse(SAMPLE_EVENT_DUMMY) as Record<string, unknown> }]);
  assert.equal(e!.line, SAMPLE_EVENT_JSON);
  assert.deepEqual(e!.labels, { type: 'Warning', reason: 'Unhealthy', kind: 'Pod', namespace: 'shop' });
});

test('records in msgpack bytes with their JSON printed ahead: events get shared labels, other records pass unchanged', async () => {
  const { Packr } = await import('msgpackr');
  const { MsgpackEvent } = await import('../../src/inputs/forward/msgpack-event.js');
  const packr = new Packr({ useRecords: false });
  const exporterEvent = JSON.parse(SAMPLE_EVENT_JSON) as Record<string, unknown>;
  const exporterLine = JSON.stringify(exporterEvent);
  const records: Record<string, unknown>[] = [
    exporterEvent,
    { log: 'an application line', stream: 'stdout' },
    { log: exporterLine }, // the exporter's line inside a key: parsed, as for tailed files
    { ...exporterEvent, involvedObject: { ...(exporterEvent.involvedObject as object), namespace: 'other' } },
    exporterEvent,
  ];
  const events = records.map((r) => {
    const bytes = packr.pack(r);
    const e = new MsgpackEvent('kube.events', 1n, bytes, 0, bytes.length);
    // As the print thread leaves it: the text set ahead of the filter.
    e.json = JSON.stringify(r);
    return e;
  });
  const filter = eventExporterFilter.create({ key: ['log', 'message'], reserve_data: false }, context());
  processSync(filter, events);
  const { type, reason } = exporterEvent as { type: string; reason: string };
  const { kind, namespace } = exporterEvent.involvedObject as { kind: string; namespace: string };
  assert.deepEqual({ ...events[0]!.labels }, { type, reason, kind, namespace });
  assert.equal(events[0]!.line, exporterLine);
  assert.equal(events[0]!.msgpack, events[0], 'the record was not built');
  assert.equal(events[1]!.labels, undefined);
  assert.equal(events[1]!.line, undefined);
  assert.deepEqual(events[1]!.record, records[1]);
  assert.deepEqual({ ...events[2]!.labels }, { type, reason, kind, namespace });
  assert.equal(events[2]!.line, exporterLine);
  assert.equal(events[3]!.labels!.namespace, 'other');
  // Equal label sets are one frozen object; a different namespace is another.
  assert.equal(events[4]!.labels, events[0]!.labels);
  assert.notEqual(events[3]!.labels, events[0]!.labels);
  assert.ok(Object.isFrozen(events[0]!.labels));
});

test('records printed by the transcode thread: the labels come from the fields it captured, the same as from the bytes', async () => {
  const { Packr } = await import('msgpackr');
  const { MsgpackEvent } = await import('../../src/inputs/forward/msgpack-event.js');
  const { TranscodePool } = await import('../../src/msgpack/transcode-pool.js');
  const { LineFormatter } = await import('../../src/labels/line-formatter.js');
  const packr = new Packr({ useRecords: false });
  const exporterEvent = JSON.parse(SAMPLE_EVENT_JSON) as Record<string, unknown>;
  const io = exporterEvent.involvedObject as Record<string, unknown>;
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    if (i % 10 === 1) records.push({ log: 'an application line', stream: 'stdout' });
    else if (i % 10 === 2) {
      const { namespace: _, ...clusterScoped } = io;
      records.push({ ...exporterEvent, involvedObject: { ...clusterScoped, kind: 'Node' } });
    }
    else records.push({ ...exporterEvent, reason: `Reason${i % 3}` });
  }
  const chunk = Buffer.concat(records.map((r) => packr.pack(r)));
  const events: InstanceType<typeof MsgpackEvent>[] = [];
  for (let p = 0, i = 0; i < records.length; i++) {
    const n = packr.pack(records[i]).length;
    events.push(new MsgpackEvent('kube.events', 1n, chunk, p, p + n));
    p += n;
  }
  const bytesOnly = events.map((e) => new MsgpackEvent('kube.events', 1n, chunk, e.start, e.end));
  const pool = new TranscodePool({ minRecords: 1 });
  try {
    assert.equal(await pool.prepare(events), records.length);
  } finally {
    await pool.close();
  }
  assert.ok(events[0]!.printedFields !== undefined, 'the thread captured the fields');
  const filter = eventExporterFilter.create({ key: ['log', 'message'], reserve_data: false }, context());
  processSync(filter, events);
  processSync(filter, bytesOnly);
  events.forEach((e, i) => {
    assert.deepEqual(e.labels === undefined ? undefined : { ...e.labels }, bytesOnly[i]!.labels === undefined ? undefined : { ...bytesOnly[i]!.labels }, `record ${i}`);
    assert.equal(e.line, bytesOnly[i]!.line, `record ${i}`);
  });
  assert.equal(events[2]!.labels!.namespace, undefined);
  assert.equal(events[3]!.labels, events[6]!.labels, 'one frozen labels object per distinct values');
  // The Loki line's UTF-8 length comes from the thread too, and is the line's.
  const formatter = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: [] });
  for (const e of events) {
    const line = formatter.lineFor(e);
    assert.equal(formatter.utf8Bytes(line), Buffer.byteLength(line));
  }
});
