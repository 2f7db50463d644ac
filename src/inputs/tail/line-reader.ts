/**
 * Reads a file a block at a time and hands each complete line (without its newline) to a sink. The
 * bytes of an unfinished last line are kept for the next block. A line longer than `maxLineBytes` is
 * cut there (truncate) or dropped (skip), and the rest of it up to its newline is read and discarded, so
 * memory stays bounded whatever the file holds.
 *
 * Files are read one block at a time by a single loop, so all files share one read buffer: only the
 * unfinished line of each file is kept with it.
 */
import type { ByteSource } from './byte-source.js';
import type { LongLineAction } from './partial-line-joiner.js';

const NEWLINE = 0x0a;

export interface LineSink {
  /** `b[start, end)` is one line; `offset` is its position in the file; `truncated` when it was cut. */
  line(b: Buffer, start: number, end: number, offset: number, truncated: boolean): void;
}

/** The read buffer shared by every file of one tail input. */
export class SharedReadBuffer {
  buf: Buffer;

  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(size: number): Buffer {
    if (this.buf.length < size) {
      let next = this.buf.length * 2;
      while (next < size) next *= 2;
      this.buf = Buffer.allocUnsafe(next);
    }
    return this.buf;
  }
}

export interface BlockResult {
  /** Bytes read from the file (0 at its end). */
  bytes: number;
  /** Complete lines handed to the sink. */
  lines: number;
  /** Lines longer than maxLineBytes (cut or dropped). */
  longLines: number;
}

export class LineReader {
  /** Next byte to read from the file. */
  readOffset: number;
  private leftover: Buffer | undefined;
  /** Reading past the rest of an over-long line, which started at discardFrom. */
  private discardFrom = -1;

  constructor(
    startOffset: number,
    private readonly maxLineBytes: number,
    private readonly action: LongLineAction,
  ) {
    this.readOffset = startOffset;
  }

  /** Offset of the first byte not yet handed to the sink as part of a line. */
  get lineOffset(): number {
    if (this.discardFrom >= 0) return this.discardFrom;
    return this.readOffset - (this.leftover?.length ?? 0);
  }

  /** Bytes of an unfinished last line held. */
  get pendingBytes(): number {
    return this.leftover?.length ?? 0;
  }

  /** Starts over at `offset` (a truncated file), forgetting any unfinished line. */
  reset(offset: number): void {
    this.readOffset = offset;
    this.leftover = undefined;
    this.discardFrom = -1;
  }

  async readBlock(source: ByteSource, shared: SharedReadBuffer, blockBytes: number, sink: LineSink): Promise<BlockResult> {
    const held = this.leftover?.length ?? 0;
    const buf = shared.ensure(held + blockBytes);
    const n = await source.read(buf, held, blockBytes, this.readOffset);
    if (n === 0) return { bytes: 0, lines: 0, longLines: 0 };
    if (held > 0) this.leftover!.copy(buf, 0);
    this.readOffset += n;
    const end = held + n;
    const view = end === buf.length ? buf : buf.subarray(0, end);
    const base = this.readOffset - end;
    let start = 0;
    let lines = 0;
    let longLines = 0;

    if (this.discardFrom >= 0) {
      const nl = view.indexOf(NEWLINE, 0);
      if (nl < 0) {
        this.leftover = undefined;
        return { bytes: n, lines, longLines };
      }
      start = nl + 1;
      this.discardFrom = -1;
    }
    for (let nl = view.indexOf(NEWLINE, start); nl >= 0; nl = view.indexOf(NEWLINE, start)) {
      let lineEnd = nl;
      let truncated = false;
      if (lineEnd - start > this.maxLineBytes) {
        longLines++;
        if (this.action === 'skip') {
          start = nl + 1;
          continue;
        }
        lineEnd = start + this.maxLineBytes;
        truncated = true;
      }
      sink.line(view, start, lineEnd, base + start, truncated);
      lines++;
      start = nl + 1;
    }
    const rest = end - start;
    if (rest > this.maxLineBytes) {
      // No newline within the limit: keep (or drop) the head, discard the rest as it comes.
      longLines++;
      if (this.action === 'truncate') {
        sink.line(view, start, start + this.maxLineBytes, base + start, true);
        lines++;
      }
      this.discardFrom = base + start;
      this.leftover = undefined;
    } else {
      this.leftover = rest > 0 ? Buffer.from(view.subarray(start, end)) : undefined;
    }
    return { bytes: n, lines, longLines };
  }

  /** The unfinished last line, as a final line (the file will not grow any more); undefined when none. */
  takeUnfinished(sink: LineSink): boolean {
    const rest = this.leftover;
    if (rest === undefined || rest.length === 0) return false;
    this.leftover = undefined;
    sink.line(rest, 0, rest.length, this.readOffset - rest.length, false);
    return true;
  }
}
