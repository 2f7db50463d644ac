/**
 * Where any msgpack value ends and how deeply its maps and arrays nest, found without recursion and
 * without decoding: the check that lets the forward input refuse a record nested too deeply before
 * msgpackr (which recurses on nesting) ever sees it, whatever the depth.
 */
import { NOT_MSGPACK, TRUNCATED, uint32 } from './value-end.js';

/** What measureValue found besides the end. */
export interface Measured {
  /** Levels of maps and arrays (a scalar 0, `{}` 1, `{"a":[]}` 2), counted up to cap + 1. */
  levels: number;
}

/** closeAt[i]: the count of values still to walk at which the container open at level i + 1 is complete. */
let closeAt = new Float64Array(72);

/**
 * The offset just past the value starting at `p`, or TRUNCATED (it runs past `end`) or NOT_MSGPACK
 * (byte 0xc1). `out.levels` gets its nesting, or cap + 1 when it is deeper than `cap`.
 *
 * One counter of values still to walk finds the end, as in skipValue; a container is complete when
 * that counter comes back to what it was before its elements were added, which a stack of those
 * values (cap deep at most) tracks.
 */
export function measureValue(buf: Uint8Array, p: number, end: number, cap: number, out: Measured): number {
  if (closeAt.length <= cap) closeAt = new Float64Array(cap + 1);
  let pending = 1;
  let open = 0;
  let levels = 0;
  let tracking = true;
  while (pending > 0) {
    if (p >= end) return TRUNCATED;
    const b = buf[p]!;
    pending -= 1;
    let children = -1;
    if (b < 0x80 || b >= 0xe0) {
      p += 1; // positive or negative fixint
    } else if (b < 0x90) {
      p += 1;
      children = 2 * (b & 0x0f); // fixmap
    } else if (b < 0xa0) {
      p += 1;
      children = b & 0x0f; // fixarray
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
        case 0xd4: // fixext 1
          p += 3;
          break;
        case 0xd5: // fixext 2
          p += 4;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          p += 5;
          break;
        case 0xd6: // fixext 4
          p += 6;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          p += 9;
          break;
        case 0xd7: // fixext 8
          p += 10;
          break;
        case 0xd8: // fixext 16
          p += 18;
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
        case 0xc7: // ext 8: length, type, data
          if (p + 2 > end) return TRUNCATED;
          p += 3 + buf[p + 1]!;
          break;
        case 0xc8:
          if (p + 3 > end) return TRUNCATED;
          p += 4 + ((buf[p + 1]! << 8) | buf[p + 2]!);
          break;
        case 0xc9:
          if (p + 5 > end) return TRUNCATED;
          p += 6 + uint32(buf, p + 1);
          break;
        case 0xdc: // array 16
          if (p + 3 > end) return TRUNCATED;
          children = (buf[p + 1]! << 8) | buf[p + 2]!;
          p += 3;
          break;
        case 0xdd:
          if (p + 5 > end) return TRUNCATED;
          children = uint32(buf, p + 1);
          p += 5;
          break;
        case 0xde: // map 16
          if (p + 3 > end) return TRUNCATED;
          children = 2 * ((buf[p + 1]! << 8) | buf[p + 2]!);
          p += 3;
          break;
        case 0xdf:
          if (p + 5 > end) return TRUNCATED;
          children = 2 * uint32(buf, p + 1);
          p += 5;
          break;
        default:
          return NOT_MSGPACK; // 0xc1
      }
    }
    if (children >= 0 && tracking) {
      const level = open + 1;
      if (level > cap) {
        // Deeper than asked about: only the end matters from here.
        levels = cap + 1;
        tracking = false;
      } else {
        if (level > levels) levels = level;
        if (children > 0) {
          closeAt[open] = pending;
          open = level;
        }
      }
    }
    if (children > 0) pending += children;
    if (tracking) while (open > 0 && pending === closeAt[open - 1]) open--;
  }
  out.levels = levels;
  return p <= end ? p : TRUNCATED;
}
