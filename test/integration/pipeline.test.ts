/**
 * floki end to end, as a user runs it: the CLI from the config, a real TCP client sending
 * kubernetes-event-exporter events in the forward protocol's three modes, and a Loki receiver that
 * decodes the wire format on its own.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Unpackr } from 'msgpackr';
import { LokiReceiver, type ReceivedEntry } from '../helpers/loki-receiver.js';
import { FlokiProcess, scrapeMetric } from '../helpers/floki-process.js';
import { arr, bin, cat, entry, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { criLines, expectedEvents, rfc3339ToNs } from '../helpers/testdata.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: \${HTTP_PORT}
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: \${FORWARD_PORT}
  filters:
    - name: event_exporter
      match: '*'
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: \${LOKI_PORT}
      labels: job=floki
`;

interface Running {
  floki: FlokiProcess;
  httpPort: number;
  loki: LokiReceiver;
  forwardPort: number;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

async function start(t: TestContext, extra = '', forwardExtra = ''): Promise<Running> {
  const loki = await LokiReceiver.start();
  const config = CONFIG.replace('      port: ${FORWARD_PORT}\n', `      port: \${FORWARD_PORT}\n${forwardExtra}`);
  // Port 0 everywhere: floki reports the ports it got, so no other process can take them in between.
  const floki = FlokiProcess.withConfig(config + extra, { HTTP_PORT: '0', FORWARD_PORT: '0', LOKI_PORT: String(loki.port) });
  t.after(async () => {
    await floki.stop();
    await loki.close();
  });
  await floki.ready();
  const [forwardPort, httpPort] = [floki.port('forward.0'), floki.port('service')];
  const metric = (name: string, labels: Record<string, string> = {}): Promise<number> => scrapeMetric(httpPort, name, labels);
  return { floki, loki, forwardPort, httpPort, metric };
}

function send(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

/** The exporter's events from the sample log, with the labels and timestamps they must get. */
function sampleEvents() {
  const lines = criLines().filter((l) => l.stream === 'stdout' && l.content.includes('"involvedObject"') && isJson(l.content));
  const expected = expectedEvents();
  assert.equal(lines.length, expected.length, 'every sample event has an expectation');
  return lines.map((l, i) => {
    assert.equal(l.time, expected[i]!.ts);
    return { json: l.content, ts: expected[i]!.ts, ns: rfc3339ToNs(expected[i]!.ts), labels: expected[i]!.labels };
  });
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

const secNs = (ns: bigint) => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)] as const;

function byTime(entries: ReceivedEntry[]): ReceivedEntry[] {
  return [...entries].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

test('events in Message, Forward and PackedForward modes arrive in Loki with their labels, exact timestamps and lines', async (t) => {
  const { loki, forwardPort } = await start(t);
  const events = sampleEvents().slice(0, 90);
  const [a, b, c] = [events.slice(0, 30), events.slice(30, 60), events.slice(60)];

  // Message mode, one frame per event, the record *is* the event (Fluentd parsed the exporter's JSON).
  const message = cat(...a.map((e) => cat(arr(3), str('fluentd.events'), eventTime(...secNs(e.ns)), rec(JSON.parse(e.json)))));
  // Forward mode, the event as Fluent Bit tails it from the exporter's container: a JSON string in `log`.
  const forward = cat(arr(2), str('kube.var.log.containers.event-exporter'), arr(b.length), ...b.map((e) => entry(eventTime(...secNs(e.ns)), { log: e.json + '\n', stream: 'stdout' })));
  // PackedForward: concatenated entries in a bin, the event in `message`; plus one record that is not an event.
  const notEvent = { message: 'Cannot list namespaces', level: 'error' };
  const packedEntries = cat(...c.map((e) => entry(eventTime(...secNs(e.ns)), { message: e.json })), entry(eventTime(1764064800, 5), notEvent));
  const packed = cat(arr(3), str('app.packed'), bin(packedEntries), rec({ size: c.length + 1 }));

  await Promise.all([send(forwardPort, message), send(forwardPort, forward), send(forwardPort, packed)]);
  await loki.waitFor(events.length + 1, 15_000);
  assert.equal(loki.entries.length, events.length + 1);

  const got = new Map(loki.entries.map((e) => [e.ts, e]));
  for (const [i, e] of events.entries()) {
    const r = got.get(e.ns);
    assert.ok(r, `event ${i} (${e.ts}) arrived with its exact timestamp`);
    assert.deepEqual(r.labels, { job: 'floki', ...e.labels }, `labels of event ${i}`);
    // A parsed record is serialised as JSON; a string from `log`/`message` is the line exactly as printed.
    assert.equal(r.line, i < 30 ? JSON.stringify(JSON.parse(e.json)) : e.json, `line of event ${i}`);
  }
  const other = got.get(1764064800_000000005n);
  assert.ok(other);
  assert.deepEqual(other.labels, { job: 'floki' });
  assert.deepEqual(JSON.parse(other.line), notEvent);

  // Within each stream, entries are in time order.
  const streams = new Map<string, bigint[]>();
  for (const e of loki.entries) streams.set(e.labelString, [...(streams.get(e.labelString) ?? []), e.ts]);
  for (const [labels, times] of streams) assert.deepEqual(times, [...times].sort((x, y) => (x < y ? -1 : 1)), `order in ${labels}`);
});

test('a Loki answering 503 twice then 204: the batch is delivered once, after two retries', async (t) => {
  const { loki, forwardPort, metric } = await start(t, '      retry_min_backoff: 50ms\n      retry_max_backoff: 200ms\n');
  loki.respond(503, 503);
  const events = sampleEvents().slice(0, 10);
  await send(forwardPort, cat(arr(2), str('t'), arr(events.length), ...events.map((e) => entry(eventTime(...secNs(e.ns)), { log: e.json }))));
  await loki.waitFor(events.length, 15_000);
  assert.deepEqual(loki.requestLog.map((r) => r.outcome), [503, 503, 204]);
  assert.deepEqual(byTime(loki.entries).map((e) => e.ts), events.map((e) => e.ns));
  await waitFor(async () => (await metric('floki_output_retries_total', { name: 'loki.0' })) === 2, 'two retries counted');
  assert.equal(await metric('floki_output_dropped_records_total', { name: 'loki.0' }), 0);
});

test('a Loki answering 400: the refused entries are dropped, counted and not retried; later batches still flow', async (t) => {
  const { loki, forwardPort, metric } = await start(t, '      retry_min_backoff: 50ms\n      batch_wait: 100ms\n');
  const events = sampleEvents().slice(0, 5);
  // Loki refuses these five entries whichever request holds them (the output sends a refused batch
  // again in halves until each refused entry stands alone: see loki-reliability.test.ts).
  const refused = new Set(events.map((e) => e.ns));
  loki.rule = (r) => (r.received.some((e) => refused.has(e.ts)) ? { status: 400, body: "entry for stream '{job=\"floki\"}' has timestamp too old: 2020-01-01T00:00:00Z" } : undefined);
  const frame = (es: typeof events) => cat(arr(2), str('t'), arr(es.length), ...es.map((e) => entry(eventTime(...secNs(e.ns)), { log: e.json })));
  await send(forwardPort, frame(events));
  await waitFor(async () => (await metric('floki_output_dropped_records_total', { name: 'loki.0' })) === events.length, 'five entries counted as dropped', 15_000);
  const requests = loki.requests;
  assert.equal(loki.entries.length, 0);

  const later = sampleEvents().slice(5, 8);
  await send(forwardPort, frame(later));
  await loki.waitFor(later.length, 15_000);
  assert.equal(loki.requests, requests + 1, 'a refused entry is never sent again once it stood alone');
});

test('health and Prometheus endpoints: ok, and the per-plugin metrics', async (t) => {
  const { loki, forwardPort, httpPort } = await start(t);
  const health = await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok');

  const events = sampleEvents().slice(0, 4);
  await send(forwardPort, cat(arr(2), str('t'), arr(events.length), ...events.map((e) => entry(eventTime(...secNs(e.ns)), { log: e.json }))));
  await loki.waitFor(events.length, 15_000);
  for (const path of ['/api/v1/metrics/prometheus', '/metrics']) {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^floki_input_records_total\{name="forward\.0"\} 4$/m, path);
    await waitFor(async () => /^floki_output_proc_records_total\{name="loki\.0"\} 4$/m.test(await (await fetch(`http://127.0.0.1:${httpPort}${path}`)).text()), 'records out');
    for (const name of ['floki_output_dropped_records_total', 'floki_output_retries_total', 'floki_output_errors_total', 'floki_output_queue_bytes']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exported`);
    }
  }
});


for (const threaded of ['on', 'off']) {
  test(`PackedForward chunks of parsed events, threaded ${threaded}: JSON lines, labels, acks in order; records the printer declines still arrive`, async (t) => {
    const { loki, forwardPort, metric } = await start(t, '', `      threaded: ${threaded}\n`);
    const samples = sampleEvents();
    // 5 chunks of 150 events (the record is the event, as Fluentd or Fluent Bit parsed it), each a
    // different second; one event carries a bin value and one record is not an event at all. The
    // first goes alone: printing ahead starts once a chunk's JSON was read (json-demand.ts).
    const chunks: { id: string; records: { ns: bigint; record: Record<string, unknown>; labels: Record<string, string> }[] }[] = [];
    for (let c = 0; c < 5; c++) {
      const records = Array.from({ length: 150 }, (_, i) => {
        const s = samples[(c * 150 + i) % samples.length]!;
        return { ns: BigInt(1764064800 + c) * 1_000_000_000n + BigInt(i), record: JSON.parse(s.json) as Record<string, unknown>, labels: { job: 'floki', ...s.labels } };
      });
      chunks.push({ id: `chunk-${c}`, records });
    }
    const withBin = chunks[2]!.records[7]!;
    withBin.record = { ...withBin.record, blob: Buffer.from([1, 2, 3]) };
    chunks[3]!.records[9] = { ns: chunks[3]!.records[9]!.ns, record: { message: 'not an event', n: 1 }, labels: { job: 'floki' } };
    const frames = chunks.map((c) =>
      cat(arr(3), str('fluentd.events'), bin(cat(...c.records.map((r) => entry(eventTime(...secNs(r.ns)), r.record)))), rec({ size: c.records.length, chunk: c.id })),
    );

    const acks: string[] = [];
    const socket = connect(forwardPort, '127.0.0.1');
    const unpackr = new Unpackr({ useRecords: false });
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      let used = 0;
      try {
        unpackr.unpackMultiple(pending, (v: { ack: string }, _start?: number, end?: number) => {
          acks.push(v.ack);
          used = end ?? pending.length;
        });
        pending = Buffer.alloc(0);
      } catch {
        pending = pending.subarray(used); // a partial ack: wait for the rest
      }
    });
    t.after(() => socket.destroy());
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(frames[0]!);
    await waitFor(() => acks.length === 1, 'the first chunk acked');
    socket.write(cat(...frames.slice(1)));

    const total = chunks.reduce((n, c) => n + c.records.length, 0);
    await loki.waitFor(total, 20_000);
    await waitFor(() => acks.length === chunks.length, 'every chunk acked');
    assert.deepEqual(acks, chunks.map((c) => c.id), 'acks in the order the chunks were sent');
    const got = new Map(loki.entries.map((e) => [e.ts, e]));
    assert.equal(got.size, total);
    for (const c of chunks) {
      for (const r of c.records) {
        const e = got.get(r.ns);
        assert.ok(e, `${r.ns} arrived`);
        assert.equal(e.line, JSON.stringify(r.record), `line of ${r.ns}`);
        assert.deepEqual(e.labels, r.labels, `labels of ${r.ns}`);
      }
    }
    assert.match(got.get(withBin.ns)!.line, /"blob":\{"type":"Buffer","data":\[1,2,3\]\}/);
    // With the thread, it printed every record after the first chunk but the one with a bin value (left to the main thread).
    assert.equal(await metric('floki_input_thread_printed_records_total', { name: 'forward.0' }), threaded === 'on' ? total - chunks[0]!.records.length - 1 : 0);
  });
}
