/**
 * The forward output when receivers misbehave: a connection dropped before the ack, an ack that never
 * comes, a handshake with the wrong key, an upstream with a node down, TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { makeCertificates } from './forward-harness.js';
import {
  assertDeliveredOnceInLokiTerms,
  closedPort,
  makeEvents,
  OUTPUT,
  startProxy,
  startReceiver,
  startSender,
  waitForEvents,
} from './forward-output-harness.js';

test('a receiver that drops the connection before acking: the frame is sent again with the same chunk, and is delivered once in Loki terms', async (t) => {
  const receiver = await startReceiver(t);
  const proxy = await startProxy(t, receiver.port, 'drop-first-ack');
  const sender = await startSender(t, { port: proxy.port, require_ack_response: true, retry_min_backoff: '10ms' });
  const events = makeEvents(30);
  const { settled } = await sender.send(events);
  await waitFor(settled, 'the entries settled, after the ack of the second attempt');
  // The receiver took the events the first time too: it did, only its ack was lost.
  assert.equal(receiver.events.length, 60);
  assertDeliveredOnceInLokiTerms(events, receiver.events);
  assert.equal(proxy.chunks.length, 2);
  assert.equal(proxy.chunks[0], proxy.chunks[1], 'the frame sent again carries the same chunk id');
  assert.equal(proxy.connections, 2);
  assert.equal(await sender.metric('floki_output_retries_total'), 1);
  assert.equal(await sender.metric('floki_output_proc_records_total'), 30);
});

test('no ack within ack_response_timeout: counted, sent again on a new connection', async (t) => {
  const receiver = await startReceiver(t);
  const proxy = await startProxy(t, receiver.port, 'hold-first-ack');
  const sender = await startSender(t, { port: proxy.port, require_ack_response: true, ack_response_timeout: '200ms', retry_min_backoff: '10ms' });
  const events = makeEvents(5);
  const { settled } = await sender.send(events);
  await waitFor(settled, 'settled after the timeout and the second attempt');
  assert.equal(await sender.metric('floki_output_ack_timeouts_total'), 1);
  assert.deepEqual(proxy.chunks.length, 2);
  assertDeliveredOnceInLokiTerms(events, receiver.events);
});

test('the handshake with a wrong key: refused and counted on both sides, nothing delivered, dropped after retry_limit', async (t) => {
  const receiver = await startReceiver(t, { shared_key: 'right', self_hostname: 'aggregator' });
  const sender = await startSender(t, { port: receiver.port, shared_key: 'wrong', retry_limit: '1', require_ack_response: true });
  const { settled } = await sender.send(makeEvents(3));
  await waitFor(settled, 'the entries given up on');
  assert.equal(receiver.events.length, 0);
  assert.equal(await receiver.metric('floki_input_auth_failures_total'), 2, 'two attempts refused by the receiver');
  assert.equal(await sender.metric('floki_output_handshake_failures_total'), 2);
  assert.equal(await sender.metric('floki_output_dropped_records_total', { reason: 'retry_limit' }), 3);
  const down = sender.logs.find((l) => l.level === 40 && String(l.msg).includes('failed'));
  assert.match(String(down?.reason), /refused by the server: shared_key mismatch/);
});

test('the handshake with the right key, and user authentication', async (t) => {
  const receiver = await startReceiver(t, { shared_key: 'right', 'security.users': ['alice s3cret'] });
  const sender = await startSender(t, { port: receiver.port, shared_key: 'right', username: 'alice', password: 's3cret', require_ack_response: true });
  const events = makeEvents(4);
  await sender.send(events);
  await waitForEvents(receiver, 4);
  assertDeliveredOnceInLokiTerms(events, receiver.events);
  assert.equal(await sender.metric('floki_output_handshake_failures_total'), 0);
});

test('a receiver that asks for the handshake when no shared_key is set: the attempt fails and says why', async (t) => {
  const receiver = await startReceiver(t, { shared_key: 'k' });
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, retry_limit: 'no_retries' });
  const { settled } = await sender.send(makeEvents(1));
  await waitFor(settled, 'given up on');
  assert.equal(receiver.events.length, 0);
  const down = sender.logs.find((l) => l.level === 40);
  assert.match(String(down?.reason), /asks for the secure forward handshake \(it sent HELO\): set shared_key/);
});

test('an upstream of three receivers with one down: round robin over the two up, the one down left out; every event once', async (t) => {
  const a = await startReceiver(t);
  const b = await startReceiver(t);
  const down = await closedPort();
  const sender = await startSender(t, {
    require_ack_response: true,
    workers: 1,
    // A failed node stays out for retry_min_backoff at least: longer than this test.
    retry_min_backoff: '30s',
    retry_max_backoff: '60s',
    upstream: {
      name: 'aggregators',
      nodes: [
        { name: 'a', host: '127.0.0.1', port: a.port },
        { name: 'down', host: '127.0.0.1', port: down },
        { name: 'b', host: '127.0.0.1', port: b.port },
      ],
    },
  });
  const events = makeEvents(60);
  // One tag per ten events: six frames.
  for (const [i, e] of events.entries()) e.tag = `app.${Math.floor(i / 10)}`;
  const { settled } = await sender.send(events);
  await waitFor(settled, 'all delivered');
  assertDeliveredOnceInLokiTerms(events, [...a.events, ...b.events]);
  assert.equal(a.events.length + b.events.length, 60, 'no duplicates: nothing reached the node that is down');
  assert.ok(a.events.length > 0 && b.events.length > 0, `both nodes that are up took frames (${a.events.length}, ${b.events.length})`);
  assert.equal(await sender.metric('floki_output_upstream_node_up', { node: 'down' }), 0);
  assert.equal(await sender.metric('floki_output_upstream_node_up', { node: 'a' }), 1);
  assert.equal(await sender.metric('floki_output_errors_total'), 1, 'the node that is down was tried once, then left out');
  assert.equal(await sender.metric('floki_output_dropped_records_total'), 0);
});

test('a node that comes back is used again', async (t) => {
  const port = await closedPort();
  const sender = await startSender(t, { port, require_ack_response: true, retry_limit: 'no_limits', retry_max_backoff: '50ms' });
  const first = makeEvents(3);
  const { settled } = await sender.send(first);
  await waitFor(async () => (await sender.metric('floki_output_errors_total')) >= 2, 'a few failed attempts');
  assert.equal(await sender.metric('floki_output_upstream_node_up', { node: `127.0.0.1:${port}` }), 0);
  const receiver = await startReceiver(t, { port });
  await waitFor(settled, 'delivered once the receiver is up');
  assertDeliveredOnceInLokiTerms(first, receiver.events);
  assert.equal(await sender.metric('floki_output_upstream_node_up', { node: `127.0.0.1:${port}` }), 1);
  assert.ok(sender.logs.some((l) => l.msg === `forward: node 127.0.0.1:${port} is back`));
});

test('TLS: the server certificate is verified against tls.ca_file; a wrong CA is refused', async (t) => {
  const certs = makeCertificates(t.after.bind(t));
  const receiver = await startReceiver(t, { tls: true, 'tls.crt_file': certs.serverCrt, 'tls.key_file': certs.serverKey, shared_key: 'k' });
  const sender = await startSender(t, { port: receiver.port, tls: true, 'tls.ca_file': certs.caCrt, 'tls.vhost': 'localhost', shared_key: 'k', require_ack_response: true });
  const events = makeEvents(5);
  await sender.send(events);
  await waitForEvents(receiver, 5);
  assertDeliveredOnceInLokiTerms(events, receiver.events);

  // A server whose certificate tls.ca_file does not sign.
  const stranger = await startSender(t, { port: receiver.port, tls: true, 'tls.ca_file': certs.strangerCrt, retry_limit: 'no_retries' });
  const { settled } = await stranger.send(makeEvents(1));
  await waitFor(settled, 'given up on');
  assert.equal(await stranger.metric('floki_output_dropped_records_total', { reason: 'retry_limit', name: OUTPUT }), 1);
  assert.match(String(stranger.logs.find((l) => l.level === 40)?.reason), /cannot connect: unable to verify the first certificate/);
});

test('mutual TLS: the client certificate and key are sent', async (t) => {
  const certs = makeCertificates(t.after.bind(t));
  const receiver = await startReceiver(t, { tls: true, 'tls.crt_file': certs.serverCrt, 'tls.key_file': certs.serverKey, 'tls.verify': true, 'tls.ca_file': certs.caCrt });
  const sender = await startSender(t, {
    port: receiver.port,
    tls: true,
    'tls.ca_file': certs.caCrt,
    'tls.crt_file': certs.clientCrt,
    'tls.key_file': certs.clientKey,
    require_ack_response: true,
  });
  const events = makeEvents(2);
  await sender.send(events);
  await waitForEvents(receiver, 2);
  assertDeliveredOnceInLokiTerms(events, receiver.events);
});

test('stop while a frame waits for its ack: given up at the deadline, counted as shutdown, not settled', async (t) => {
  const receiver = await startReceiver(t);
  const proxy = await startProxy(t, receiver.port, 'hold-first-ack');
  const sender = await startSender(t, { port: proxy.port, require_ack_response: true });
  const { settled } = await sender.send(makeEvents(4));
  await waitFor(() => proxy.chunks.length === 1, 'the frame written');
  const started = Date.now();
  await sender.output.stop(150);
  assert.ok(Date.now() - started < 2000, 'stop kept to its deadline');
  assert.equal(settled(), false, 'not settled: a tail input would read these lines again after a restart');
  assert.equal(await sender.metric('floki_output_dropped_records_total', { reason: 'shutdown' }), 4);
});
