/**
 * Where one msgpack value ends, found by walking its headers without building anything.
 *
 * Used on the forward input's packed entries: a record's bytes are kept as they arrived and decoded
 * only if something reads the record (see inputs/forward/msgpack-event.ts). So what plainValueEnd
 * accepts as plain must be what msgpackr later decodes without an error, and no deeper than a record
 * may be (core/limits.ts).
 */
import { MAX_RECORD_NESTING } from '../core/limits.js';

/** The value runs past the bytes given. */
export const TRUNCATED = -1;
/**
 * The value holds what only msgpackr can judge: an ext type (EventTime, a refused type), the
 * never-used byte 0xc1, or a map key that is not a scalar (msgpackr refuses array, map and bin keys).
 * The caller decodes such a value eagerly, so that errors surface where they always did.
 */
export const NOT_PLAIN = -2;
/** Maps and arrays nest deeper than MAX_DEPTH levels (the value itself is level 1): refused, not decoded. */
export const TOO_DEEP = -3;
/** The never-used byte 0xc1 (measureValue). */
export const NOT_MSGPACK = -4;

/** Levels of maps and arrays a plain value may have: a record's limit. */
export const MAX_DEPTH = MAX_RECORD_NESTING;

/** The offset just past the value starting at `p`, or TRUNCATED / NOT_PLAIN / TOO_DEEP. */
export function plainValueEnd(buf: Uint8Array, p: number, end: number): number {
  const r = value(buf, p, end, 0);
  return r > end ? TRUNCATED : r;
}

/**
 * Past the value at `p` (possibly past `end`: plainValueEnd checks), or TRUNCATED / NOT_PLAIN /
 * TOO_DEEP. `depth` counts the maps and arrays around the value; recursion stops at MAX_DEPTH.
 */
function value(buf: Uint8Array, p: number, end: number, depth: number): number {
  if (p >= end) return TRUNCATED;
  const b = buf[p]!;
  if (b < 0x80 || b >= 0xe0) return p + 1; // positive or negative fixint
  if (b >= 0xa0 && b < 0xc0) return p + 1 + (b & 0x1f); // fixstr
  if (b < 0x90) return map(buf, p + 1, end, b & 0x0f, depth);
  if (b < 0xa0) return array(buf, p + 1, end, b & 0x0f, depth);
  switch (b) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return p + 1;
    case 0xcc:
    case 0xd0:
      return p + 2;
    case 0xcd:
    case 0xd1:
      return p + 3;
    case 0xca:
    case 0xce:
    case 0xd2:
      return p + 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return p + 9;
    case 0xc4: // bin 8
    case 0xd9: // str 8
      return p + 2 > end ? TRUNCATED : p + 2 + buf[p + 1]!;
    case 0xc5:
    case 0xda:
      return p + 3 > end ? TRUNCATED : p + 3 + ((buf[p + 1]! << 8) | buf[p + 2]!);
    case 0xc6:
    case 0xdb:
      return p + 5 > end ? TRUNCATED : p + 5 + uint32(buf, p + 1);
    case 0xdc:
      return p + 3 > end ? TRUNCATED : array(buf, p + 3, end, (buf[p + 1]! << 8) | buf[p + 2]!, depth);
    case 0xdd:
      return p + 5 > end ? TRUNCATED : array(buf, p + 5, end, uint32(buf, p + 1), depth);
    case 0xde:
      return p + 3 > end ? TRUNCATED : map(buf, p + 3, end, (buf[p + 1]! << 8) | buf[p + 2]!, depth);
    case 0xdf:
      return p + 5 > end ? TRUNCATED : map(buf, p + 5, end, uint32(buf, p + 1), depth);
    default:
      return NOT_PLAIN; // ext (0xc7-0xc9, 0xd4-0xd8) or 0xc1
  }
}

function array(buf: Uint8Array, p: number, end: number, count: number, depth: number): number {
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  for (let i = 0; i < count; i++) {
    p = value(buf, p, end, depth + 1);
    if (p < 0) return p;
  }
  return p;
}

function map(buf: Uint8Array, p: number, end: number, count: number, depth: number): number {
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  for (let i = 0; i < count; i++) {
    if (p >= end) return TRUNCATED;
    const k = buf[p]!;
    // A key must be a scalar: msgpackr refuses array, map and bin keys.
    if ((k >= 0x80 && k < 0xa0) || (k >= 0xdc && k <= 0xdf) || (k >= 0xc4 && k <= 0xc6)) return NOT_PLAIN;
    p = value(buf, p, end, depth + 1);
    if (p < 0) return p;
    p = value(buf, p, end, depth + 1);
    if (p < 0) return p;
  }
  return p;
}

/**
 * The offset just past the value starting at `p`, or TRUNCATED / NOT_PLAIN (an ext or 0xc1): a walk of
 * the headers with one counter, for bytes plainValueEnd has already accepted (it does not look at
 * map keys or depth, and is about twice as fast).
 */
export function skipValue(buf: Uint8Array, p: number, end: number): number {
  let pending = 1;
  while (pending > 0) {
    if (p >= end) return TRUNCATED;
    const b = buf[p]!;
    pending -= 1;
    if (b < 0x80 || b >= 0xe0) {
      p += 1; // positive or negative fixint
    } else if (b < 0x90) {
      p += 1;
      pending += 2 * (b & 0x0f); // fixmap
    } else if (b < 0xa0) {
      p += 1;
      pending += b & 0x0f; // fixarray
    } else if (b < 0xc0) {
      p += 1 + (b & 0x1f); // fixstr
    } else {
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          p += 1;
          break;
        case 0xcc:
        case 0xd0:
          p += 2;
          break;
        case 0xcd:
        case 0xd1:
          p += 3;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          p += 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          p += 9;
          break;
        case 0xc4: // bin 8
        case 0xd9: // str 8
          if (p + 2 > end) return TRUNCATED;
          p += 2 + buf[p + 1]!;
          break;
        case 0xc5:
        case 0xda:
          if (p + 3 > end) return TRUNCATED;
          p += 3 + ((buf[p + 1]! << 8) | buf[p + 2]!);
          break;
        case 0xc6:
        case 0xdb:
          if (p + 5 > end) return TRUNCATED;
          p += 5 + uint32(buf, p + 1);
          break;
        case 0xdc: // array 16
          if (p + 3 > end) return TRUNCATED;
          pending += (buf[p + 1]! << 8) | buf[p + 2]!;
          p += 3;
          break;
        case 0xdd:
          if (p + 5 > end) return TRUNCATED;
          pending += uint32(buf, p + 1);
          p += 5;
          break;
        case 0xde: // map 16
          if (p + 3 > end) return TRUNCATED;
          pending += 2 * ((buf[p + 1]! << 8) | buf[p + 2]!);
          p += 3;
          break;
        case 0xdf:
          if (p + 5 > end) return TRUNCATED;
          pending += 2 * uint32(buf, p + 1);
          p += 5;
          break;
        default:
          return NOT_PLAIN; // ext (0xc7-0xc9, 0xd4-0xd8) or 0xc1
      }
    }
  }
  return p <= end ? p : TRUNCATED;
}

export function uint32(buf: Uint8Array, p: number): number {
  // `* 0x1000000` instead of `<< 24` keeps the top bit from turning the value negative.
  return buf[p]! * 0x1000000 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!);
}
