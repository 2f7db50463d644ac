/**
 * Where one msgpack value ends, found by walking its headers without building anything.
 *
 * Used on the forward input's packed entries: a record's bytes are kept as they arrived and decoded
 * only if something reads the record (see inputs/forward/msgpack-event.ts). So what this accepts as
 * plain must be what msgpackr later decodes without an error.
 */

/** The value runs past the bytes given. */
export const TRUNCATED = -1;
/**
 * The value holds what only msgpackr can judge: an ext type (EventTime, a refused type), the
 * never-used byte 0xc1, a map key that is not a scalar (msgpackr refuses array, map and bin keys),
 * or nesting deeper than MAX_DEPTH. The caller decodes such a value eagerly, so that errors surface
 * where they always did.
 */
export const NOT_PLAIN = -2;

/** Deeper than this is not plain (msgpackr's recursion, and the transcoder's, have limits too). */
export const MAX_DEPTH = 64;

// The containers open while walking: values still to read in each, and whether it is a map.
const remaining = new Float64Array(MAX_DEPTH + 1);
const isMap = new Uint8Array(MAX_DEPTH + 1);

/** The offset just past the value starting at `p`, or TRUNCATED / NOT_PLAIN. */
export function plainValueEnd(buf: Uint8Array, p: number, end: number): number {
  let depth = 0;
  remaining[0] = 1;
  isMap[0] = 0;
  while (depth >= 0) {
    const left = remaining[depth]!;
    if (left === 0) {
      depth--;
      continue;
    }
    // A map of n pairs starts with 2n values to read: a key whenever an even number is left.
    const key = isMap[depth] === 1 && left % 2 === 0;
    remaining[depth] = left - 1;
    if (p >= end) return TRUNCATED;
    const b = buf[p]!;
    let count = -1; // elements of a container header
    let map = false;
    if (b < 0x80 || b >= 0xe0) {
      p += 1; // positive or negative fixint
    } else if (b < 0x90) {
      p += 1;
      count = b & 0x0f; // fixmap
      map = true;
    } else if (b < 0xa0) {
      p += 1;
      count = b & 0x0f; // fixarray
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
        case 0xd9: // str 8
          if (p + 2 > end) return TRUNCATED;
          p += 2 + buf[p + 1]!;
          break;
        case 0xda:
          if (p + 3 > end) return TRUNCATED;
          p += 3 + ((buf[p + 1]! << 8) | buf[p + 2]!);
          break;
        case 0xdb:
          if (p + 5 > end) return TRUNCATED;
          p += 5 + uint32(buf, p + 1);
          break;
        case 0xc4: // bin 8
          if (key) return NOT_PLAIN;
          if (p + 2 > end) return TRUNCATED;
          p += 2 + buf[p + 1]!;
          break;
        case 0xc5:
          if (key) return NOT_PLAIN;
          if (p + 3 > end) return TRUNCATED;
          p += 3 + ((buf[p + 1]! << 8) | buf[p + 2]!);
          break;
        case 0xc6:
          if (key) return NOT_PLAIN;
          if (p + 5 > end) return TRUNCATED;
          p += 5 + uint32(buf, p + 1);
          break;
        case 0xdc: // array 16
          if (p + 3 > end) return TRUNCATED;
          count = (buf[p + 1]! << 8) | buf[p + 2]!;
          p += 3;
          break;
        case 0xdd:
          if (p + 5 > end) return TRUNCATED;
          count = uint32(buf, p + 1);
          p += 5;
          break;
        case 0xde: // map 16
          if (p + 3 > end) return TRUNCATED;
          count = (buf[p + 1]! << 8) | buf[p + 2]!;
          map = true;
          p += 3;
          break;
        case 0xdf:
          if (p + 5 > end) return TRUNCATED;
          count = uint32(buf, p + 1);
          map = true;
          p += 5;
          break;
        default:
          return NOT_PLAIN; // ext (0xc7-0xc9, 0xd4-0xd8) or 0xc1
      }
    }
    if (count >= 0) {
      if (key) return NOT_PLAIN;
      if (count > 0) {
        if (depth === MAX_DEPTH) return NOT_PLAIN;
        depth++;
        remaining[depth] = map ? 2 * count : count;
        isMap[depth] = map ? 1 : 0;
      }
    }
  }
  return p <= end ? p : TRUNCATED;
}

export function uint32(buf: Uint8Array, p: number): number {
  // `* 0x1000000` instead of `<< 24` keeps the top bit from turning the value negative.
  return buf[p]! * 0x1000000 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!);
}
