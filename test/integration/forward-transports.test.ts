/**
 * The forward input's transports: TLS on the port (with and without client certificates), a unix
 * socket with its permissions, and the UDP heartbeat on the same port number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { arr, cat, eventTime, NS, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { capturingLog, handshake, makeCertificates, RawClient, startServer } from './forward-harness.js';

const SEC = 1764064800;
const chunk = (id: string, n: number): Buffer => cat(arr(4), str('t'), eventTime(SEC, n), rec({ n }), rec({ chunk: id }));

test('TLS: a client that trusts the CA sends events and gets acks; a plain TCP client is refused and counted', async (t) => {
  const certs = makeCertificates((fn) => t.after(fn));
  const { log, lines } = capturingLog();
  const h = await startServer(t, { tls: true, 'tls.crt_file': certs.serverCrt, 'tls.key_file': certs.serverKey }, undefined, log);
  const client = await RawClient.connect(t, { port: h.port, tls: { ca: readFileSync(certs.caCrt) } });
  await client.write(chunk('tls-1', 1));
  assert.deepEqual(await client.waitReplies(1), [{ ack: 'tls-1' }]);
  assert.deepEqual(h.events.map((e) => e.time), [NS(SEC, 1)]);

  const plain = await RawClient.connect(t, h.port);
  await plain.write(chunk('plain', 2)).catch(() => {});
  await plain.waitClosed();
  await waitFor(async () => (await h.metric('floki_input_auth_failures_total')) === 1, 'the failed TLS handshake counted');
  assert.equal(h.events.length, 1);
  assert.ok(lines.some((l) => l.msg === 'forward: TLS handshake failed'));
});

test('TLS with a shared key: the handshake runs inside TLS', async (t) => {
  const certs = makeCertificates((fn) => t.after(fn));
  const h = await startServer(t, { tls: true, 'tls.crt_file': certs.serverCrt, 'tls.key_file': certs.serverKey, shared_key: 'over-tls' });
  const client = await RawClient.connect(t, { port: h.port, tls: { ca: readFileSync(certs.caCrt) } });
  assert.equal((await handshake(client, { sharedKey: 'over-tls' })).pong[1], true);
  await client.write(chunk('s1', 3));
  await waitFor(() => h.events.length === 1, 'the event');
});

test('tls.verify: a client certificate from tls.ca_file is required; none, or a stranger, is refused', async (t) => {
  const certs = makeCertificates((fn) => t.after(fn));
  const h = await startServer(t, {
    tls: true,
    'tls.crt_file': certs.serverCrt,
    'tls.key_file': certs.serverKey,
    'tls.verify': true,
    'tls.ca_file': certs.caCrt,
  });
  const ca = readFileSync(certs.caCrt);
  const trusted = await RawClient.connect(t, { port: h.port, tls: { ca, cert: readFileSync(certs.clientCrt), key: readFileSync(certs.clientKey) } });
  await trusted.write(chunk('mtls', 4));
  assert.deepEqual(await trusted.waitReplies(1), [{ ack: 'mtls' }]);

  for (const tls of [{ ca }, { ca, cert: readFileSync(certs.strangerCrt), key: readFileSync(certs.strangerKey) }]) {
    // TLS 1.3: the client's handshake completes before the server checks its certificate, so the
    // refusal shows as the connection closing without any ack.
    const refused = await RawClient.connect(t, { port: h.port, tls }).catch(() => undefined);
    if (refused) {
      await refused.write(chunk('nope', 5)).catch(() => {});
      await refused.waitClosed();
      assert.deepEqual(refused.replies(), []);
    }
  }
  await waitFor(async () => (await h.metric('floki_input_auth_failures_total')) === 2, 'two refused client certificates');
  assert.deepEqual(h.events.map((e) => e.record.n), [4]);
});

test('TLS: a client that gives up during the handshake leaves no half-open socket behind, nor a slot of net.max_connections', async (t) => {
  const certs = makeCertificates((fn) => t.after(fn));
  const h = await startServer(t, { tls: true, 'tls.crt_file': certs.serverCrt, 'tls.key_file': certs.serverKey, 'net.max_connections': 1, 'net.accept_timeout': 300 });
  // A client that connects and closes its side before any handshake (as a TLS client that refuses the
  // server's certificate may): the server's socket stays half-open until the handshake times out.
  const quitter = netConnect(h.port, '127.0.0.1');
  t.after(() => quitter.destroy());
  quitter.on('error', () => {});
  await new Promise<void>((resolve) => quitter.once('connect', () => resolve()));
  quitter.end();
  let closedByServer = false;
  quitter.once('close', () => (closedByServer = true));
  await waitFor(async () => (await h.metric('floki_input_auth_failures_total')) === 1, 'the failed TLS handshake counted');
  await waitFor(() => closedByServer, 'the server closing its side once the handshake timed out', 2000);
  // Left open, it would still count as a connection, and the next client would get in only by evicting it.
  const client = await RawClient.connect(t, { port: h.port, tls: { ca: readFileSync(certs.caCrt) } });
  await client.write(chunk('after', 7));
  assert.deepEqual(await client.waitReplies(1), [{ ack: 'after' }]);
  assert.equal(await h.metric('floki_input_connections_evicted_total', { reason: 'max_connections' }), 0, 'no socket of the failed handshake was left to evict');
});

test('TLS: a certificate file that cannot be read fails start with a clear error', async (t) => {
  await assert.rejects(startServer(t, { tls: true, 'tls.crt_file': '/nonexistent/server.crt', 'tls.key_file': '/nonexistent/server.key' }), /cannot read tls\.crt_file \/nonexistent\/server\.crt: ENOENT/);
});

test('unix socket: events and acks, the permissions set, a stale socket file replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floki-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'forward.sock');
  const first = await startServer(t, { unix_path: path, unix_perm: '0660' });
  assert.equal(statSync(path).mode & 0o777, 0o660);
  assert.equal(first.server.address(), null);
  assert.equal(first.server.heartbeatPort(), undefined, 'no UDP heartbeat for a unix socket');
  await first.server.stop();

  // A socket file left behind (a crash) is replaced; any other file is not.
  writeFileSync(join(dir, 'not-a-socket'), 'data');
  await assert.rejects(startServer(t, { unix_path: join(dir, 'not-a-socket') }), /exists and is not a socket/);
  const h = await startServer(t, { unix_path: path });
  const client = await RawClient.connect(t, { path });
  await client.write(chunk('u1', 6));
  assert.deepEqual(await client.waitReplies(1), [{ ack: 'u1' }]);
  assert.equal(h.events[0]!.record.n, 6);
  await h.server.stop();
  await client.waitClosed();
  assert.equal(existsSync(path), false, 'the socket file is removed on stop');
});

test('UDP heartbeat: a datagram to the same port number is answered with one 0x00 byte', async (t) => {
  const h = await startServer(t);
  assert.equal(h.server.heartbeatPort(), h.port);
  const udp = createSocket('udp4');
  t.after(() => udp.close());
  const answer = new Promise<Buffer>((resolve) => udp.once('message', (msg) => resolve(msg)));
  udp.send(Buffer.from([0x00]), h.port, '127.0.0.1');
  assert.deepEqual(await answer, Buffer.from([0x00]));
});
