import { uint32 } from '../../msgpack/value-end.js';
import { ForwardProtocolError } from '../../forward/protocol-error.js';

/**
 * Finds where one msgpack object ends by walking its headers without decoding anything. It resumes
 * where it stopped when more bytes arrive, so a frame split over many socket reads is walked once and
 * decoded once (retrying a full decode on every read would be quadratic in the frame size).
 *
 * State is one counter: msgpack is prefix-encoded, so "values still to walk" grows by the element
 * count of each array or map header and shrinks by one per value; the object ends when it reaches 0.
 *
 * Ext types are checked here because msgpackr gives meaning to several of its own: the forward
 * protocol only uses type 0 (EventTime, 8 bytes), and -1 (msgpack timestamp) is accepted as harmless.
 */
export class MsgpackObjectScanner {
  /** Offset of the next header to walk; past the data end while a str/bin/ext payload is incomplete. */
  position = 0;
  /** Values still to walk before the object is complete. */
  pending = 1;
  /** Where the object starts, for error messages. */
  private origin = 0;

  reset(start: number): void {
    this.position = start;
    this.pending = 1;
    this.origin = start;
  }

  /** The buffer was replaced and its bytes moved `by` to the front. */
  shift(by: number): void {
    this.position -= by;
    this.origin -= by;
  }

  /** Walks `buf` up to `end`; true when the object is complete (it then ends at `position`). */
  scan(buf: Uint8Array, end: number): boolean {
    let pos = this.position;
    let pending = this.pending;
    walk: while (pending > 0 && pos < end) {
      const b = buf[pos]!;
      if (b < 0x80 || b >= 0xe0) {
        pos += 1; // positive or negative fixint
        pending -= 1;
        continue;
      }
      if (b < 0x90) {
        pos += 1;
        pending += 2 * (b & 0x0f) - 1;
        continue;
      }
      if (b < 0xa0) {
        pos += 1;
        pending += (b & 0x0f) - 1;
        continue;
      }
      if (b < 0xc0) {
        pos += 1 + (b & 0x1f);
        pending -= 1;
        continue;
      }
      const avail = end - pos;
      let size: number;
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          size = 1;
          break;
        case 0xcc:
        case 0xd0:
          size = 2;
          break;
        case 0xcd:
        case 0xd1:
          size = 3;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          size = 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          size = 9;
          break;
        case 0xc4: // bin 8
        case 0xd9: // str 8
          if (avail < 2) break walk;
          size = 2 + buf[pos + 1]!;
          break;
        case 0xc5:
        case 0xda:
          if (avail < 3) break walk;
          size = 3 + u16(buf, pos + 1);
          break;
        case 0xc6:
        case 0xdb:
          if (avail < 5) break walk;
          size = 5 + uint32(buf, pos + 1);
          break;
        case 0xd4: // fixext 1, 2, 4, 8, 16
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8: {
          if (avail < 2) break walk;
          const length = 1 << (b - 0xd4);
          checkExt(buf[pos + 1]!, length, pos - this.origin);
          size = 2 + length;
          break;
        }
        case 0xc7: {
          if (avail < 3) break walk;
          const length = buf[pos + 1]!;
          checkExt(buf[pos + 2]!, length, pos - this.origin);
          size = 3 + length;
          break;
        }
        case 0xc8: {
          if (avail < 4) break walk;
          const length = u16(buf, pos + 1);
          checkExt(buf[pos + 3]!, length, pos - this.origin);
          size = 4 + length;
          break;
        }
        case 0xc9: {
          if (avail < 6) break walk;
          const length = uint32(buf, pos + 1);
          checkExt(buf[pos + 5]!, length, pos - this.origin);
          size = 6 + length;
          break;
        }
        case 0xdc: // array 16
          if (avail < 3) break walk;
          pos += 3;
          pending += u16(buf, pos - 2) - 1;
          continue;
        case 0xdd: // array 32
          if (avail < 5) break walk;
          pos += 5;
          pending += uint32(buf, pos - 4) - 1;
          continue;
        case 0xde: // map 16
          if (avail < 3) break walk;
          pos += 3;
          pending += 2 * u16(buf, pos - 2) - 1;
          continue;
        case 0xdf: // map 32
          if (avail < 5) break walk;
          pos += 5;
          pending += 2 * uint32(buf, pos - 4) - 1;
          continue;
        default: // 0xc1 is the one byte msgpack never uses
          throw new ForwardProtocolError(`not msgpack: byte 0x${b.toString(16)} at byte ${pos - this.origin} of a frame`);
      }
      pos += size;
      pending -= 1;
    }
    this.position = pos;
    this.pending = pending;
    // The last value's payload may still be on its way.
    return pending === 0 && pos <= end;
  }
}

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}


function checkExt(type: number, length: number, at: number): void {
  if (type === 0) {
    if (length !== 8) throw new ForwardProtocolError(`EventTime (ext type 0) at byte ${at} of a frame has ${length} bytes, expected 8`);
  } else if (type !== 0xff) {
    throw new ForwardProtocolError(`msgpack ext type ${type > 127 ? type - 256 : type} at byte ${at} of a frame is not part of the forward protocol`);
  }
}
