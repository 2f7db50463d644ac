/**
 * The http input's Fluent Bit keys beyond the protocol: add_remote_addr (Fluent Bit 5.1.1's rule, seen
 * on the binary: the first address of an X-Forwarded-For header, of the last such header with http2 on,
 * of the first with it off; a record's own key wins; no header, no key), HTTP/2 on the same port (prior
 * knowledge in clear text, ALPN over TLS) beside HTTP/1.1, and enable_health_endpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { selfSignedCert } from '../helpers/kube-apiserver.js';
import { start } from '../helpers/http-input-harness.js';

/** `forwardedFor`: one X-Forwarded-For header line per value. */
function post(url: string, body: string, forwardedFor: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
    if (forwardedFor.length) headers['X-Forwarded-For'] = forwardedFor;
    const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function http2Request(url: string, method: string, path: string, body?: string, ca?: string | Buffer): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, ca ? { ca } : {});
    session.on('error', reject);
    const stream = session.request({ ':method': method, ':path': path, 'content-type': 'application/json', 'x-forwarded-for': 'h2client' });
    let status = 0;
    let text = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8').on('data', (d: string) => (text += d));
    stream.on('end', () => {
      const protocol = session.alpnProtocol ?? 'h2c';
      session.close();
      resolve({ status, body: text, protocol });
    });
    stream.on('error', reject);
    stream.end(body);
  });
}

test('add_remote_addr: the first address of the last X-Forwarded-For header (http2 on), trimmed; a record keeps its own key', async (t) => {
  const { h, url } = await start(t, { add_remote_addr: true });
  assert.equal(await post(`${url}/x`, '{"a":1}', ['host1, host2']), 201);
  assert.equal(await post(`${url}/x`, '{"a":2}', ['host1, host2', 'host3, host4']), 201);
  assert.equal(await post(`${url}/x`, '{"a":3}', []), 201);
  assert.equal(await post(`${url}/x`, '[{"a":5},{"a":6,"REMOTE_ADDR":"mine"}]', ['  spaced  ']), 201);
  assert.deepEqual(
    h.events.map((e) => e.record),
    [{ a: 1, REMOTE_ADDR: 'host1' }, { a: 2, REMOTE_ADDR: 'host3' }, { a: 3 }, { a: 5, REMOTE_ADDR: 'spaced' }, { a: 6, REMOTE_ADDR: 'mine' }],
  );
});

test('add_remote_addr with http2 off takes the first header; remote_addr_key names the key', async (t) => {
  const { h, url } = await start(t, { add_remote_addr: true, http2: false, remote_addr_key: 'client' });
  assert.equal(await post(`${url}/x`, '{"a":2}', ['host1, host2', 'host3, host4']), 201);
  assert.deepEqual(h.events.map((e) => e.record), [{ a: 2, client: 'host1' }]);
});

test('http2 (the default): HTTP/2 by prior knowledge and HTTP/1.1 on one clear-text port; off: HTTP/1.1 only', async (t) => {
  const { h, url } = await start(t, { add_remote_addr: true });
  const answer = await http2Request(url, 'POST', '/h2.tag', '{"via":"h2"}');
  assert.equal(answer.status, 201);
  assert.equal(await post(`${url}/h1.tag`, '{"via":"h1"}', []), 201);
  assert.deepEqual(
    h.events.map((e) => [e.tag, e.record]),
    [
      ['h2.tag', { via: 'h2', REMOTE_ADDR: 'h2client' }],
      ['h1.tag', { via: 'h1' }],
    ],
  );

  // A request whose bytes arrive one at a time is still HTTP/1.1, though its "P" could begin the preface.
  const body = '{"via":"trickle"}';
  const raw = `POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  const status = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8').on('data', (d: string) => (reply += d));
    socket.on('end', () => resolve(reply.split('\r\n')[0]!));
    socket.on('error', reject);
    let i = 0;
    const next = () => (i < raw.length ? socket.write(raw[i++]!, () => setImmediate(next)) : undefined);
    socket.on('connect', next);
  });
  assert.equal(status, 'HTTP/1.1 201 Created');

  const off = await start(t, { http2: false });
  await assert.rejects(http2Request(off.url, 'POST', '/x', '{}'));
});

test('http2 over TLS: h2 chosen by ALPN, HTTP/1.1 clients still served', async (t) => {
  const cert = selfSignedCert();
  t.after(() => cert.remove());
  const { h, url } = await start(t, { tls: true, 'tls.crt_file': cert.certFile, 'tls.key_file': cert.keyFile });
  const answer = await http2Request(url, 'POST', '/secure', '{"n":1}', cert.cert);
  assert.deepEqual([answer.status, answer.protocol], [201, 'h2']);
  assert.deepEqual(h.events.map((e) => [e.tag, e.record]), [['secure', { n: 1 }]]);
});

test('enable_health_endpoint: GET /health answers Fluent Bit\'s JSON; without it /health is not an endpoint', async (t) => {
  const on = await start(t, { enable_health_endpoint: true });
  const health = await http2Request(on.url, 'GET', '/health');
  assert.equal(health.status, 200);
  const parsed = JSON.parse(health.body) as { status: string; timestamp: string };
  assert.equal(parsed.status, 'ok');
  assert.ok(!Number.isNaN(Date.parse(parsed.timestamp)), parsed.timestamp);
  const off = await start(t);
  assert.equal((await http2Request(off.url, 'GET', '/health')).status, 405);
});

test('stop() ends with idle HTTP/1.1 keep-alive connections and open HTTP/2 sessions', async (t) => {
  const { input, url } = await start(t);
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  await new Promise<void>((resolve, reject) => {
    const req = http.request(`${url}/x`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => (res.resume(), res.on('end', resolve)));
    req.on('error', reject);
    req.end('{}');
  });
  const session = http2.connect(url);
  t.after(() => session.destroy());
  await new Promise((r) => session.once('connect', r));
  const started = Date.now();
  await input.stop();
  assert.ok(Date.now() - started < 2000, `stopped in ${Date.now() - started} ms`);
});
