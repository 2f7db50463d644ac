/** What happened to a file's lines since the counts were last taken (added to the metrics once per block). */
export class DecoderCounts {
  partialPieces = 0;
  flushed = 0;
  truncated = 0;
  skipped = 0;
  malformed = 0;
  /** Lines `parser` (or an old multiline first line parser) did not match, sent as they are. */
  unparsed = 0;
  /** Records refused for a time Loki cannot store. */
  timeOutOfRange = 0;
  /** Multiline entries cut at the buffer limit. */
  multilineTruncated = 0;
  /** Lines `parser` left unparsed because they nest deeper than a record may (sent as they are). */
  tooDeep = 0;

  reset(): void {
    this.partialPieces = this.flushed = this.truncated = this.skipped = this.malformed = 0;
    this.unparsed = this.timeOutOfRange = this.multilineTruncated = this.tooDeep = 0;
  }
}
