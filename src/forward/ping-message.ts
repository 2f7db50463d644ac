/**
 * The handshake's PING as the server reads it: six fields kept as the bytes the client sent. Fluent
 * Bit sends its 16-byte salt as a msgpack str of random bytes, which is not valid UTF-8, so fields are
 * never decoded as text.
 */
import { uint32 } from '../msgpack/value-end.js';

/** The PING fields after "PING" (a nil field reads as empty). */
export interface PingMessage {
  hostname: Buffer;
  sharedKeySalt: Buffer;
  sharedKeyDigest: Buffer;
  username: Buffer;
  passwordDigest: Buffer;
}

const PING = Buffer.from('PING');

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
