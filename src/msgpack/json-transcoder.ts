/**
 * msgpack map → JSON text in one pass over the bytes, with no object built on the way: the line a
 * record becomes, at a fraction of decode + JSON.stringify's cost. It also picks a few string fields
 * out as it goes (the exporter's type, reason, involvedObject.kind…), so the caller gets labels
 * without a second walk.
 *
 * The text is what `JSON.stringify(unpack(bytes))` gives with floki's msgpackr settings. Where the two
 * could differ, `transcode` returns undefined instead and the caller takes the slow path:
 *  - a key that is not a string, starts with a digit (JavaScript puts integer-like keys first) or is
 *    `__proto__`;
 *  - bin (msgpackr gives a Buffer), float 32 (msgpackr rounds it), ext types, 0xc1;
 *  - nesting deeper than MAX_DEPTH.
 * One difference is kept on purpose: a key repeated in one map is printed each time, as it was sent
 * and as Fluent Bit prints it (JavaScript keeps the last value, at the first key's place). Every
 * path that prints a record from its bytes (the print thread, the event_exporter filter, the Loki
 * line formatter) prints it this way, so a line depends on the record alone, not on which path ran.
 *
 * Bytes ≥ 0x80 are copied as they are and the text is decoded as UTF-8 at the end, which replaces
 * invalid sequences with U+FFFD: the line is always valid UTF-8, as Loki's protobuf requires.
 */
import { SubtreeCache, SUBTREE_MIN_BYTES } from './subtree-cache.js';
import { skipValue, uint32 } from './value-end.js';

const MAX_DEPTH = 64;
const MAX_EXACT = Number.MAX_SAFE_INTEGER;
const INITIAL_BUFFER = 64 * 1024;
const MAX_KEPT_BUFFER = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Room kept past the output's offset before each value: its comma, a scalar (at most 25 characters:
 * "-0.0000012345678901234567"), the key's quotes and colon, and the brackets that close after it (at
 * most MAX_DEPTH + 1). Strings ask for their own room.
 */
const SLACK = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Per byte of a string: 0 copied; 1 two-character escape (ESCAPE_CHAR); 2 \u00XX; 3 copied, not ASCII. */
const ESCAPE_KIND = new Uint8Array(256);
const ESCAPE_CHAR = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) ESCAPE_KIND[c] = 2;
for (let c = 0x80; c < 0x100; c++) ESCAPE_KIND[c] = 3;
for (const [c, e] of [
  [0x08, 0x62], // \b
  [0x09, 0x74], // \t
  [0x0a, 0x6e], // \n
  [0x0c, 0x66], // \f
  [0x0d, 0x72], // \r
  [QUOTE, QUOTE],
  [BACKSLASH, BACKSLASH],
] as const) {
  ESCAPE_KIND[c] = 1;
  ESCAPE_CHAR[c] = e;
}

/**
 * Fields to pick out: top-level keys, and keys of one level of nested maps (`parent.child`). A field
 * is captured when its value is a string; otherwise (or when absent) it reads undefined.
 */
export type FieldPath = readonly [string] | readonly [string, string];

export class MsgpackJsonTranscoder {
  /** Captured field values, in the order of the paths given; valid after a successful transcode. */
  readonly fields: (string | undefined)[];
  private readonly topNames: Buffer[];
  /** For each top-level name: the field index it captures (-1 if it is only a parent), and its children. */
  private readonly topField: number[];
  /** `lengths`: bit n set when a name is n bytes long (n < 32; longer names are always compared). */
  private readonly children: { names: Buffer[]; field: number[]; lengths: number }[];
  /** The transcoder's own buffer: print's output, and where printInto's text goes when the target's room runs out. */
  private own: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  /** Where the text goes: `own`, or printInto's target. */
  private out: Buffer = this.own;
  /** The text starts at `base` in `out`, its next byte goes at `o`, and `out` has room up to `limit`. */
  private base = 0;
  private o = 0;
  private limit = INITIAL_BUFFER;
  private readonly interned = new Map<number, { bytes: Buffer; text: string }>();
  private ascii = true;
  /** For each key length: whether a top-level name has it (most keys are told apart by their length alone). */
  private readonly topLength = new Uint8Array(64);
  /** The values left in each open map or array around the current one, and whether it is a map. */
  private readonly stackLeft = new Float64Array(MAX_DEPTH);
  private readonly stackIsMap = new Uint8Array(MAX_DEPTH);
  /** For each open map or array: where its bytes start, where its text starts (past `base`), and the subtree slot it goes to when it closes (-1: none). */
  private readonly stackStart = new Float64Array(MAX_DEPTH);
  private readonly stackText = new Float64Array(MAX_DEPTH);
  private readonly stackSlot = new Int32Array(MAX_DEPTH);
  private readonly subtrees = new SubtreeCache();
  private viewBufA: Buffer = EMPTY;
  private viewA: DataView = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);
  private viewBufB: Buffer = EMPTY;
  private viewB = this.viewA;

  constructor(paths: readonly FieldPath[]) {
    this.fields = new Array<string | undefined>(paths.length).fill(undefined);
    this.topNames = [];
    this.topField = [];
    this.children = [];
    paths.forEach((path, index) => {
      let t = this.topNames.findIndex((n) => n.toString('utf8') === path[0]);
      if (t < 0) {
        t = this.topNames.length;
        this.topNames.push(Buffer.from(path[0], 'utf8'));
        this.topField.push(-1);
        this.children.push({ names: [], field: [], lengths: 0 });
      }
      if (path.length === 1) this.topField[t] = index;
      else {
        const name = Buffer.from(path[1], 'utf8');
        this.children[t]!.names.push(name);
        if (name.length < 32) this.children[t]!.lengths |= 1 << name.length;
        this.children[t]!.field.push(index);
      }
    });
    for (const name of this.topNames) if (name.length < this.topLength.length) this.topLength[name.length] = 1;
  }

  /** The JSON text of the map in `src[start, end)`, or undefined when only a real decode gives the right text. */
  transcode(src: Buffer, start: number, end: number): string | undefined {
    const length = this.print(src, start, end);
    const text = length < 0 ? undefined : this.ascii ? this.own.toString('latin1', 0, length) : this.own.toString('utf8', 0, length);
    // One huge record does not keep a huge buffer.
    if (this.own.length > MAX_KEPT_BUFFER) this.out = this.own = Buffer.allocUnsafe(INITIAL_BUFFER);
    return text;
  }

  /**
   * As transcode, but the text is left as UTF-8 bytes in `output[0, length)` (valid until the next
   * call): returns the length, or -1. `outputAscii` says whether every byte is ASCII.
   */
  print(src: Buffer, start: number, end: number): number {
    this.out = this.own;
    this.base = 0;
    this.o = 0;
    this.limit = this.own.length;
    return this.printMap(src, start, end);
  }

  /**
   * As print, but the text goes straight into `target[offset, limit)` (the print thread's shared
   * output: no copy of each text): returns its length, or -1, also when it does not fit there. A
   * text that outgrows the room midway is finished in the transcoder's own buffer and copied in if
   * it fits after all (reserve asks for the worst case of escapes, not what a string takes).
   */
  printInto(src: Buffer, start: number, end: number, target: Buffer, offset: number, limit: number): number {
    const room = Math.min(limit, target.length) - offset;
    if (room < 0) return -1;
    this.out = target;
    this.base = offset;
    this.o = offset;
    this.limit = offset + room;
    const length = this.printMap(src, start, end);
    const spilled = this.out !== target;
    this.out = this.own;
    if (length < 0 || length > room) return -1;
    if (spilled) this.own.copy(target, offset, 0, length);
    return length;
  }

  /**
   * The whole record in one loop over a stack of open maps and arrays, with the output's buffer, offset
   * and room in locals: per value a few comparisons and stores, no call (a call per value, and the
   * fields reloaded after each, were most of the thread's time in W1). Room is checked once per value
   * against `lim`, SLACK short of the end: enough for any scalar and the brackets that close after it;
   * a string asks for its worst case of escapes first.
   */
  private printMap(src: Buffer, start: number, end: number): number {
    this.ascii = true;
    const fields = this.fields;
    for (let f = 0; f < fields.length; f++) fields[f] = undefined;
    let p: number;
    let count: number;
    const b0 = src[start];
    if (b0 === undefined || start >= end) return -1;
    if (b0 >= 0x80 && b0 <= 0x8f) {
      count = b0 & 0x0f;
      p = start + 1;
    } else if (b0 === 0xde && start + 3 <= end) {
      count = (src[start + 1]! << 8) | src[start + 2]!;
      p = start + 3;
    } else if (b0 === 0xdf && start + 5 <= end) {
      count = uint32(src, start + 1);
      p = start + 5;
    } else {
      return -1;
    }
    const stackLeft = this.stackLeft;
    const stackIsMap = this.stackIsMap;
    const stackStart = this.stackStart;
    const stackText = this.stackText;
    const stackSlot = this.stackSlot;
    const subtrees = this.subtrees;
    const topLength = this.topLength;
    let out = this.out;
    let ov = this.view(out);
    const sv = this.view(src);
    let o = this.o;
    let lim = this.limit - SLACK;
    let high = 0;
    /** Open maps and arrays around the next value (the record's map is 0), and the values left in the innermost. */
    let depth = 0;
    let left = count;
    let inMap = true;
    /** At depth 1, in the map of a top-level key with children to capture: that key's index, else -1. */
    let parent = -1;
    if (o > lim) {
      this.o = o;
      this.reserve(SLACK);
      out = this.out;
      ov = this.view(out);
      o = this.o;
      lim = this.limit - SLACK;
    }
    out[o++] = 0x7b;
    if (left === 0) out[o++] = 0x7d;
    else
      for (;;) {
        if (o > lim) {
          this.o = o;
          this.reserve(SLACK);
          out = this.out;
          ov = this.view(out);
          o = this.o;
          lim = this.limit - SLACK;
        }
        left--;
        let field = -1;
        let child = -1;
        if (inMap) {
          // The key: a str, not integer-like (JavaScript would reorder it), not __proto__.
          if (p >= end) return -1;
          const h = src[p]!;
          let ks: number;
          let kl: number;
          if (h >= 0xa0 && h <= 0xbf) {
            ks = p + 1;
            kl = h & 0x1f;
          } else if (h === 0xd9 && p + 2 <= end) {
            ks = p + 2;
            kl = src[p + 1]!;
          } else if (h === 0xda && p + 3 <= end) {
            ks = p + 3;
            kl = (src[p + 1]! << 8) | src[p + 2]!;
          } else if (h === 0xdb && p + 5 <= end) {
            ks = p + 5;
            kl = uint32(src, p + 1);
          } else {
            return -1;
          }
          p = ks + kl;
          if (p > end) return -1;
          if (kl !== 0) {
            const k0 = src[ks]!;
            if (k0 >= 0x30 && k0 <= 0x39) return -1;
            if (kl === 9 && k0 === 0x5f && isProto(src, ks)) return -1;
          }
          if (o + 6 * kl > lim) {
            this.o = o;
            this.reserve(6 * kl + SLACK);
            out = this.out;
            ov = this.view(out);
            o = this.o;
            lim = this.limit - SLACK;
          }
          out[o++] = QUOTE;
          // The string's bytes, four at a time while none needs an escape (copyString, written out here:
          // the printing loop is too big for V8 to inline a call of it at both places).
          let i = ks;
          if (p - i < 4) {
            for (; i < p; i++) {
              const c = src[i]!;
              if (ESCAPE_KIND[c] !== 0) break;
              out[o++] = c;
            }
          } else {
            for (; i + 4 <= p; i += 4, o += 4) {
              const x = sv.getInt32(i, true);
              const q = x ^ 0x22222222;
              const r = x ^ 0x5c5c5c5c;
              if (((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((r - 0x01010101) & ~r)) & 0x80808080) !== 0) break;
              ov.setInt32(o, x, true);
              high |= x;
            }
            if (i < p && i + 4 > p) {
              // The last 1-3 bytes as the string's last four, over those already written.
              const x = sv.getInt32(p - 4, true);
              const q = x ^ 0x22222222;
              const r = x ^ 0x5c5c5c5c;
              if (((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((r - 0x01010101) & ~r)) & 0x80808080) === 0) {
                o += p - i;
                ov.setInt32(o - 4, x, true);
                high |= x;
                i = p;
              }
            }
          }
          if (i < p) {
            o = copyEscaping(src, sv, i, p, out, ov, o, 0);
            if (o < 0) {
              o = ~o;
              high |= 0x80;
            }
          }
          out[o++] = QUOTE;
          out[o++] = COLON;
          // Is this key a field to capture, or the parent of some?
          if (depth === 0) {
            if (kl >= topLength.length || topLength[kl] !== 0) {
              const t = indexOfName(this.topNames, src, ks, kl);
              if (t >= 0) {
                field = this.topField[t]!;
                const fieldsOfChild = this.children[t]!.field;
                if (fieldsOfChild.length > 0) {
                  child = t;
                  // A repeated parent replaces the earlier one, as it would in the decoded object.
                  for (let f = 0; f < fieldsOfChild.length; f++) fields[fieldsOfChild[f]!] = undefined;
                }
              }
            }
          } else if (depth === 1 && parent >= 0) {
            const c = this.children[parent]!;
            if (kl >= 32 || ((c.lengths >>> kl) & 1) !== 0) {
              const n = indexOfName(c.names, src, ks, kl);
              if (n >= 0) field = c.field[n]!;
            }
          }
          if (field >= 0) fields[field] = this.captureString(src, p, end);
        }
        // The value.
        if (p >= end) return -1;
        const vp = p;
        const b = src[p]!;
        let sl = -1;
        let open = -1;
        if (b >= 0xa0 && b <= 0xbf) {
          sl = b & 0x1f;
          p += 1;
        } else if (b < 0x80) {
          if (b < 10) out[o++] = 0x30 + b;
          else if (b < 100) {
            const q = (b * 205) >> 11; // b / 10
            out[o++] = 0x30 + q;
            out[o++] = 0x30 + b - q * 10;
          } else {
            out[o++] = 0x31;
            const r = b - 100;
            const q = (r * 205) >> 11;
            out[o++] = 0x30 + q;
            out[o++] = 0x30 + r - q * 10;
          }
          p += 1;
        } else if (b < 0xa0) {
          // fixmap or fixarray: which one is told below.
          open = b & 0x0f;
          p += 1;
        } else if (b >= 0xe0) {
          o = writeInteger(out, o, b - 0x100);
          p += 1;
        } else {
          switch (b) {
            case 0xc0:
              out[o++] = 0x6e; // null
              out[o++] = 0x75;
              out[o++] = 0x6c;
              out[o++] = 0x6c;
              p += 1;
              break;
            case 0xc2:
              out[o++] = 0x66; // false
              out[o++] = 0x61;
              out[o++] = 0x6c;
              out[o++] = 0x73;
              out[o++] = 0x65;
              p += 1;
              break;
            case 0xc3:
              out[o++] = 0x74; // true
              out[o++] = 0x72;
              out[o++] = 0x75;
              out[o++] = 0x65;
              p += 1;
              break;
            case 0xcc:
              if (p + 2 > end) return -1;
              o = writeInteger(out, o, src[p + 1]!);
              p += 2;
              break;
            case 0xcd:
              if (p + 3 > end) return -1;
              o = writeInteger(out, o, (src[p + 1]! << 8) | src[p + 2]!);
              p += 3;
              break;
            case 0xce:
              if (p + 5 > end) return -1;
              o = writeInteger(out, o, uint32(src, p + 1));
              p += 5;
              break;
            case 0xcf:
              if (p + 9 > end) return -1;
              o = writeNumber(out, o, uint32(src, p + 1) * 0x100000000 + uint32(src, p + 5));
              p += 9;
              break;
            case 0xd0:
              if (p + 2 > end) return -1;
              o = writeInteger(out, o, (src[p + 1]! << 24) >> 24);
              p += 2;
              break;
            case 0xd1:
              if (p + 3 > end) return -1;
              o = writeInteger(out, o, (((src[p + 1]! << 8) | src[p + 2]!) << 16) >> 16);
              p += 3;
              break;
            case 0xd2:
              if (p + 5 > end) return -1;
              o = writeInteger(out, o, (src[p + 1]! << 24) | (src[p + 2]! << 16) | (src[p + 3]! << 8) | src[p + 4]!);
              p += 5;
              break;
            case 0xd3:
              if (p + 9 > end) return -1;
              o = writeNumber(out, o, ((src[p + 1]! << 24) | (src[p + 2]! << 16) | (src[p + 3]! << 8) | src[p + 4]!) * 0x100000000 + uint32(src, p + 5));
              p += 9;
              break;
            case 0xcb:
              if (p + 9 > end) return -1;
              o = writeNumber(out, o, src.readDoubleBE(p + 1));
              p += 9;
              break;
            case 0xd9:
              if (p + 2 > end) return -1;
              sl = src[p + 1]!;
              p += 2;
              break;
            case 0xda:
              if (p + 3 > end) return -1;
              sl = (src[p + 1]! << 8) | src[p + 2]!;
              p += 3;
              break;
            case 0xdb:
              if (p + 5 > end) return -1;
              sl = uint32(src, p + 1);
              p += 5;
              break;
            case 0xdc: // array 16
            case 0xde: // map 16
              if (p + 3 > end) return -1;
              open = (src[p + 1]! << 8) | src[p + 2]!;
              p += 3;
              break;
            case 0xdd: // array 32
            case 0xdf: // map 32
              if (p + 5 > end) return -1;
              open = uint32(src, p + 1);
              p += 5;
              break;
            default:
              return -1; // bin, float 32, ext, 0xc1
          }
        }
        if (sl >= 0) {
          const se = p + sl;
          if (se > end) return -1;
          if (o + 6 * sl > lim) {
            this.o = o;
            this.reserve(6 * sl + SLACK);
            out = this.out;
            ov = this.view(out);
            o = this.o;
            lim = this.limit - SLACK;
          }
          out[o++] = QUOTE;
          // The string's bytes, four at a time while none needs an escape (copyString, written out here:
          // the printing loop is too big for V8 to inline a call of it at both places).
          let i = p;
          if (se - i < 4) {
            for (; i < se; i++) {
              const c = src[i]!;
              if (ESCAPE_KIND[c] !== 0) break;
              out[o++] = c;
            }
          } else {
            for (; i + 4 <= se; i += 4, o += 4) {
              const x = sv.getInt32(i, true);
              const q = x ^ 0x22222222;
              const r = x ^ 0x5c5c5c5c;
              if (((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((r - 0x01010101) & ~r)) & 0x80808080) !== 0) break;
              ov.setInt32(o, x, true);
              high |= x;
            }
            if (i < se && i + 4 > se) {
              // The last 1-3 bytes as the string's last four, over those already written.
              const x = sv.getInt32(se - 4, true);
              const q = x ^ 0x22222222;
              const r = x ^ 0x5c5c5c5c;
              if (((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((r - 0x01010101) & ~r)) & 0x80808080) === 0) {
                o += se - i;
                ov.setInt32(o - 4, x, true);
                high |= x;
                i = se;
              }
            }
          }
          if (i < se) {
            o = copyEscaping(src, sv, i, se, out, ov, o, 0);
            if (o < 0) {
              o = ~o;
              high |= 0x80;
            }
          }
          out[o++] = QUOTE;
          p = se;
        } else if (open >= 0) {
          // A map or an array: fixmap, map 16/32 are 0x8X, 0xde, 0xdf.
          const isMap = b < 0x90 || b >= 0xde;
          let slot = -1;
          // The same bytes seen before as a whole map or array: their text, unless a field to capture is in there.
          if (open > 0 && (depth > 0 || child < 0) && vp + SUBTREE_MIN_BYTES <= end) {
            slot = subtrees.slotOf(sv, vp);
            const text = subtrees.lookup(slot, src, sv, vp, end, depth);
            if (text !== undefined) {
              if (o + text.length > lim) {
                this.o = o;
                this.reserve(text.length + SLACK);
                out = this.out;
                ov = this.view(out);
                o = this.o;
                lim = this.limit - SLACK;
              }
              out.set(text, o);
              o += text.length;
              p = vp + subtrees.inputLength;
              high |= subtrees.high << 7;
              open = 0;
              slot = -2;
            } else if (!subtrees.admit(slot)) slot = -1;
          }
          if (slot !== -2) {
            out[o++] = isMap ? 0x7b : 0x5b;
            // Its values would be one level deeper than MAX_DEPTH.
            if (open > 0 && depth + 1 >= MAX_DEPTH) return -1;
            stackLeft[depth] = left;
            stackIsMap[depth] = inMap ? 1 : 0;
            stackSlot[depth] = slot;
            if (slot >= 0) {
              stackStart[depth] = vp;
              stackText[depth] = o - 1 - this.base;
            }
            if (depth === 0) parent = child;
            depth++;
            left = open;
            inMap = isMap;
            // An empty one is closed below, as any other: a path of its own would be one that V8 has no
            // feedback for when repeated subtrees hide the empty maps in them, and leaves its optimized code for.
            if (open > 0) continue;
          }
        }
        // The value is written: close what it ends, then a comma before the next one.
        while (left === 0) {
          out[o++] = inMap ? 0x7d : 0x5d;
          if (depth === 0) break;
          depth--;
          const slot = stackSlot[depth]!;
          if (slot >= 0) subtrees.store(slot, src, stackStart[depth]!, p, out, stackText[depth]! + this.base, o, depth);
          left = stackLeft[depth]!;
          inMap = stackIsMap[depth] === 1;
        }
        if (left === 0) break;
        out[o++] = COMMA;
      }
    this.o = o;
    this.ascii = (high & 0x80808080) === 0;
    return p === end ? o - this.base : -1;
  }

  /** Where `print` left its text. */
  get output(): Buffer {
    return this.own;
  }

  get outputAscii(): boolean {
    return this.ascii;
  }

  /**
   * Only the fields (no text) of the map in `src[start, end)`: for a record whose JSON was printed
   * elsewhere. False if the bytes are not a map of plain msgpack.
   */
  capture(src: Buffer, start: number, end: number): boolean {
    this.fields.fill(undefined);
    let p = mapHeader(src, start, end);
    if (p < 0) return false;
    const count = headerCount;
    for (let i = 0; i < count; i++) {
      const ks = strStart(src, p, end);
      if (ks < 0) return false;
      const kl = headerCount;
      p = ks + kl;
      const t = indexOfName(this.topNames, src, ks, kl);
      if (t >= 0) {
        const field = this.topField[t]!;
        if (field >= 0) this.fields[field] = this.captureString(src, p, end);
        const children = this.children[t]!;
        if (children.names.length > 0) {
          for (let f = 0; f < children.field.length; f++) this.fields[children.field[f]!] = undefined;
          const inner = mapHeader(src, p, end);
          if (inner >= 0) {
            const n = headerCount;
            let q = inner;
            for (let j = 0; j < n; j++) {
              const cs = strStart(src, q, end);
              if (cs < 0) return false;
              const cl = headerCount;
              q = cs + cl;
              const c = indexOfName(children.names, src, cs, cl);
              if (c >= 0) this.fields[children.field[c]!] = this.captureString(src, q, end);
              q = skipValue(src, q, end);
              if (q < 0) return false;
            }
          }
        }
      }
      p = skipValue(src, p, end);
      if (p < 0) return false;
    }
    return p === end;
  }

  /**
   * The string at `p` (a msgpack str), or undefined for any other type. Field values repeat (a
   * handful of types, reasons, kinds and namespaces): short ones are interned by their bytes, which
   * spares building the same string for every record.
   */
  private captureString(src: Buffer, p: number, end: number): string | undefined {
    const s = strStart(src, p, end);
    if (s < 0) return undefined;
    const l = headerCount;
    if (l > INTERN_MAX_BYTES) return src.toString('utf8', s, s + l);
    let hash = 0x811c9dc5 ^ l;
    for (let i = s; i < s + l; i++) hash = Math.imul(hash ^ src[i]!, 0x01000193);
    const hit = this.interned.get(hash);
    if (hit !== undefined && sameBytes(hit.bytes, src, s, l)) return hit.text;
    const text = src.toString('utf8', s, s + l);
    if (this.interned.size >= INTERN_MAX_ENTRIES) this.interned.clear();
    this.interned.set(hash, { bytes: Buffer.from(src.subarray(s, s + l)), text });
    return text;
  }

  /** A DataView of `buf`: the last two are kept (a job's input and output, or a chunk's buffer and the own one). */
  private view(buf: Buffer): DataView {
    if (buf === this.viewBufA) return this.viewA;
    if (buf === this.viewBufB) return this.viewB;
    this.viewBufB = this.viewBufA;
    this.viewB = this.viewA;
    this.viewBufA = buf;
    this.viewA = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return this.viewA;
  }

  private reserve(n: number): void {
    if (this.o + n <= this.limit) return;
    // Out of room: in the own buffer it grows; out of a target's room the text so far moves to the
    // own buffer (grown if need be), and goes on there.
    const length = this.o - this.base;
    const own = this.own;
    const next = length + n <= own.length && this.out !== own ? own : Buffer.allocUnsafe(Math.max(2 * own.length, length + n));
    this.out.copy(next, 0, this.base, this.o);
    this.out = this.own = next;
    this.base = 0;
    this.o = length;
    this.limit = next.length;
  }
}

/** Captured strings of at most this many bytes are interned. */
const INTERN_MAX_BYTES = 64;
const INTERN_MAX_ENTRIES = 4096;
/** Set by mapHeader and keyStart: the pair count, or the key's length. */
let headerCount = 0;

/** Where a map's pairs start (headerCount = how many), or -1 if `src[p]` is not a map header. */
function mapHeader(src: Buffer, p: number, end: number): number {
  const b = src[p];
  if (b === undefined || p >= end) return -1;
  if (b >= 0x80 && b <= 0x8f) {
    headerCount = b & 0x0f;
    return p + 1;
  }
  if (b === 0xde && p + 3 <= end) {
    headerCount = (src[p + 1]! << 8) | src[p + 2]!;
    return p + 3;
  }
  if (b === 0xdf && p + 5 <= end) {
    headerCount = uint32(src, p + 1);
    return p + 5;
  }
  return -1;
}

/** Where a str's bytes start (headerCount = its length), or -1 if `src[p]` is not a str that fits. */
function strStart(src: Buffer, p: number, end: number): number {
  const h = src[p];
  let ks: number;
  if (h === undefined || p >= end) return -1;
  if (h >= 0xa0 && h <= 0xbf) {
    ks = p + 1;
    headerCount = h & 0x1f;
  } else if (h === 0xd9) {
    ks = p + 2;
    headerCount = src[p + 1]!;
  } else if (h === 0xda) {
    ks = p + 3;
    headerCount = (src[p + 1]! << 8) | src[p + 2]!;
  } else if (h === 0xdb) {
    ks = p + 5;
    headerCount = uint32(src, p + 1);
  } else {
    return -1;
  }
  return ks + headerCount <= end ? ks : -1;
}

/** Whether one of the four bytes of `x` is below 0x20, a quote or a backslash (or, rarely, a false alarm next to one). */
function needsEscape(x: number): boolean {
  const q = x ^ 0x22222222;
  const b = x ^ 0x5c5c5c5c;
  // Such a byte sets its top bit here; a borrow only adds false alarms above a real one.
  return ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) !== 0;
}

/** copyString from a byte that may need an escape on; `high` carries the top bits seen so far. */
function copyEscaping(src: Buffer, sv: DataView, p: number, end: number, out: Buffer, ov: DataView, o: number, high: number): number {
  let i = p;
  for (;;) {
    for (; i + 4 <= end; i += 4, o += 4) {
      const x = sv.getInt32(i, true);
      if (needsEscape(x)) break;
      ov.setInt32(o, x, true);
      high |= x;
    }
    if (i >= end) break;
    const c = src[i++]!;
    const kind = ESCAPE_KIND[c]!;
    if (kind === 0) {
      out[o++] = c;
    } else if (kind === 3) {
      out[o++] = c;
      high |= 0x80;
    } else if (kind === 1) {
      out[o++] = BACKSLASH;
      out[o++] = ESCAPE_CHAR[c]!;
    } else {
      out[o++] = BACKSLASH;
      out[o++] = 0x75; // u
      out[o++] = 0x30;
      out[o++] = 0x30;
      out[o++] = HEX[c >> 4]!;
      out[o++] = HEX[c & 0x0f]!;
    }
  }
  return (high & 0x80808080) === 0 ? o : ~o;
}

/**
 * An integer's digits into `out` at `o` (String(n) and a write of it cost far more): returns the
 * offset past them. Beyond 2^53 a double no longer holds the integer exactly: JavaScript's own
 * formatting decides then.
 */
function writeInteger(out: Buffer, o: number, n: number): number {
  if (n > MAX_EXACT || n < -MAX_EXACT) return writeNumber(out, o, n);
  if (n < 0) {
    out[o++] = 0x2d; // -
    n = -n;
  }
  if (n < 10) {
    out[o++] = 0x30 + n;
    return o;
  }
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  for (let i = o + digits - 1; i >= o; i--) {
    const q = Math.floor(n / 10);
    out[i] = 0x30 + (n - q * 10);
    n = q;
  }
  return o + digits;
}

/** A number as JavaScript prints it (at most 25 characters), null for NaN and the infinities, as JSON.stringify. */
function writeNumber(out: Buffer, o: number, n: number): number {
  const text = Number.isFinite(n) ? String(n) : 'null';
  for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
  return o;
}

function sameBytes(a: Buffer, src: Buffer, p: number, length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== src[p + i]) return false;
  return true;
}

function isProto(src: Buffer, p: number): boolean {
  // "__proto__"
  return (
    src[p + 1] === 0x5f && src[p + 2] === 0x70 && src[p + 3] === 0x72 && src[p + 4] === 0x6f &&
    src[p + 5] === 0x74 && src[p + 6] === 0x6f && src[p + 7] === 0x5f && src[p + 8] === 0x5f
  );
}

function indexOfName(names: Buffer[], src: Buffer, p: number, length: number): number {
  outer: for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    if (name.length !== length) continue;
    for (let i = 0; i < length; i++) if (name[i] !== src[p + i]) continue outer;
    return n;
  }
  return -1;
}

