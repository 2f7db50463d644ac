/**
 * Loki lines written as UTF-8 bytes into chunks of memory, as they are formatted (W2, issue #12).
 *
 * A line built as a string is a rope of the record's pieces that lives in its batch until the batch
 * is encoded: the rope and its pieces survive young-generation collections (copied, then promoted),
 * and the encoder's Buffer.write flattens it into a copy first. Written here, the pieces die young,
 * a batch holds a chunk reference and an offset per entry, and the encoder copies the bytes.
 *
 * A chunk is never written again once a line in it is done: entries keep the chunks they point into
 * alive and nothing else does, so a chunk is freed once the batches holding its lines are encoded.
 */

import { isPlainAscii, needsJsonStringify, quoteEscaped } from './json-string.js';

/** Buffer's own string writers (Node's, undocumented but stable): write() checks and dispatches first, a fifth of a short write. */
interface StringWriters {
  latin1Write(s: string, offset: number, length: number): number;
  utf8Write(s: string, offset: number, length: number): number;
}

/** String.prototype.isWellFormed (Node 20; ES2024, newer than the compiler's target lib). */
interface WellFormed {
  isWellFormed(): boolean;
}

/** Bytes per chunk (a line that does not fit moves to a new one). */
export const LINE_ARENA_CHUNK_BYTES = 64 * 1024;

export class LineArena {
  /** The chunk the line being written is in. */
  chunk: Buffer;
  /** Where that line starts in `chunk`, and where the next byte goes. */
  start = 0;
  pos = 0;
  /** A view of `chunk` for jsonString's word stores (made again when the chunk changes). */
  private view: DataView | undefined;
  private viewChunk: Buffer | undefined;

  constructor(private readonly chunkBytes = LINE_ARENA_CHUNK_BYTES) {
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
  }

  /** Starts a line at the write position (in a new chunk after a line that needed an outsized one, so that the arena does not keep it). */
  begin(): void {
    if (this.chunk.length > this.chunkBytes) {
      this.chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
      this.pos = 0;
    }
    this.start = this.pos;
  }

  /** Forgets the line being written. */
  rollback(): void {
    this.pos = this.start;
  }

  /** Bytes of the line written so far. */
  get length(): number {
    return this.pos - this.start;
  }

  /** Makes room for `n` more bytes of the line: a new chunk (the line so far copied into it) when this one is full. */
  room(n: number): void {
    if (this.pos + n <= this.chunk.length) return;
    const len = this.pos - this.start;
    const next = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, len + n));
    this.chunk.copy(next, 0, this.start, this.pos);
    this.chunk = next;
    this.start = 0;
    this.pos = len;
  }

  byte(b: number): void {
    this.room(1);
    this.chunk[this.pos++] = b;
  }

  /** A string known to be ASCII (a number's text, true, false). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const c = this.chunk;
    let p = this.pos;
    for (let i = 0; i < n; i++) c[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A string known to be ASCII, copied (as its one-byte characters). */
  latin1(s: string): void {
    this.room(s.length);
    this.pos += (this.chunk as unknown as StringWriters).latin1Write(s, this.pos, s.length);
  }

  /** Any well-formed string, as UTF-8. */
  utf8(s: string): void {
    // At most three bytes per UTF-16 unit.
    this.room(3 * s.length);
    this.pos += (this.chunk as unknown as StringWriters).utf8Write(s, this.pos, this.chunk.length - this.pos);
  }

  /** Bytes from `from` on. */
  bytes(b: Uint8Array, from = 0): void {
    const n = b.length - from;
    this.room(n);
    const c = this.chunk;
    if (n > 32) c.set(from === 0 ? b : b.subarray(from), this.pos);
    else for (let i = from, p = this.pos; i < b.length; i++) c[p++] = b[i]!;
    this.pos += n;
  }

  /** JSON.stringify's text of a string. */
  jsonString(v: string): void {
    const n = v.length;
    if (n <= SHORT_STRING) {
      if (!this.shortJsonString(v)) this.scannedJsonString(v);
      return;
    }
    if (3 * n > SCRATCH_BYTES) {
      this.scannedJsonString(v);
      return;
    }
    // The string's UTF-8, one native write into a scratch buffer (encodeInto, a fifth cheaper than
    // utf8Write here; a byte count apart from its length tells text that is not ASCII, and a lone
    // surrogate hides behind U+FFFD's bytes there: left to JSON.stringify), then copied a word at a
    // time into the chunk, escaping as it goes: JS loops cost some 4 ns a char, a word without a byte
    // to escape costs one test and one store (issue #12).
    const m = utf8Encoder.encodeInto(v, scratch).written!;
    if (m !== n && !(v as unknown as WellFormed).isWellFormed()) {
      this.scannedJsonString(v);
      return;
    }
    // Escaped `"`, `\`, \n and the like take 2 bytes for 1; a unit beyond ASCII never more than 3.
    this.room((m === n ? 2 * m : Math.min(2 * m, 3 * n)) + 2);
    const c = this.chunk;
    let view = this.view;
    if (this.viewChunk !== c || view === undefined) {
      view = this.view = new DataView(c.buffer, c.byteOffset, c.length);
      this.viewChunk = c;
    }
    let d = this.pos;
    c[d++] = 0x22;
    const words = m >> 2;
    for (let i = 0; i < words; i++) {
      const w = scratchWords[i]!;
      const q = w ^ 0x22222222;
      const b = w ^ 0x5c5c5c5c;
      // Whether a byte is below 0x20, or a `"` (a zero byte of q) or a `\` (of b): exact for any bytes.
      if ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) {
        d = escapeBytes(c, d, i << 2, (i << 2) + 4);
        if (d < 0) {
          this.scannedJsonString(v);
          return;
        }
      } else {
        view.setInt32(d, w, LITTLE_ENDIAN);
        d += 4;
      }
    }
    d = escapeBytes(c, d, words << 2, m);
    if (d < 0) {
      this.scannedJsonString(v);
      return;
    }
    c[d++] = 0x22;
    this.pos = d;
  }

  /** A short string's JSON text written char by char (cheaper than any call for `stdout`); false, nothing written, when one needs more than a backslash. */
  private shortJsonString(v: string): boolean {
    const n = v.length;
    this.room(2 * n + 2);
    const c = this.chunk;
    let d = this.pos;
    c[d++] = 0x22;
    for (let i = 0; i < n; i++) {
      const ch = v.charCodeAt(i);
      if (ch >= 0x80) return false;
      const e = ESCAPE[ch]!;
      if (e === 0) c[d++] = ch;
      else if (e === CONTROL) return false;
      else {
        c[d++] = 0x5c;
        c[d++] = e;
      }
    }
    c[d++] = 0x22;
    this.pos = d;
    return true;
  }

  /** jsonString by scans: a regex for what is not plain ASCII, native searches for `"` and `\`. */
  private scannedJsonString(v: string): void {
    // Plain ASCII is copied as latin1, twice as fast as UTF-8; the rest is scanned again for what only
    // JSON.stringify escapes. Escaping with native searches and slices (json-string.ts) beats
    // JSON.stringify here too.
    const plain = isPlainAscii(v);
    if (!plain && needsJsonStringify(v)) {
      this.utf8(JSON.stringify(v));
      return;
    }
    const q = v.indexOf('"');
    const b = v.indexOf('\\');
    if (q < 0 && b < 0) {
      this.byte(0x22);
      if (plain) this.latin1(v);
      else this.utf8(v);
      this.byte(0x22);
    } else if (plain) this.latin1(quoteEscaped(v, q, b));
    else this.utf8(quoteEscaped(v, q, b));
  }
}

/** Strings up to this many UTF-16 units are written by shortJsonString. */
const SHORT_STRING = 16;

/** For each byte below 0x80: 0 when JSON.stringify copies it, else the character after its backslash, CONTROL for `\u00XX`. */
const CONTROL = 1;
const ESCAPE = new Uint8Array(128);
for (let ch = 0; ch < 0x20; ch++) ESCAPE[ch] = CONTROL;
ESCAPE[0x08] = 0x62; // b
ESCAPE[0x09] = 0x74; // t
ESCAPE[0x0a] = 0x6e; // n
ESCAPE[0x0c] = 0x66; // f
ESCAPE[0x0d] = 0x72; // r
ESCAPE[0x22] = 0x22;
ESCAPE[0x5c] = 0x5c;

/** UTF-8 of the string being written (one per thread: bounded, and jsonString does not nest). Three bytes a unit at most: strings up to a third of it. */
const SCRATCH_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
const utf8Encoder = new TextEncoder();
const scratchWords = new Int32Array(scratch.buffer, scratch.byteOffset, SCRATCH_BYTES >> 2);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Copies scratch bytes `from`..`to` to `c` at `d`, escaped as JSON.stringify does; the position after,
 * or -1 at a control character JSON.stringify writes as `\u00XX` (rare: left to the scans).
 */
function escapeBytes(c: Buffer, d: number, from: number, to: number): number {
  for (let k = from; k < to; k++) {
    const byte = scratch[k]!;
    const e = byte < 0x80 ? ESCAPE[byte]! : 0;
    if (e === 0) c[d++] = byte;
    else if (e === CONTROL) return -1;
    else {
      c[d++] = 0x5c;
      c[d++] = e;
    }
  }
  return d;
}
