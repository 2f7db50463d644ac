import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ForwardHandshake, type PingMessage } from '../../src/inputs/forward/handshake.js';

// Digests as the spec writes them: hex(sha512(a + b + c + d)), byte strings concatenated.
const sha512hex = (...parts: (Buffer | string)[]): string => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

function security(sharedKey: string, users: [string, string][] = []) {
  return { sharedKey, selfHostname: 'floki-server', users: new Map(users) };
}

/** A PING as a client builds it from the server's HELO. */
function ping(hs: ForwardHandshake, o: { key: string; hostname?: string; salt?: Buffer; user?: string; password?: string }): PingMessage {
  const hostname = o.hostname ?? 'client-a';
  const salt = o.salt ?? randomBytes(16);
  const authed = hs.authSalt !== undefined && o.user !== undefined;
  return {
    hostname: Buffer.from(hostname),
    sharedKeySalt: salt,
    sharedKeyDigest: Buffer.from(sha512hex(salt, hostname, hs.nonce, o.key)),
    username: Buffer.from(authed ? o.user! : ''),
    passwordDigest: Buffer.from(authed ? sha512hex(hs.authSalt!, o.user!, o.password ?? '') : ''),
  };
}

test('HELO carries a fresh 16-byte nonce, an empty auth without users, and keepalive', () => {
  const a = new ForwardHandshake(security('k'));
  const b = new ForwardHandshake(security('k'));
  const [name, options] = a.helo() as [string, { nonce: Buffer; auth: Buffer | string; keepalive: boolean }];
  assert.equal(name, 'HELO');
  assert.equal(options.nonce.length, 16);
  assert.equal(options.auth, '');
  assert.equal(options.keepalive, true);
  assert.notDeepEqual(a.nonce, b.nonce);
  const withUsers = new ForwardHandshake(security('k', [['alice', 'pw']]));
  const auth = (withUsers.helo()[1] as { auth: Buffer }).auth;
  assert.ok(Buffer.isBuffer(auth) && auth.length === 16);
});

test('a PING with the right shared key gets PONG true with the server digest', () => {
  const hs = new ForwardHandshake(security('secret'));
  const salt = Buffer.from([0xff, 0x00, 0xc3, 0x28, ...randomBytes(12)]); // Fluent Bit: raw bytes in a str
  const result = hs.check(ping(hs, { key: 'secret', salt }));
  assert.equal(result.ok, true);
  assert.deepEqual(result.pong, ['PONG', true, '', 'floki-server', sha512hex(salt, 'floki-server', hs.nonce, 'secret')]);
});

test('a wrong shared key gets PONG false with the reason and empty fields', () => {
  const hs = new ForwardHandshake(security('secret'));
  const result = hs.check(ping(hs, { key: 'guess' }));
  assert.deepEqual(result, { ok: false, reason: 'shared_key mismatch', pong: ['PONG', false, 'shared_key mismatch', '', ''] });
  // A digest for another connection's nonce is no good either (replay).
  const other = new ForwardHandshake(security('secret'));
  assert.equal(hs.check(ping(other, { key: 'secret' })).ok, false);
});

test('not a PING at all', () => {
  const hs = new ForwardHandshake(security('secret'));
  assert.deepEqual(hs.check(undefined), { ok: false, reason: 'invalid ping message', pong: ['PONG', false, 'invalid ping message', '', ''] });
});

test('users: the right password passes; a wrong password, an unknown user or none fail', () => {
  const hs = new ForwardHandshake(security('secret', [['alice', 'wonder land'], ['bob', 'builder']]));
  assert.equal(hs.check(ping(hs, { key: 'secret', user: 'alice', password: 'wonder land' })).ok, true);
  assert.equal(hs.check(ping(hs, { key: 'secret', user: 'bob', password: 'builder' })).ok, true);
  for (const bad of [
    { user: 'alice', password: 'builder' },
    { user: 'mallory', password: 'builder' },
    { user: undefined, password: undefined },
  ]) {
    const result = hs.check(ping(hs, { key: 'secret', ...bad }));
    assert.deepEqual(result.ok ? 'ok' : result.reason, 'username/password mismatch', JSON.stringify(bad));
  }
  // The shared key is checked first.
  const wrongKey = hs.check(ping(hs, { key: 'nope', user: 'alice', password: 'wonder land' }));
  assert.equal(wrongKey.ok ? 'ok' : wrongKey.reason, 'shared_key mismatch');
});

test('empty_shared_key: the empty string is the key', () => {
  const hs = new ForwardHandshake(security(''));
  assert.equal(hs.check(ping(hs, { key: '' })).ok, true);
  assert.equal(hs.check(ping(hs, { key: 'x' })).ok, false);
});
