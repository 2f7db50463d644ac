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

/** The counts of the maps and arrays around the one being walked (see plainValueEnd), outermost first. */
const outerLeft = new Float64Array(MAX_DEPTH + 1);
const outerIsMap = new Uint8Array(MAX_DEPTH + 1);

/**
 * The offset just past the value starting at `p`, or TRUNCATED / NOT_PLAIN / TOO_DEEP. A loop over
 * a stack of counts rather than a recursion (every packed entry's record is walked on the main
 * thread: a tenth of it in W1, a sixth of a node agent's). `left` counts the values still to walk at
 * the current level (a map's keys and values both), `depth` the maps and arrays open around the next
 * value: one more at MAX_DEPTH is TOO_DEEP.
 *
 * Strings and fixints, most of a record's keys and values, are tested first: any of them may be a map
 * key, so only the other kinds check whether they stand where a key does. A fixstr key followed by a
 * fixstr value is taken in one turn, and an empty map or array is not pushed on the stack (a record
 * of the exporter's is walked some 15% faster than with one turn per value).
 */
export function plainValueEnd(buf: Uint8Array, p: number, end: number): number {
  let depth = 0;
  let left = 1;
  let inMap = false;
  for (;;) {
    if (left === 0) {
      do {
        if (depth === 0) return p > end ? TRUNCATED : p;
        depth--;
        left = outerLeft[depth]!;
      } while (left === 0);
      inMap = outerIsMap[depth] === 1;
    }
    if (p >= end) return TRUNCATED;
    const b = buf[p]!;
    left--;
    if (b >= 0xa0) {
      if (b < 0xc0) {
        p += 1 + (b & 0x1f); // fixstr
        // A key (an odd count left once it is taken) whose value is a fixstr too: both at once.
        if (inMap && (left & 1) === 1 && p < end) {
          const v = buf[p]!;
          if (v >= 0xa0 && v < 0xc0) {
            left--;
            p += 1 + (v & 0x1f);
          }
        }
        continue;
      }
      if (b >= 0xe0) {
        p += 1; // negative fixint
        continue;
      }
    } else if (b < 0x80) {
      p += 1; // positive fixint
      continue;
    }
    // A map's key must be a scalar, as msgpackr requires.
    const atKey = inMap && (left & 1) === 1;
    let count: number;
    let map: boolean;
    if (b < 0xa0) {
      if (atKey) return NOT_PLAIN;
      map = b < 0x90;
      count = map ? 2 * (b & 0x0f) : b & 0x0f;
      p += 1;
    } else {
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          p += 1;
          continue;
        case 0xcc:
        case 0xd0:
          p += 2;
          continue;
        case 0xcd:
        case 0xd1:
          p += 3;
          continue;
        case 0xca:
        case 0xce:
        case 0xd2:
          p += 5;
          continue;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          p += 9;
          continue;
        case 0xd9: // str 8
          if (p + 2 > end) return TRUNCATED;
          p += 2 + buf[p + 1]!;
          continue;
        case 0xda:
          if (p + 3 > end) return TRUNCATED;
          p += 3 + ((buf[p + 1]! << 8) | buf[p + 2]!);
          continue;
        case 0xdb:
          if (p + 5 > end) return TRUNCATED;
          p += 5 + uint32(buf, p + 1);
          continue;
        case 0xc4: // bin 8
          if (atKey) return NOT_PLAIN;
          if (p + 2 > end) return TRUNCATED;
          p += 2 + buf[p + 1]!;
          continue;
        case 0xc5:
          if (atKey) return NOT_PLAIN;
          if (p + 3 > end) return TRUNCATED;
          p += 3 + ((buf[p + 1]! << 8) | buf[p + 2]!);
          continue;
        case 0xc6:
          if (atKey) return NOT_PLAIN;
          if (p + 5 > end) return TRUNCATED;
          p += 5 + uint32(buf, p + 1);
          continue;
        case 0xdc: // array 16
          if (atKey) return NOT_PLAIN;
          if (p + 3 > end) return TRUNCATED;
          count = (buf[p + 1]! << 8) | buf[p + 2]!;
          map = false;
          p += 3;
          break;
        case 0xdd:
          if (atKey) return NOT_PLAIN;
          if (p + 5 > end) return TRUNCATED;
          count = uint32(buf, p + 1);
          map = false;
          p += 5;
          break;
        case 0xde: // map 16
          if (atKey) return NOT_PLAIN;
          if (p + 3 > end) return TRUNCATED;
          count = 2 * ((buf[p + 1]! << 8) | buf[p + 2]!);
          map = true;
          p += 3;
          break;
        case 0xdf:
          if (atKey) return NOT_PLAIN;
          if (p + 5 > end) return TRUNCATED;
          count = 2 * uint32(buf, p + 1);
          map = true;
          p += 5;
          break;
        default:
          return NOT_PLAIN; // ext (0xc7-0xc9, 0xd4-0xd8) or 0xc1
      }
    }
    if (depth >= MAX_DEPTH) return TOO_DEEP;
    if (count === 0) continue; // an empty map or array: nothing inside to walk
    outerLeft[depth] = left;
    outerIsMap[depth] = inMap ? 1 : 0;
    depth++;
    left = count;
    inMap = map;
  }
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
