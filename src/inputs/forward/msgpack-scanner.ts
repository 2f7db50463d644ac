import { uint32 } from '../../msgpack/value-end.js';
import { ForwardProtocolError } from '../../forward/protocol-error.js';
import { plainEntryEnd, TRUNCATED } from './plain-entry.js';

/** Where the walk of a frame is (MsgpackObjectScanner). */
const Phase = {
  /** At the frame's start: nothing known. */
  Frame: 0,
  /** Past `[tag`: the entries' header is next. */
  Tag: 1,
  /** At an entry of a Forward frame, every entry before it plain. */
  Entries: 2,
  /** Inside an entry cut by the end of a read: the counter walk finishes it. */
  Cut: 3,
  /** Every entry walked, plain: the counter walk does the option map. */
  Option: 4,
  /** Not a Forward frame of plain entries (from the entry that is not): the counter walk. */
  Counter: 5,
} as const;

/**
 * Finds where one msgpack object ends by walking its headers without decoding anything. It resumes
 * where it stopped when more bytes arrive, so a frame split over many socket reads is walked once and
 * decoded once (retrying a full decode on every read would be quadratic in the frame size).
 *
 * The walk's state is one counter: msgpack is prefix-encoded, so "values still to walk" grows by the
 * element count of each array or map header and shrinks by one per value; the object ends when it
 * reaches 0.
 *
 * A Forward frame `[tag, [entry, ...], option?]` is walked entry by entry instead, each entry checked
 * plain as it goes (plain-entry.ts) and its end recorded: when every entry is plain the decoder makes
 * them events from those ends (`plainEntries`) without walking the records again. The counter stays
 * exact all along, so at the first entry that is not plain the walk goes on as the counter walk from
 * that entry's start. An entry cut by the end of a read is finished by the counter walk, then checked
 * whole: one entry per read is walked twice, never the frame.
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
  private phase: number = Phase.Frame;
  /** The counter walk stops when this many values are left (the entries after a cut entry, and the option). */
  private stopAt = 0;
  /** A Forward frame's option map: 1 when it has one. */
  private options = 0;
  /** Entries of a Forward frame still to walk. */
  private remaining = 0;
  /** Where the entry cut by the end of a read starts (Phase.Cut). */
  private entryStart = 0;
  /** Where a Forward frame's first entry starts, from the object's start. */
  entriesAt = 0;
  /** How many entries were walked plain; `entryEnds` holds where each ends, from the object's start. */
  entryCount = 0;
  entryEnds: Uint32Array = new Uint32Array(64);

  reset(start: number): void {
    this.position = start;
    this.pending = 1;
    this.origin = start;
    this.phase = Phase.Frame;
    this.stopAt = 0;
    this.entryCount = 0;
    // Held between frames: a large frame's ends are not kept by an idle connection.
    if (this.entryEnds.length > 4096) this.entryEnds = new Uint32Array(64);
  }

  /** The buffer was replaced and its bytes moved `by` to the front. */
  shift(by: number): void {
    this.position -= by;
    this.origin -= by;
    this.entryStart -= by;
  }

  /**
   * Whether the complete object is a Forward frame whose entries are all plain: `entryCount` of them
   * from `entriesAt`, ending at `entryEnds`.
   */
  get plainEntries(): boolean {
    return this.phase === Phase.Option && this.pending === 0;
  }

  /**
   * How large a Forward frame being walked will likely be, from its start: its entries walked so far,
   * and the rest at their average size (a little over). -1 when no entry was walked, or the frame is
   * not one (or has an entry that is not plain).
   */
  sizeGuess(): number {
    const count = this.entryCount;
    if (count === 0 || (this.phase !== Phase.Entries && this.phase !== Phase.Cut)) return -1;
    const walked = this.entryEnds[count - 1]!;
    const average = (walked - this.entriesAt) / count;
    return Math.ceil(walked + this.remaining * average * 1.0625);
  }

  /** Walks `buf` up to `end`; true when the object is complete (it then ends at `position`). */
  scan(buf: Uint8Array, end: number): boolean {
    if (this.phase !== Phase.Counter && this.phase !== Phase.Option) this.walkForward(buf, end);
    if (this.phase === Phase.Counter || this.phase === Phase.Option) this.walk(buf, end, 0);
    // The last value's payload may still be on its way.
    return this.pending === 0 && this.position <= end;
  }

  /**
   * The walk of a frame that may be a Forward frame: its tag, its entries' header, its entries. Stops
   * when the data ends, in Phase.Option once the entries are walked, in Phase.Counter when the frame
   * is another kind or an entry is not plain.
   */
  private walkForward(buf: Uint8Array, end: number): void {
    let pos = this.position;
    for (;;) {
      switch (this.phase) {
        case Phase.Frame: {
          if (pos >= end) return;
          const b = buf[pos]!;
          if (b !== 0x92 && b !== 0x93) {
            this.phase = Phase.Counter;
            return;
          }
          const tagEnd = strEnd(buf, pos + 1, end);
          if (tagEnd === TRUNCATED) return;
          if (tagEnd < 0) {
            this.phase = Phase.Counter;
            return;
          }
          // As the counter walk would have it: past the array header and the tag.
          this.options = b - 0x92;
          this.position = pos = tagEnd;
          this.pending = 1 + this.options;
          this.phase = Phase.Tag;
          continue;
        }
        case Phase.Tag: {
          if (pos >= end) return;
          const h = buf[pos]!;
          let count: number;
          let header: number;
          if (h >= 0x90 && h <= 0x9f) {
            count = h & 0x0f;
            header = 1;
          } else if (h === 0xdc) {
            if (pos + 3 > end) return;
            count = (buf[pos + 1]! << 8) | buf[pos + 2]!;
            header = 3;
          } else if (h === 0xdd) {
            if (pos + 5 > end) return;
            count = uint32(buf, pos + 1);
            header = 5;
          } else {
            count = 0;
            header = 0;
          }
          if (count === 0) {
            this.phase = Phase.Counter;
            return;
          }
          this.position = pos += header;
          this.pending = count + this.options;
          this.remaining = count;
          this.entriesAt = pos - this.origin;
          this.phase = Phase.Entries;
          continue;
        }
        case Phase.Entries: {
          let remaining = this.remaining;
          let pending = this.pending;
          let count = this.entryCount;
          let ends = this.entryEnds;
          const origin = this.origin;
          while (remaining > 0 && pos < end) {
            const next = plainEntryEnd(buf, pos, end);
            if (next < 0) {
              if (next === TRUNCATED) {
                this.entryStart = pos;
                this.stopAt = pending - 1;
                this.phase = Phase.Cut;
              } else {
                this.phase = Phase.Counter;
              }
              break;
            }
            if (count === ends.length) ends = this.grow();
            ends[count++] = next - origin;
            pos = next;
            remaining--;
            pending--;
          }
          this.position = pos;
          this.pending = pending;
          this.remaining = remaining;
          this.entryCount = count;
          if (remaining === 0) this.phase = Phase.Option;
          if (this.phase !== Phase.Cut) return;
          continue;
        }
        case Phase.Cut: {
          this.walk(buf, end, this.stopAt);
          pos = this.position;
          if (this.pending !== this.stopAt || pos > end) return;
          // The cut entry is all in: checked whole, it goes on as if it had come in one read.
          this.stopAt = 0;
          if (plainEntryEnd(buf, this.entryStart, end) !== pos) {
            this.phase = Phase.Counter;
            return;
          }
          if (this.entryCount === this.entryEnds.length) this.grow();
          this.entryEnds[this.entryCount++] = pos - this.origin;
          this.remaining--;
          this.phase = Phase.Entries;
          continue;
        }
        default:
          return;
      }
    }
  }

  private grow(): Uint32Array {
    const ends = new Uint32Array(this.entryEnds.length * 2);
    ends.set(this.entryEnds);
    return (this.entryEnds = ends);
  }

  /** The counter walk, from `position` until `stopAt` values are left or the data ends. */
  private walk(buf: Uint8Array, end: number, stopAt: number): void {
    let pos = this.position;
    let pending = this.pending;
    walk: while (pending > stopAt && pos < end) {
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
  }
}

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

/** Where the payload of the str whose header is at `p` ends (maybe past `end`); TRUNCATED when the header is not all in, -2 for another type. */
function strEnd(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) return TRUNCATED;
  const h = buf[p]!;
  if (h >= 0xa0 && h <= 0xbf) return p + 1 + (h & 0x1f);
  if (h === 0xd9) return p + 2 > end ? TRUNCATED : p + 2 + buf[p + 1]!;
  if (h === 0xda) return p + 3 > end ? TRUNCATED : p + 3 + u16(buf, p + 1);
  if (h === 0xdb) return p + 5 > end ? TRUNCATED : p + 5 + uint32(buf, p + 1);
  return -2;
}

function checkExt(type: number, length: number, at: number): void {
  if (type === 0) {
    if (length !== 8) throw new ForwardProtocolError(`EventTime (ext type 0) at byte ${at} of a frame has ${length} bytes, expected 8`);
  } else if (type !== 0xff) {
    throw new ForwardProtocolError(`msgpack ext type ${type > 127 ? type - 256 : type} at byte ${at} of a frame is not part of the forward protocol`);
  }
}
