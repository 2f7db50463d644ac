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

export class PartialLineJoiner {
  private parts: Buffer[] = [];
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
    if (this.count === 0) {
      this.firstTime = time;
      this.firstOffset = lineOffset;
    }
    this.count++;
    this.lastAppendMs = nowMs;
    if (this.over) return;
    const room = this.maxBytes - this.bytes;
    if (piece.length > room) {
      this.over = true;
      if (this.action === 'skip') {
        this.parts = [];
        this.bytes = 0;
        return;
      }
      piece = piece.subarray(0, utf8Boundary(piece, room));
    }
    if (piece.length > 0) {
      this.parts.push(Buffer.from(piece));
      this.bytes += piece.length;
    }
  }

  /**
   * Adds the last piece (possibly empty) and returns the whole line, or undefined when it was skipped
   * for being too long. `last` is only read, not kept.
   */
  finish(last: Buffer, time: bigint): JoinedLine | undefined {
    const first = this.count === 0;
    const lineTime = first ? time : this.firstTime;
    const pieces = this.count + 1;
    let truncated = this.over;
    let text: string | undefined;
    if (!this.over) {
      const room = this.maxBytes - this.bytes;
      if (last.length > room) {
        truncated = true;
        if (this.action === 'truncate') last = last.subarray(0, utf8Boundary(last, room));
      }
      if (!truncated || this.action === 'truncate') {
        if (first) text = decode(last);
        else {
          if (last.length > 0) this.parts.push(last);
          text = Buffer.concat(this.parts).toString('utf8');
        }
      }
    } else if (this.action === 'truncate') {
      text = Buffer.concat(this.parts).toString('utf8');
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
    const text = this.over && this.action === 'skip' ? undefined : Buffer.concat(this.parts).toString('utf8');
    this.reset();
    return text === undefined ? undefined : { text, time, pieces, truncated };
  }

  reset(): void {
    this.parts = [];
    this.bytes = 0;
    this.count = 0;
    this.over = false;
    this.firstOffset = -1;
  }
}

function decode(b: Buffer): string {
  return b.length === 0 ? '' : b.toString('utf8', 0, b.length);
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
