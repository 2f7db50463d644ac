/**
 * The secure forward handshake over real sockets: HELO / PING / PONG, shared key and users; nothing
 * from a client that fails it is accepted, and each failure is counted and logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { arr, cat, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { capturingLog, handshake, RawClient, startServer } from './forward-harness.js';

const SEC = 1764064800;
const message = (n: number, option?: Record<string, unknown>): Buffer =>
  option ? cat(arr(4), str('secure'), eventTime(SEC, n), rec({ n }), rec(option)) : cat(arr(3), str('secure'), eventTime(SEC, n), rec({ n }));

test('with a shared key: the server says HELO first, a right PING gets PONG true, then events and acks flow', async (t) => {
  const h = await startServer(t, { shared_key: 'k3y', self_hostname: 'aggregator' });
  const client = await RawClient.connect(t, h.port);
  const { helo, pong } = await handshake(client, { sharedKey: 'k3y', hostname: 'node-1' });
  const options = helo[1] as { nonce: Uint8Array; auth: unknown; keepalive: boolean };
  assert.equal(options.nonce.length, 16);
  assert.equal(options.auth, '', 'no users: no user authentication asked for');
  assert.equal(options.keepalive, true);
  assert.deepEqual(pong.slice(0, 4), ['PONG', true, '', 'aggregator']);
  await client.write(cat(message(1), message(2, { chunk: 'c2' })));
  await waitFor(() => h.events.length === 2, 'two events');
  assert.deepEqual(await client.waitReplies(3), [helo, pong, { ack: 'c2' }]);
  assert.equal(await h.metric('floki_input_auth_failures_total'), 0);
});

test('a wrong shared key: PONG false with the reason, the connection closed, nothing accepted, counted and logged', async (t) => {
  const { log, lines } = capturingLog();
  const h = await startServer(t, { shared_key: 'k3y' }, undefined, log);
  const client = await RawClient.connect(t, h.port);
  const { pong } = await handshake(client, { sharedKey: 'wrong', hostname: 'intruder' });
  assert.deepEqual(pong, ['PONG', false, 'shared_key mismatch', '', '']);
  // Events sent anyway are never read as events.
  await client.write(message(1, { chunk: 'x' })).catch(() => {});
  await client.waitClosed();
  assert.equal(h.events.length, 0);
  assert.equal(client.replies().length, 2, 'HELO and PONG, no ack');
  assert.equal(await h.metric('floki_input_auth_failures_total'), 1);
  assert.equal(await h.metric('floki_input_frames_total'), 0);
  const line = lines.find((l) => l.msg === 'forward: handshake failed, closing the connection');
  assert.ok(line, 'a log line');
  assert.equal(line.reason, 'shared_key mismatch');
  assert.equal(line.hostname, 'intruder');
  assert.ok(!JSON.stringify(lines).includes('k3y'), 'the key is never logged');
});

test('events instead of a PING: PONG false, closed, nothing accepted', async (t) => {
  const h = await startServer(t, { shared_key: 'k3y' });
  const client = await RawClient.connect(t, h.port);
  await client.waitReplies(1);
  await client.write(message(1, { chunk: 'sneaky' }));
  const replies = await client.waitReplies(2);
  assert.deepEqual(replies[1], ['PONG', false, 'invalid ping message', '', '']);
  await client.waitClosed();
  assert.equal(h.events.length, 0);
  assert.equal(await h.metric('floki_input_auth_failures_total'), 1);
});

test('users: the right user and password pass; a wrong password or unknown user fail', async (t) => {
  const h = await startServer(t, { shared_key: 'k3y', 'security.users': ['alice s3cret pass', 'bob builder'] });
  const good = await RawClient.connect(t, h.port);
  const { helo, pong } = await handshake(good, { sharedKey: 'k3y', user: 'alice', password: 's3cret pass' });
  assert.equal((helo[1] as { auth: Uint8Array }).auth.length, 16, 'an auth salt when users are configured');
  assert.equal(pong[1], true);
  await good.write(message(7));
  await waitFor(() => h.events.length === 1, 'the event');

  for (const [user, password] of [
    ['alice', 'builder'],
    ['mallory', 's3cret pass'],
  ] as const) {
    const bad = await RawClient.connect(t, h.port);
    const result = await handshake(bad, { sharedKey: 'k3y', user, password });
    assert.deepEqual(result.pong, ['PONG', false, 'username/password mismatch', '', '']);
    await bad.waitClosed();
  }
  assert.equal(await h.metric('floki_input_auth_failures_total'), 2);
  assert.equal(h.events.length, 1);
});

test('empty_shared_key: the handshake with an empty key', async (t) => {
  const h = await startServer(t, { empty_shared_key: true });
  const ok = await RawClient.connect(t, h.port);
  assert.equal((await handshake(ok, { sharedKey: '' })).pong[1], true);
  const bad = await RawClient.connect(t, h.port);
  assert.equal((await handshake(bad, { sharedKey: 'something' })).pong[1], false);
});

test('a client that never sends its PING is closed after net.accept_timeout; counted as a timeout', async (t) => {
  const h = await startServer(t, { shared_key: 'k3y', 'net.accept_timeout': 200 });
  const client = await RawClient.connect(t, h.port);
  await client.waitReplies(1);
  await client.waitClosed(3000);
  assert.equal(await h.metric('floki_input_connection_timeouts_total'), 1);
});

test('the handshake deadline does not run while the input is paused by backpressure', async (t) => {
  const h = await startServer(t, { shared_key: 'k3y', 'net.accept_timeout': 150 });
  h.server.pause();
  const client = await RawClient.connect(t, h.port);
  await client.waitReplies(1);
  await new Promise((r) => setTimeout(r, 500)); // well past the deadline, paused the whole time
  assert.equal(client.closed, false);
  h.server.resume();
  const { pong } = await handshake(client, { sharedKey: 'k3y' });
  assert.equal(pong[1], true);
});

test('a JSON client does the handshake in JSON and gets JSON replies', async (t) => {
  const h = await startServer(t, { shared_key: 'k3y' });
  const client = await RawClient.connect(t, h.port);
  const [helo] = (await client.waitReplies(1)) as [[string, { nonce: Uint8Array }]];
  const nonce = Buffer.from(helo[1].nonce);
  const digest = createHash('sha512').update('salt-text').update('json-client').update(nonce).update('k3y').digest('hex');
  const heloBytes = client.bytes().length;
  await client.write(Buffer.from(JSON.stringify(['PING', 'json-client', 'salt-text', digest, '', '']) + '\n'));
  await client.write(Buffer.from(`["json.tag",${SEC},{"log":"over json"},{"chunk":"j1"}]\n`));
  await waitFor(() => h.events.length === 1, 'the JSON event');
  await waitFor(() => client.bytes().toString('utf8', heloBytes).includes('"ack"'), 'the JSON ack');
  const text = client.bytes().toString('utf8', heloBytes);
  const pongEnd = text.indexOf(']') + 1;
  const pong = JSON.parse(text.slice(0, pongEnd)) as unknown[];
  assert.deepEqual(pong.slice(0, 4), ['PONG', true, '', 'localhost']);
  assert.deepEqual(JSON.parse(text.slice(pongEnd)), { ack: 'j1' });
  assert.equal(h.events[0]!.record.log, 'over json');
});
