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
import { skipValue, uint32 } from './value-end.js';

const MAX_DEPTH = 64;
const MAX_EXACT = Number.MAX_SAFE_INTEGER;
/** "-9007199254740991" */
const MAX_INTEGER_CHARS = 17;
const INITIAL_BUFFER = 64 * 1024;
const MAX_KEPT_BUFFER = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const FAIL = -1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** 0: copy; 1: two-character escape (ESCAPE_CHAR); 2: \u00XX. */
const ESCAPE_KIND = new Uint8Array(128);
const ESCAPE_CHAR = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) ESCAPE_KIND[c] = 2;
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
const NULL_BYTES = Buffer.from('null', 'latin1');
const TRUE_BYTES = Buffer.from('true', 'latin1');
const FALSE_BYTES = Buffer.from('false', 'latin1');

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
  private readonly children: { names: Buffer[]; field: number[] }[];
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
  private src: Buffer = EMPTY;
  private end = 0;

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
        this.children.push({ names: [], field: [] });
      }
      if (path.length === 1) this.topField[t] = index;
      else {
        this.children[t]!.names.push(Buffer.from(path[1], 'utf8'));
        this.children[t]!.field.push(index);
      }
    });
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

  private printMap(src: Buffer, start: number, end: number): number {
    this.src = src;
    this.end = end;
    this.ascii = true;
    this.fields.fill(undefined);
    const b = src[start];
    let count: number;
    let p: number;
    if (b === undefined) return -1;
    if (b >= 0x80 && b <= 0x8f) {
      count = b & 0x0f;
      p = start + 1;
    } else if (b === 0xde && start + 3 <= end) {
      count = (src[start + 1]! << 8) | src[start + 2]!;
      p = start + 3;
    } else if (b === 0xdf && start + 5 <= end) {
      count = uint32(src, start + 1);
      p = start + 5;
    } else {
      return -1;
    }
    p = this.map(p, count, 0, -1);
    this.src = EMPTY;
    return p === end ? this.o - this.base : -1;
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

  /** Writes a map's `count` pairs (its header already read); `parent` is the top-level name index, or -1. */
  private map(p: number, count: number, depth: number, parent: number): number {
    const src = this.src;
    this.put(0x7b);
    for (let i = 0; i < count; i++) {
      if (i > 0) this.put(COMMA);
      // The key: a str, not integer-like (JavaScript would reorder it), not __proto__.
      const ks = strStart(src, p, this.end);
      if (ks < 0) return FAIL;
      const kl = headerCount;
      p = ks + kl;
      if (kl === 0) {
        // "" is a fine key
      } else {
        const k0 = src[ks]!;
        if (k0 >= 0x30 && k0 <= 0x39) return FAIL;
        if (kl === 9 && k0 === 0x5f && isProto(src, ks)) return FAIL;
      }
      this.string(ks, kl);
      this.put(COLON);
      // Is this key a field to capture, or the parent of some?
      let field = -1;
      let child = -1;
      if (depth === 0) {
        const t = indexOfName(this.topNames, src, ks, kl);
        if (t >= 0) {
          field = this.topField[t]!;
          if (this.children[t]!.names.length > 0) {
            child = t;
            // A repeated parent replaces the earlier one, as it would in the decoded object.
            const fieldsOfChild = this.children[t]!.field;
            for (let f = 0; f < fieldsOfChild.length; f++) this.fields[fieldsOfChild[f]!] = undefined;
          }
        }
      } else if (depth === 1 && parent >= 0) {
        const c = this.children[parent]!;
        const n = indexOfName(c.names, src, ks, kl);
        if (n >= 0) field = c.field[n]!;
      }
      if (field >= 0) this.fields[field] = this.captureString(src, p, this.end);
      p = this.value(p, depth + 1, child);
      if (p < 0) return FAIL;
    }
    this.put(0x7d);
    return p;
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

  private value(p: number, depth: number, parent: number): number {
    if (depth > MAX_DEPTH || p >= this.end) return FAIL;
    const src = this.src;
    const b = src[p]!;
    if (b < 0x80) return this.integer(b, p + 1);
    if (b >= 0xe0) return this.integer(b - 0x100, p + 1);
    if (b < 0x90) return this.map(p + 1, b & 0x0f, depth, parent);
    if (b < 0xa0) return this.array(p + 1, b & 0x0f, depth);
    if (b < 0xc0) return this.stringAt(p + 1, b & 0x1f);
    const end = this.end;
    switch (b) {
      case 0xc0:
        this.bytes(NULL_BYTES);
        return p + 1;
      case 0xc2:
        this.bytes(FALSE_BYTES);
        return p + 1;
      case 0xc3:
        this.bytes(TRUE_BYTES);
        return p + 1;
      case 0xcc:
        return p + 2 <= end ? this.integer(src[p + 1]!, p + 2) : FAIL;
      case 0xcd:
        return p + 3 <= end ? this.integer((src[p + 1]! << 8) | src[p + 2]!, p + 3) : FAIL;
      case 0xce:
        return p + 5 <= end ? this.integer(uint32(src, p + 1), p + 5) : FAIL;
      case 0xcf:
        return p + 9 <= end ? this.integer(uint32(src, p + 1) * 0x100000000 + uint32(src, p + 5), p + 9) : FAIL;
      case 0xd0:
        return p + 2 <= end ? this.integer((src[p + 1]! << 24) >> 24, p + 2) : FAIL;
      case 0xd1:
        return p + 3 <= end ? this.integer((((src[p + 1]! << 8) | src[p + 2]!) << 16) >> 16, p + 3) : FAIL;
      case 0xd2:
        return p + 5 <= end ? this.integer((src[p + 1]! << 24) | (src[p + 2]! << 16) | (src[p + 3]! << 8) | src[p + 4]!, p + 5) : FAIL;
      case 0xd3:
        return p + 9 <= end ? this.integer(((src[p + 1]! << 24) | (src[p + 2]! << 16) | (src[p + 3]! << 8) | src[p + 4]!) * 0x100000000 + uint32(src, p + 5), p + 9) : FAIL;
      case 0xcb:
        return p + 9 <= end ? this.number(src.readDoubleBE(p + 1), p + 9) : FAIL;
      case 0xd9:
        return p + 2 <= end ? this.stringAt(p + 2, src[p + 1]!) : FAIL;
      case 0xda:
        return p + 3 <= end ? this.stringAt(p + 3, (src[p + 1]! << 8) | src[p + 2]!) : FAIL;
      case 0xdb:
        return p + 5 <= end ? this.stringAt(p + 5, uint32(src, p + 1)) : FAIL;
      case 0xdc:
        return p + 3 <= end ? this.array(p + 3, (src[p + 1]! << 8) | src[p + 2]!, depth) : FAIL;
      case 0xdd:
        return p + 5 <= end ? this.array(p + 5, uint32(src, p + 1), depth) : FAIL;
      case 0xde:
        return p + 3 <= end ? this.map(p + 3, (src[p + 1]! << 8) | src[p + 2]!, depth, parent) : FAIL;
      case 0xdf:
        return p + 5 <= end ? this.map(p + 5, uint32(src, p + 1), depth, parent) : FAIL;
      default:
        return FAIL; // bin, float 32, ext, 0xc1
    }
  }

  private array(p: number, count: number, depth: number): number {
    this.put(0x5b);
    for (let i = 0; i < count; i++) {
      if (i > 0) this.put(COMMA);
      p = this.value(p, depth + 1, -1);
      if (p < 0) return FAIL;
    }
    this.put(0x5d);
    return p;
  }

  private integer(n: number, next: number): number {
    // Digits written straight into the output: String(n) and a write of it cost far more. Beyond
    // 2^53 a double no longer holds the integer exactly: JavaScript's own formatting decides then.
    if (n > MAX_EXACT || n < -MAX_EXACT) return this.number(n, next);
    this.reserve(MAX_INTEGER_CHARS);
    const out = this.out;
    let o = this.o;
    if (n < 0) {
      out[o++] = 0x2d; // -
      n = -n;
    }
    if (n < 10) {
      out[o++] = 0x30 + n;
    } else {
      let digits = 1;
      for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
      for (let i = o + digits - 1; i >= o; i--) {
        const q = Math.floor(n / 10);
        out[i] = 0x30 + (n - q * 10);
        n = q;
      }
      o += digits;
    }
    this.o = o;
    return next;
  }

  private number(n: number, next: number): number {
    const text = Number.isFinite(n) ? String(n) : 'null';
    this.reserve(text.length);
    this.o += this.out.write(text, this.o, 'latin1');
    return next;
  }

  private stringAt(p: number, length: number): number {
    const next = p + length;
    if (next > this.end) return FAIL;
    this.string(p, length);
    return next;
  }

  /** A JSON string of the UTF-8 bytes `src[p, p+length)`, escaped as JSON.stringify does. */
  private string(p: number, length: number): void {
    this.reserve(6 * length + 2);
    const src = this.src;
    const out = this.out;
    let o = this.o;
    out[o++] = QUOTE;
    const end = p + length;
    for (let i = p; i < end; i++) {
      const c = src[i]!;
      if (c >= 0x80) {
        this.ascii = false;
        out[o++] = c;
        continue;
      }
      const kind = ESCAPE_KIND[c]!;
      if (kind === 0) {
        out[o++] = c;
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
    out[o++] = QUOTE;
    this.o = o;
  }

  private put(byte: number): void {
    if (this.o >= this.limit) this.reserve(1);
    this.out[this.o++] = byte;
  }

  private bytes(b: Buffer): void {
    // Byte by byte: a few bytes (null, true, false), and copy into shared memory (the print thread's
    // output) takes Node's slow path, 36 ms of the thread's profile in forward-packed-1k-ack.
    this.reserve(b.length);
    const out = this.out;
    let o = this.o;
    for (let i = 0; i < b.length; i++) out[o++] = b[i]!;
    this.o = o;
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

