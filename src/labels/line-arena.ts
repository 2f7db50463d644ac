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

/** Bytes per chunk (a line that does not fit moves to a new one). */
export const LINE_ARENA_CHUNK_BYTES = 64 * 1024;

export class LineArena {
  /** The chunk the line being written is in. */
  chunk: Buffer;
  /** Where that line starts in `chunk`, and where the next byte goes. */
  start = 0;
  pos = 0;

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
    // One scan tells most log text (plain ASCII: copied as latin1, twice as fast as UTF-8); the rest
    // is scanned again for what only JSON.stringify escapes. Escaping with native searches and
    // slices (json-string.ts) beats JSON.stringify here too.
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
