/**
 * The http input on real sockets: in process with a recording pipeline for the protocol's cases, and
 * end to end through floki into the decoding Loki receiver, posting kubernetes-event-exporter's webhook
 * bodies as its Go client sends them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { BackpressureError } from '../../src/core/plugin.js';
import { EventExporterFilter } from '../../src/filters/event_exporter/index.js';
import { httpInput } from '../../src/inputs/http/index.js';
import { start } from '../helpers/http-input-harness.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { FlokiProcess } from '../helpers/floki-process.js';
import { selfSignedCert } from '../helpers/kube-apiserver.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { criLines, expectedEvents } from '../helpers/testdata.js';
import { waitFor } from '../helpers/wait.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers; `body` as an array is sent in chunks without Content-Length. */
function request(url: string, body: string | Buffer | Buffer[], headers: Record<string, string> = {}, ca?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const chunked = Array.isArray(body);
    const options: https.RequestOptions = { method: 'POST', headers: { ...headers }, agent: false, ca };
    if (!chunked) (options.headers as Record<string, string>)['Content-Length'] = String(Buffer.byteLength(body));
    const req = (target.protocol === 'https:' ? https : http).request(target, options, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (chunked) {
      for (const part of body) req.write(part);
      req.end();
    } else req.end(body);
  });
}

/** The headers kubernetes-event-exporter's webhook receiver (Go net/http) sends with an event, no layout. */
const GO_WEBHOOK_HEADERS = { 'User-Agent': 'Go-http-client/1.1', 'Content-Type': 'application/json', 'Accept-Encoding': 'gzip' };

/** Events from the shared sample: the JSON the exporter prints is exactly the webhook body it posts. */
function exporterEvents(count: number) {
  const lines = criLines().filter((l) => l.stream === 'stdout' && l.content.includes('"involvedObject"') && isJson(l.content));
  const expected = expectedEvents();
  // The ones with escaped <>& and the longest (over 16 KiB) among them.
  const picked = lines.map((l, i) => ({ json: l.content, labels: expected[i]!.labels })).sort((a, b) => b.json.length - a.json.length);
  const withEscapes = picked.filter((e) => e.json.includes('\\u0026'));
  return [...withEscapes.slice(0, 2), ...picked.filter((e) => !withEscapes.includes(e)).slice(0, count - 2)];
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

test("kubernetes-event-exporter's webhook receiver, no layout: one event per POST, answered 201 once queued, labelled by the event_exporter filter", async (t) => {
  const { h, url } = await start(t);
  const events = exporterEvents(12);
  assert.ok(events.some((e) => e.json.length > 16 * 1024), 'a body over 16 KiB is among them');
  for (const e of events) {
    const answer = await request(`${url}/kube.events`, e.json, GO_WEBHOOK_HEADERS);
    assert.equal(answer.status, 201, answer.body);
    assert.equal(answer.body, '');
  }
  assert.equal(h.events.length, events.length);
  const filter = new EventExporterFilter({}, { ...h.ctx, name: 'event_exporter.0' });
  const filtered = filter.process(h.events);
  for (const [i, e] of events.entries()) {
    assert.equal(filtered[i]!.tag, 'kube.events');
    assert.deepEqual(filtered[i]!.record, JSON.parse(e.json));
    assert.deepEqual(filtered[i]!.labels, e.labels);
    // The line is the same JSON; the exporter's Go escapes of <>& are the only bytes that differ.
    assert.equal(filtered[i]!.line, JSON.stringify(JSON.parse(e.json)));
  }

  // 201 comes only once the pipeline has the records.
  let open!: () => void;
  h.gate = new Promise((r) => (open = r));
  let answered = false;
  const pending = request(`${url}/kube.events`, events[0]!.json, GO_WEBHOOK_HEADERS).then((a) => ((answered = true), a));
  const calls = h.emitCalls;
  await waitFor(() => h.emitCalls === calls + 1, 'the records handed to the pipeline');
  // A request made after that one, answered without the pipeline (405), is a barrier: an answer to the
  // first that did not wait for the pipeline would have been written before it. The gate then stays
  // shut for half a second more (an answer sent late, but before the records are queued, shows by its
  // end); `answered` only ever turns true, so checked at the end the check covers the whole time shut.
  const barrier = await new Promise<number>((resolve, reject) => {
    http.get(`${url}/kube.events`, { agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
  });
  assert.equal(barrier, 405);
  assert.equal(answered, false, 'no answer while the records are not queued');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(answered, false, 'no answer while the records are not queued');
  open();
  assert.equal((await pending).status, 201);
});

test('arrays and JSON lines; the tag from the path, from tag_key, or the instance name; a form; gzip', async (t) => {
  const { h, url } = await start(t, { tag_key: 'stream_tag' });
  assert.equal((await request(`${url}/`, '[{"a":1},{"a":2,"stream_tag":"custom.x"}]', { 'Content-Type': 'application/json' })).status, 201);
  assert.equal((await request(`${url}/app.log`, '{"b":1}\n{"b":2}\n\n{"b":3}\n', { 'Content-Type': 'application/x-ndjson' })).status, 201);
  assert.equal((await request(`${url}/form`, 'msg=hi+there&level=info', { 'Content-Type': 'application/x-www-form-urlencoded' })).status, 201);
  assert.equal((await request(`${url}/gz`, gzipSync('{"c":1}'), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })).status, 201);
  assert.equal((await request(`${url}/chunked`, [Buffer.from('[{"d":'), Buffer.from('1}]')], { 'Content-Type': 'application/json' })).status, 201);
  assert.deepEqual(
    h.events.map((e) => [e.tag, e.record]),
    [
      ['http.0', { a: 1 }],
      ['custom.x', { a: 2, stream_tag: 'custom.x' }],
      ['app.log', { b: 1 }],
      ['app.log', { b: 2 }],
      ['app.log', { b: 3 }],
      ['form', { msg: 'hi there', level: 'info' }],
      ['gz', { c: 1 }],
      ['chunked', { d: 1 }],
    ],
  );
  // Times are now, in order, to the nanosecond.
  const times = h.events.map((e) => e.time);
  assert.deepEqual(times, [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
});

test('bad JSON is 400 with the reason, an oversized body 413 (declared, streamed or once gunzipped), nothing is queued', async (t) => {
  const { h, url } = await start(t, { buffer_max_size: '1K' });
  const bad = await request(`${url}/x`, '{"reason":"BackOff",', { 'Content-Type': 'application/json' });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /^invalid JSON: .+/);
  const notObject = await request(`${url}/x`, '[{"a":1},"b"]', { 'Content-Type': 'application/json' });
  assert.equal(notObject.status, 400);
  assert.equal(notObject.body, 'array element 1 is a string, not a JSON object\n');
  const badLine = await request(`${url}/x`, '{"a":1}\n{"a":2\n', { 'Content-Type': 'application/x-ndjson' });
  assert.equal(badLine.status, 400);
  assert.match(badLine.body, /^invalid JSON on line 2: /);
  assert.equal((await request(`${url}/x`, '', { 'Content-Type': 'application/json' })).status, 400);

  const big = JSON.stringify({ log: 'x'.repeat(2000) });
  const declared = await request(`${url}/x`, big, { 'Content-Type': 'application/json' });
  assert.equal(declared.status, 413);
  assert.match(declared.body, /buffer_max_size \(1024 bytes\)/);
  assert.equal((await request(`${url}/x`, [Buffer.from(big.slice(0, 600)), Buffer.from(big.slice(600))], { 'Content-Type': 'application/json' })).status, 413);
  const bomb = await request(`${url}/x`, gzipSync(big), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
  assert.equal(bomb.status, 413);
  assert.match(bomb.body, /once decompressed/);
  assert.equal((await request(`${url}/x`, '{}', { 'Content-Encoding': 'br' })).status, 415);
  assert.equal(h.events.length, 0);
});

test('bearer_token: 401 without it or with a wrong one, 201 with it', async (t) => {
  const { h, url } = await start(t, { bearer_token: 's3cret' });
  const none = await request(`${url}/x`, '{"a":1}', { 'Content-Type': 'application/json' });
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer');
  assert.equal((await request(`${url}/x`, '{"a":1}', { Authorization: 'Bearer wrong' })).status, 401);
  assert.equal((await request(`${url}/x`, '{"a":1}', { Authorization: 'Basic czNjcmV0' })).status, 401);
  assert.equal((await request(`${url}/x`, '{"a":1}', { Authorization: 'Bearer s3cret' })).status, 201);
  assert.equal(h.events.length, 1);
});

test('backpressure: 503 with Retry-After while an output is full, 201 again once it drained; a refused emit is 503 too, another failure 500', async (t) => {
  const { h, input, url } = await start(t);
  h.paused = true;
  input.pause();
  const busy = await request(`${url}/x`, '{"a":1}', { 'Content-Type': 'application/json' });
  assert.equal(busy.status, 503);
  assert.equal(busy.headers['retry-after'], '2', 'service.flush (2s here), so the client comes back after a flush');
  assert.match(busy.body, /backpressure/);
  h.paused = false;
  input.resume();
  assert.equal((await request(`${url}/x`, '{"a":2}', { 'Content-Type': 'application/json' })).status, 201);
  h.failWith = new BackpressureError('disk buffer full');
  const refused = await request(`${url}/x`, '{"a":3}', { 'Content-Type': 'application/json' });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers['retry-after'], '2');
  assert.match(refused.body, /disk buffer full/);
  // Another error than a full output: resending would fail again, so 500 and no Retry-After.
  h.failWith = new Error('not a record this pipeline can take');
  const failed = await request(`${url}/x`, '{"a":4}', { 'Content-Type': 'application/json' });
  assert.equal(failed.status, 500);
  assert.equal(failed.headers['retry-after'], undefined);
  assert.match(failed.body, /not a record this pipeline can take/);
  assert.deepEqual(h.events.map((e) => e.record), [{ a: 2 }]);
});

test('tls: HTTPS with tls.crt_file and tls.key_file; successful_response_code', async (t) => {
  const cert = selfSignedCert();
  t.after(() => cert.remove());
  const { h, url } = await start(t, { tls: true, 'tls.crt_file': cert.certFile, 'tls.key_file': cert.keyFile, successful_response_code: 204 });
  assert.match(url, /^https:/);
  const answer = await request(`${url}/secure`, '{"a":1}', { 'Content-Type': 'application/json' }, cert.cert);
  assert.equal(answer.status, 204);
  assert.deepEqual(h.events.map((e) => [e.tag, e.record]), [['secure', { a: 1 }]]);
  assert.throws(() => httpInput.check!({ tls: true }, { parsers: new ParserRegistry() }), /tls\.crt_file and tls\.key_file/);
  assert.throws(() => httpInput.check!({ successful_response_code: 202 }, { parsers: new ParserRegistry() }), /200, 201 or 204/);
});

test('end to end: webhook bodies through floki into Loki with the exporter labels; 503 while Loki stalls and the queue is full', async (t) => {
  const loki = await LokiReceiver.start();
  const floki = FlokiProcess.withConfig(`service:
  flush: 1
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: 0
  filters:
    - name: event_exporter
      match: 'kube.*'
  outputs:
    - name: loki
      match: '*'
      url: ${loki.url}
      labels: job=floki
      batch_wait: 50ms
      mem_buf_limit: 16K
`);
  t.after(async () => {
    await floki.stop();
    await loki.close();
  });
  await floki.ready();
  const port = floki.port('http.0');
  const url = `http://127.0.0.1:${port}/kube.events`;
  const appUrl = `http://127.0.0.1:${port}/app`;
  const events = exporterEvents(40).filter((e) => e.json.length < 2500).slice(0, 5);
  for (const e of events) assert.equal((await request(url, e.json, GO_WEBHOOK_HEADERS)).status, 201);
  await loki.waitFor(events.length, 10_000);
  for (const e of events) {
    const entry = loki.entries.find((x) => x.line === JSON.stringify(JSON.parse(e.json)));
    assert.ok(entry, 'the event in Loki');
    assert.deepEqual(entry.labels, { job: 'floki', ...e.labels });
  }

  // Loki stops answering: the queue passes mem_buf_limit and the webhook is told to come back later.
  loki.respond('stall');
  const big = JSON.stringify({ log: 'x'.repeat(6000) });
  let answer: Answer | undefined;
  await waitFor(async () => {
    answer = await request(appUrl, big, { 'Content-Type': 'application/json' });
    return answer.status === 503;
  }, 'a 503 under backpressure', 10_000);
  assert.equal(answer!.headers['retry-after'], '1');
  await waitFor(() => loki.requestLog.some((r) => r.outcome === 'stalled'), 'the stalled push');
  loki.release();
  await waitFor(async () => (await request(appUrl, '{"after":"drain"}', { 'Content-Type': 'application/json' })).status === 201, '201 after the drain', 10_000);
  await waitFor(() => loki.entries.some((e) => e.line === '{"after":"drain"}'), 'the record sent after the drain');
});
