/**
 * The client side of the secure forward handshake (forward protocol v1, as Fluent Bit's out_forward
 * and Fluentd's out_forward do it). See src/inputs/forward/handshake.ts for the server side; both
 * take their digests from handshake-digest.ts.
 *
 *   server → HELO  ["HELO", {nonce, auth: salt | "", keepalive}]
 *   client → PING  ["PING", self_hostname, shared_key_salt, hex(sha512(salt + self_hostname + nonce + key)),
 *                   username, hex(sha512(auth + username + password))]
 *   server → PONG  ["PONG", ok, reason, server_hostname, hex(sha512(salt + server_hostname + nonce + key))]
 *
 * As Fluent Bit does: the salt is 16 random bytes sent as a msgpack str, the user fields carry the
 * digest whenever HELO has an `auth` entry (an empty salt included), and the PONG's digest is checked
 * (the server must know the key too). Unlike Fluentd, a server with our own hostname is accepted:
 * Fluent Bit and floki both default `self_hostname` to `localhost` on each side.
 */
import { randomBytes } from 'node:crypto';
import { handshakeDigest } from './handshake-digest.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { replyText, type ReplyValue } from './reply-reader.js';

export interface HandshakeCredentials {
  sharedKey: string;
  selfHostname: string;
  username: string;
  password: string;
}

export interface Helo {
  nonce: Buffer;
  /** The user-auth salt; undefined when the HELO has no `auth` entry. */
  auth: Buffer | undefined;
  keepalive: boolean;
}

export type PongCheck = { ok: true; serverHostname: string } | { ok: false; reason: string; refused: boolean };

/** A HELO from a reply value; undefined when it is not one. */
export function parseHelo(value: ReplyValue): Helo | undefined {
  if (!Array.isArray(value) || value.length < 2 || replyText(value[0]) !== 'HELO') return undefined;
  const options = value[1];
  if (!(options instanceof Map)) return undefined;
  const nonce = options.get('nonce');
  if (!Buffer.isBuffer(nonce)) return undefined;
  const auth = options.get('auth');
  const keepalive = options.get('keepalive');
  return { nonce: Buffer.from(nonce), auth: Buffer.isBuffer(auth) ? Buffer.from(auth) : undefined, keepalive: keepalive !== false };
}

/** One connection's handshake: a fresh salt, the PING it sends, the PONG it expects. */
export class HandshakeClient {
  readonly salt: Buffer;

  constructor(
    private readonly credentials: HandshakeCredentials,
    salt: Buffer = randomBytes(16),
  ) {
    this.salt = salt;
  }

  /** The PING for this HELO, as msgpack bytes. */
  ping(helo: Helo): Buffer {
    const { sharedKey, selfHostname, username, password } = this.credentials;
    const w = new MsgpackWriter(512);
    w.arrayHeader(6);
    w.str('PING');
    w.str(selfHostname);
    w.strBytes(this.salt);
    w.str(handshakeDigest(this.salt, selfHostname, helo.nonce, sharedKey));
    if (helo.auth !== undefined) {
      w.str(username);
      w.str(handshakeDigest(helo.auth, username, password));
    } else {
      w.str('');
      w.str('');
    }
    return w.copy();
  }

  /** Checks the server's PONG: accepted, and proving the server knows the shared key. */
  checkPong(value: ReplyValue, helo: Helo): PongCheck {
    if (!Array.isArray(value) || replyText(value[0]) !== 'PONG') return { ok: false, reason: 'expected PONG', refused: false };
    if (value.length !== 5) return { ok: false, reason: `PONG with ${value.length} elements, expected 5`, refused: false };
    if (value[1] !== true) return { ok: false, reason: `refused by the server: ${replyText(value[2]) || 'no reason given'}`, refused: true };
    const hostname = value[3];
    const digest = value[4];
    if (!Buffer.isBuffer(hostname) || !Buffer.isBuffer(digest)) return { ok: false, reason: 'PONG without server hostname or digest', refused: false };
    const expected = handshakeDigest(this.salt, hostname, helo.nonce, this.credentials.sharedKey);
    if (digest.toString('latin1') !== expected) {
      return { ok: false, reason: 'the PONG digest does not match: the server does not hold the same shared_key', refused: true };
    }
    return { ok: true, serverHostname: hostname.toString('utf8') };
  }
}
