import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { uint32 } from '../../msgpack/value-end.js';

/**
 * The secure forward handshake (forward protocol v1, as Fluentd's in_forward and Fluent Bit do it):
 *
 *   server → HELO  ["HELO", {nonce: bin16, auth: salt bin16 | "", keepalive: true}]
 *   client → PING  ["PING", hostname, shared_key_salt, hex(sha512(salt + hostname + nonce + shared_key)),
 *                   username | "", hex(sha512(auth_salt + username + password)) | ""]
 *   server → PONG  ["PONG", true, "", self_hostname, hex(sha512(salt + self_hostname + nonce + shared_key))]
 *             or   ["PONG", false, reason, "", ""] and the connection is closed.
 *
 * Salts and digests are compared as raw bytes: Fluent Bit sends its 16-byte salt as a msgpack str of
 * random bytes, which is not valid UTF-8, so PING fields are never decoded as text.
 */

/** What the handshake checks against (options `shared_key`, `empty_shared_key`, `self_hostname`, `security.users`). */
export interface ForwardSecurityOptions {
  sharedKey: string;
  selfHostname: string;
  /** username → password; empty when no user authentication is asked for. */
  users: Map<string, string>;
}

/** The six PING fields as the bytes the client sent (a nil field reads as empty). */
export interface PingMessage {
  hostname: Buffer;
  sharedKeySalt: Buffer;
  sharedKeyDigest: Buffer;
  username: Buffer;
  passwordDigest: Buffer;
}

export type PingCheck = { ok: true; pong: unknown[] } | { ok: false; reason: string; pong: unknown[] };

const PING = Buffer.from('PING');

/** One connection's side of the handshake: its nonce and (with users) its auth salt. */
export class ForwardHandshake {
  readonly nonce = randomBytes(16);
  readonly authSalt: Buffer | undefined;

  constructor(private readonly security: ForwardSecurityOptions) {
    // An empty auth salt tells the client no user authentication is asked for (spec: "blank_string").
    this.authSalt = security.users.size > 0 ? randomBytes(16) : undefined;
  }

  helo(): unknown[] {
    return ['HELO', { nonce: this.nonce, auth: this.authSalt ?? '', keepalive: true }];
  }

  /** Checks a PING; `undefined` stands for a message that is not a PING at all. */
  check(ping: PingMessage | undefined): PingCheck {
    if (ping === undefined) return fail('invalid ping message');
    const { sharedKey, selfHostname, users } = this.security;
    const expected = digest(ping.sharedKeySalt, ping.hostname, this.nonce, sharedKey);
    if (!sameDigest(expected, ping.sharedKeyDigest)) return fail('shared_key mismatch');
    if (this.authSalt !== undefined) {
      const password = users.get(ping.username.toString('utf8'));
      if (password === undefined || !sameDigest(digest(this.authSalt, ping.username, password), ping.passwordDigest)) {
        return fail('username/password mismatch');
      }
    }
    return { ok: true, pong: ['PONG', true, '', selfHostname, digest(ping.sharedKeySalt, selfHostname, this.nonce, sharedKey)] };
  }
}

function fail(reason: string): PingCheck {
  return { ok: false, reason, pong: ['PONG', false, reason, '', ''] };
}

function digest(...parts: (Buffer | string)[]): string {
  const hash = createHash('sha512');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

function sameDigest(expected: string, got: Buffer): boolean {
  const want = Buffer.from(expected, 'latin1');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A PING from a JSON connection: an array of six strings. */
export function pingFromJson(value: unknown): PingMessage | undefined {
  if (!Array.isArray(value) || value.length !== 6 || value[0] !== 'PING') return undefined;
  const fields: Buffer[] = [];
  for (let i = 1; i < 6; i++) {
    const v: unknown = value[i];
    if (v === null) fields.push(Buffer.alloc(0));
    else if (typeof v === 'string') fields.push(Buffer.from(v, 'utf8'));
    else return undefined;
  }
  return toPing(fields);
}

/** A PING from msgpack bytes [start, end): a 6-array of str, bin or nil, read without decoding text. */
export function pingFromMsgpack(buf: Uint8Array, start: number, end: number): PingMessage | undefined {
  const h = buf[start];
  let p: number;
  if (h === 0x96) p = start + 1;
  else if (h === 0xdc && end - start >= 3 && buf[start + 1] === 0 && buf[start + 2] === 6) p = start + 3;
  else return undefined;
  const fields: Buffer[] = [];
  for (let i = 0; i < 6; i++) {
    const range = rawRange(buf, p, end);
    if (range === undefined) return undefined;
    fields.push(Buffer.from(buf.buffer, buf.byteOffset + range[0], range[1] - range[0]));
    p = range[1];
  }
  if (!fields[0]!.equals(PING)) return undefined;
  return toPing(fields.slice(1));
}

function toPing(f: Buffer[]): PingMessage {
  return { hostname: f[0]!, sharedKeySalt: f[1]!, sharedKeyDigest: f[2]!, username: f[3]!, passwordDigest: f[4]! };
}

/** Payload range of the str, bin or nil at `p`; undefined for any other type or past `end`. */
function rawRange(buf: Uint8Array, p: number, end: number): [number, number] | undefined {
  if (p >= end) return undefined;
  const h = buf[p]!;
  let from: number;
  let length: number;
  if (h >= 0xa0 && h <= 0xbf) {
    from = p + 1;
    length = h & 0x1f;
  } else if (h === 0xc0) {
    return [p + 1, p + 1];
  } else if (h === 0xd9 || h === 0xc4) {
    from = p + 2;
    length = buf[p + 1]!;
  } else if (h === 0xda || h === 0xc5) {
    from = p + 3;
    length = (buf[p + 1]! << 8) | buf[p + 2]!;
  } else if (h === 0xdb || h === 0xc6) {
    from = p + 5;
    length = uint32(buf, p + 1);
  } else {
    return undefined;
  }
  return from + length <= end ? [from, from + length] : undefined;
}
