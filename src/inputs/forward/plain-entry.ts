/**
 * Where one plain forward entry ends: `[time, map]` or `[[time, {}], map]` (v1.5 with empty metadata,
 * as Fluent Bit 5 and floki's forward output send them), the time an EventTime (fixext 8 or ext 8,
 * type 0, nanoseconds below 10^9) or a positive integer that is not 0, the map plain msgpack within the
 * nesting limit (plainValueEnd). Such an entry becomes a MsgpackEvent over its record's bytes
 * (entry-reader.ts); anything else is for the general path to judge.
 *
 * Every verdict but TRUNCATED depends only on the bytes before `end`: an entry cut short is TRUNCATED
 * until its last byte arrives, then plain or not, so a walk that stopped at TRUNCATED may run again on
 * more bytes and agree with one over the whole entry.
 */
import { NOT_PLAIN, plainValueEnd, TRUNCATED, uint32 } from '../../msgpack/value-end.js';

export { NOT_PLAIN, TOO_DEEP, TRUNCATED } from '../../msgpack/value-end.js';

/** The offset past the entry at `p`, or TRUNCATED, NOT_PLAIN or TOO_DEEP (its record nests too deeply). */
export function plainEntryEnd(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) return TRUNCATED;
  if (buf[p] !== 0x92) return NOT_PLAIN;
  let t = p + 1;
  if (t >= end) return TRUNCATED;
  const wrapped = buf[t] === 0x92;
  if (wrapped) t++;
  t = plainTimeEnd(buf, t, end);
  if (t < 0) return t;
  if (wrapped) {
    if (t >= end) return TRUNCATED;
    if (buf[t] !== 0x80) return NOT_PLAIN;
    t++;
  }
  if (t >= end) return TRUNCATED;
  const h = buf[t]!;
  if (!((h >= 0x80 && h <= 0x8f) || h === 0xde || h === 0xdf)) return NOT_PLAIN;
  return plainValueEnd(buf, t, end);
}

/** The offset past the plain time at `p` (as ForwardEntryReader reads it), or TRUNCATED or NOT_PLAIN. */
function plainTimeEnd(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) return TRUNCATED;
  const h = buf[p]!;
  if (h > 0 && h < 0x80) return p + 1;
  if (h === 0xd7) {
    if (p + 10 > end) return TRUNCATED;
    if (buf[p + 1] !== 0x00 || uint32(buf, p + 2) === 0 || uint32(buf, p + 6) > 999_999_999) return NOT_PLAIN;
    return p + 10;
  }
  if (h === 0xc7) {
    if (p + 11 > end) return TRUNCATED;
    if (buf[p + 1] !== 8 || buf[p + 2] !== 0x00 || uint32(buf, p + 3) === 0 || uint32(buf, p + 7) > 999_999_999) return NOT_PLAIN;
    return p + 11;
  }
  if (h === 0xce) {
    if (p + 5 > end) return TRUNCATED;
    return uint32(buf, p + 1) === 0 ? NOT_PLAIN : p + 5;
  }
  return NOT_PLAIN;
}
