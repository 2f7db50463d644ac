/**
 * Splits a watch response (one JSON object per line, in HTTP chunks that may cut a line, or a UTF-8
 * character, anywhere) into whole lines. Bytes are kept until their line is complete, so a character
 * split across chunks is decoded whole. A line longer than `maxLineBytes` is skipped (its bytes are not
 * kept) and counted: one object too large must not stop the watch, nor hold unbounded memory.
 */
const NEWLINE = 0x0a;

export class WatchLineSplitter {
  private pending: Buffer | undefined;
  /** Inside a line over the limit: drop bytes until its newline. */
  private skipping = false;
  /** Lines skipped for their length. */
  skipped = 0;

  /** `maxLineBytes`: longest line kept; 0 for no limit. */
  constructor(private readonly maxLineBytes = 0) {}

  /** The lines this chunk completes, without their newline; blank lines are skipped. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    const max = this.maxLineBytes;
    let data = chunk;
    let start = 0;
    let nl = data.indexOf(NEWLINE);
    if (this.skipping) {
      if (nl < 0) return lines;
      this.skipping = false;
      start = nl + 1;
      nl = data.indexOf(NEWLINE, start);
    } else if (nl >= 0 && this.pending !== undefined) {
      data = Buffer.concat([this.pending, chunk]);
      nl += this.pending.length;
      this.pending = undefined;
    }
    while (nl >= 0) {
      if (max > 0 && nl - start > max) this.skipped++;
      else if (nl > start) lines.push(data.toString('utf8', start, nl));
      start = nl + 1;
      nl = data.indexOf(NEWLINE, start);
    }
    if (start < data.length) {
      const rest = data.subarray(start);
      const length = rest.length + (this.pending?.length ?? 0);
      if (max > 0 && length > max) {
        this.pending = undefined;
        this.skipping = true;
        this.skipped++;
      } else this.pending = this.pending === undefined ? Buffer.from(rest) : Buffer.concat([this.pending, rest]);
    }
    return lines;
  }

  /** What is left once the response ended: a last line without a newline, if any. */
  end(): string | undefined {
    const rest = this.pending;
    this.pending = undefined;
    this.skipping = false;
    if (rest === undefined || rest.length === 0) return undefined;
    const line = rest.toString('utf8');
    return line.trim().length > 0 ? line : undefined;
  }
}
