/**
 * Splits a watch response (one JSON object per line, in HTTP chunks that may cut a line, or a UTF-8
 * character, anywhere) into whole lines. Bytes are kept until their line is complete, so a character
 * split across chunks is decoded whole.
 */
const NEWLINE = 0x0a;

export class WatchLineSplitter {
  private pending: Buffer | undefined;

  /** The lines this chunk completes, without their newline; blank lines are skipped. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let data = chunk;
    let start = 0;
    let nl = data.indexOf(NEWLINE);
    if (nl >= 0 && this.pending !== undefined) {
      data = Buffer.concat([this.pending, chunk]);
      nl += this.pending.length;
      this.pending = undefined;
    }
    while (nl >= 0) {
      if (nl > start) lines.push(data.toString('utf8', start, nl));
      start = nl + 1;
      nl = data.indexOf(NEWLINE, start);
    }
    if (start < data.length) {
      const rest = data.subarray(start);
      this.pending = this.pending === undefined ? Buffer.from(rest) : Buffer.concat([this.pending, rest]);
    }
    return lines;
  }

  /** What is left once the response ended: a last line without a newline, if any. */
  end(): string | undefined {
    const rest = this.pending;
    this.pending = undefined;
    if (rest === undefined || rest.length === 0) return undefined;
    const line = rest.toString('utf8');
    return line.trim().length > 0 ? line : undefined;
  }
}
