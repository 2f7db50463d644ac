import { randomBytes, timingSafeEqual } from 'node:crypto';
import { handshakeDigest as digest } from '../../forward/handshake-digest.js';
import type { PingMessage } from '../../forward/ping-message.js';

export type { PingMessage } from '../../forward/ping-message.js';

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
 * random bytes, which is not valid UTF-8, so PING fields are never decoded as text (reading a PING is
 * src/forward/ping-message.ts; the digests src/forward/handshake-digest.ts, shared with the client).
 */

/** What the handshake checks against (options `shared_key`, `empty_shared_key`, `self_hostname`, `security.users`). */
export interface ForwardSecurityOptions {
  sharedKey: string;
  selfHostname: string;
  /** username → password; empty when no user authentication is asked for. */
  users: Map<string, string>;
}

export type PingCheck = { ok: true; pong: unknown[] } | { ok: false; reason: string; pong: unknown[] };

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

function sameDigest(expected: string, got: Buffer): boolean {
  const want = Buffer.from(expected, 'latin1');
  return got.length === want.length && timingSafeEqual(got, want);
}
