/**
 * Joins the pieces of one stream's split line (CRI `P`… `F`, docker pieces without a newline) as bytes,
 * so that a split inside a multi-byte UTF-8 character rebuilds the character when the whole line is
 * decoded. A file has one joiner per stream: stdout and stderr pieces interleave.
 *
 * Memory stays bounded by `maxBytes`: past it the line is cut (truncate) or dropped (skip) and the rest
 * of its pieces are counted but not kept.
 */

export type LongLineAction = 'truncate' | 'skip';

export interface JoinedLine {
  /** The whole line, decoded. */
  text: string;
  /** Time of the first piece: the time the line started. */
  time: bigint;
  /** Pieces the line was made of (1 when it was never split). */
  pieces: number;
  truncated: boolean;
}

/** Buffer's own UTF-8 decoder, called straight with bounds known good (see line-decoder.ts). */
interface Utf8Slicing {
  utf8Slice(start: number, end: number): string;
}

/** Room a joiner starts with; one that grew past KEEP_BYTES for a long line gives it back after. */
const FIRST_BYTES = 4096;
const KEEP_BYTES = 64 * 1024;

export class PartialLineJoiner {
  /**
   * The pending pieces' bytes, `bytes` of them, copied in one after the other: one buffer per
   * joiner, reused from line to line, rather than a copy per piece joined by a concat per line.
   */
  private buf: Buffer | undefined;
  private bytes = 0;
  private count = 0;
  private over = false;
  /** Time of the first pending piece. */
  firstTime = 0n;
  /** File offset of the first pending piece's line: the position is never committed past it. */
  firstOffset = -1;
  /** When the last piece arrived (ms, monotonic), for flush_timeout. */
  lastAppendMs = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly action: LongLineAction,
  ) {}

  get pending(): boolean {
    return this.count > 0;
  }

  /** Adds a piece that is not the last. `piece` may point into a reused buffer: it is copied. */
  append(piece: Buffer, time: bigint, lineOffset: number, nowMs: number): void {
    this.appendRange(piece, 0, piece.length, time, lineOffset, nowMs);
  }

  /** append() of `b[start, end)`. */
  appendRange(b: Buffer, start: number, end: number, time: bigint, lineOffset: number, nowMs: number): void {
    if (this.count === 0) {
      this.firstTime = time;
      this.firstOffset = lineOffset;
    }
    this.count++;
    this.lastAppendMs = nowMs;
    if (this.over) return;
    const room = this.maxBytes - this.bytes;
    if (end - start > room) {
      this.over = true;
      if (this.action === 'skip') {
        this.bytes = 0;
        return;
      }
      end = start + utf8Boundary(b.subarray(start, end), room);
    }
    this.put(b, start, end);
  }

  /**
   * Adds the last piece (possibly empty) and returns the whole line, or undefined when it was skipped
   * for being too long. `last` is only read, not kept.
   */
  finish(last: Buffer, time: bigint): JoinedLine | undefined {
    return this.finishRange(last, 0, last.length, time);
  }

  /** finish() with `b[start, end)` as the last piece. */
  finishRange(b: Buffer, start: number, end: number, time: bigint): JoinedLine | undefined {
    const first = this.count === 0;
    const lineTime = first ? time : this.firstTime;
    const pieces = this.count + 1;
    let truncated = this.over;
    let text: string | undefined;
    if (!this.over) {
      const room = this.maxBytes - this.bytes;
      if (end - start > room) {
        truncated = true;
        if (this.action === 'truncate') end = start + utf8Boundary(b.subarray(start, end), room);
      }
      if (!truncated || this.action === 'truncate') {
        if (first) text = end > start ? (b as Buffer & Utf8Slicing).utf8Slice(start, end) : '';
        else {
          this.put(b, start, end);
          text = this.text();
        }
      }
    } else if (this.action === 'truncate') {
      text = this.text();
    }
    this.reset();
    if (text === undefined) return undefined;
    return { text, time: lineTime, pieces, truncated };
  }

  /** The pending pieces as a line of their own (flush_timeout, or the file is closed). */
  flush(): JoinedLine | undefined {
    if (this.count === 0) return undefined;
    const pieces = this.count;
    const truncated = this.over;
    const time = this.firstTime;
    const text = this.over && this.action === 'skip' ? undefined : this.text();
    this.reset();
    return text === undefined ? undefined : { text, time, pieces, truncated };
  }

  reset(): void {
    this.bytes = 0;
    this.count = 0;
    this.over = false;
    this.firstOffset = -1;
    if (this.buf !== undefined && this.buf.length > KEEP_BYTES) this.buf = undefined;
  }

  private text(): string {
    return this.bytes === 0 ? '' : (this.buf! as Buffer & Utf8Slicing).utf8Slice(0, this.bytes);
  }

  private put(b: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    let buf = this.buf;
    const at = this.bytes;
    if (buf === undefined || at + n > buf.length) {
      let size = buf === undefined ? FIRST_BYTES : buf.length * 2;
      while (size < at + n) size *= 2;
      const grown = Buffer.allocUnsafeSlow(size);
      if (buf !== undefined && at > 0) buf.copy(grown, 0, 0, at);
      this.buf = buf = grown;
    }
    if (n < 64) for (let i = 0; i < n; i++) buf[at + i] = b[start + i]!;
    else buf.set(new Uint8Array(b.buffer, b.byteOffset + start, n), at);
    this.bytes = at + n;
  }
}

/**
 * The largest cut ≤ `limit` that does not split a UTF-8 character of `b` (continuation bytes are
 * 10xxxxxx), so a truncated line ends with a whole character, not U+FFFD.
 */
export function utf8Boundary(b: Uint8Array, limit: number): number {
  if (limit >= b.length) return b.length;
  let cut = limit;
  while (cut > 0 && cut > limit - 4 && (b[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}
