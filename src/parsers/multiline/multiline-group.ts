/**
 * One entry being joined (Fluent Bit's flb_ml_stream_group): the content so far, the first line's
 * record and time, what the caller attached to each line (tokens), the lines' metadata, and the
 * state the last rule led to. The content is bounded in bytes: past the limit it is cut (at a
 * character boundary) and the entry is marked truncated.
 */
import type { StateRule } from './multiline-parser.js';

/** A joined entry, handed back to the caller. */
export interface MultilineEntry<T> {
  /** The stream key the lines were appended under (a file, a tag…). */
  key: string;
  /** The first line's time (ns since the epoch). */
  time: bigint;
  /** The first line's record with the joined content in its content key; `{log: …}` for text lines. */
  record: Record<string, unknown>;
  /** The lines' metadata merged (first value of a key wins), with `multiline_truncated: true` when cut. */
  metadata: Record<string, unknown> | undefined;
  /** The content was cut at the buffer limit. */
  truncated: boolean;
  /** Number of lines joined. */
  lines: number;
  /**
   * Nothing to send: Fluent Bit drops an entry with no record and no content (an empty text line no
   * parser took). Its tokens are done with all the same (commit, release).
   */
  dropped: boolean;
  /** What the caller attached to each line, in order (e.g. holds to release, offsets to commit). */
  tokens: T[];
}

export class MultilineGroup<T> {
  content = '';
  bytes = 0;
  /** The first line's record (record lines and parsed text lines); undefined for raw text. */
  record: Record<string, unknown> | undefined;
  time: bigint | undefined;
  truncated = false;
  metadata: Record<string, unknown> | undefined;
  tokens: T[] = [];
  lines = 0;
  /** The rule that matched last (Fluent Bit's rule_to_state); kept across entries. */
  state: StateRule | undefined;
  lastAppendMs = 0;
  /** Bytes this entry added to `held` so far. */
  private counted = 0;

  /** `held`: a joiner's count of the bytes all its entries hold, kept up to date by this one. */
  constructor(
    readonly name: string,
    private readonly held?: { bytes: number },
  ) {}

  get pending(): boolean {
    return this.lines > 0;
  }

  /** Records the first line's record and time, once per entry. */
  start(record: Record<string, unknown> | undefined, time: bigint): void {
    if (this.time !== undefined) return;
    this.record = record;
    this.time = time;
  }

  /** Counts a line into the entry: its token and metadata. */
  take(token: T, metadata: Record<string, unknown> | undefined, nowMs: number): void {
    this.lines++;
    this.tokens.push(token);
    this.lastAppendMs = nowMs;
    if (metadata === undefined) return;
    this.metadata ??= {};
    for (const k of Object.keys(metadata)) if (!Object.hasOwn(this.metadata, k)) this.metadata[k] = metadata[k];
  }

  /** Appends text within `limit` bytes (0: no limit); false when it had to be cut. */
  cat(text: string, limit: number): boolean {
    if (text.length === 0) return !this.truncated;
    if (limit <= 0) {
      this.content += text;
      this.count(text.length);
      return true;
    }
    if (this.bytes >= limit) {
      this.truncated = true;
      return false;
    }
    const size = Buffer.byteLength(text);
    if (this.bytes + size <= limit) {
      this.content += text;
      this.bytes += size;
      this.count(size);
      return true;
    }
    const cut = utf8Prefix(text, limit - this.bytes);
    const cutSize = Buffer.byteLength(cut);
    this.content += cut;
    this.bytes += cutSize;
    this.count(cutSize);
    this.truncated = true;
    return false;
  }

  private count(n: number): void {
    if (this.held === undefined) return;
    this.held.bytes += n;
    this.counted += n;
  }

  endsWithNewline(): boolean {
    return this.content.charCodeAt(this.content.length - 1) === 0x0a;
  }

  /**
   * The entry made of what was joined, and a fresh start (the state stays). `keyContent`: where the
   * content goes; without one, a text entry is `{log: …}` ending with a newline, as Fluent Bit's.
   */
  flush(key: string, keyContent: string | undefined, now: () => bigint): MultilineEntry<T> {
    if (keyContent === undefined && this.content.length > 0 && !this.endsWithNewline()) this.content += '\n';
    let record: Record<string, unknown>;
    if (this.record !== undefined) record = this.content.length > 0 && keyContent !== undefined ? withValue(this.record, keyContent, this.content) : this.record;
    else record = withValue({}, keyContent ?? 'log', this.content);
    let metadata = this.metadata;
    if (this.truncated) metadata = { ...metadata, multiline_truncated: true };
    const dropped = this.record === undefined && this.content.length === 0;
    const entry: MultilineEntry<T> = { key, time: this.time ?? now(), record, metadata, truncated: this.truncated, lines: this.lines, tokens: this.tokens, dropped };
    this.content = '';
    this.bytes = 0;
    if (this.held !== undefined) this.held.bytes -= this.counted;
    this.counted = 0;
    this.record = undefined;
    this.time = undefined;
    this.truncated = false;
    this.metadata = undefined;
    this.tokens = [];
    this.lines = 0;
    return entry;
  }
}

/** A copy of `record` with `key` set to `value` in its place (or added last). */
function withValue(record: Record<string, unknown>, key: string, value: string): Record<string, unknown> {
  const copy = { ...record };
  if (key === '__proto__') Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  else copy[key] = value;
  return copy;
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `max` bytes, not splitting a character. */
export function utf8Prefix(s: string, max: number): string {
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    let n: number;
    let w = 1;
    if (c < 0x80) n = 1;
    else if (c < 0x800) n = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n = 4;
      w = 2;
    } else n = 3;
    if (bytes + n > max) break;
    bytes += n;
    i += w;
  }
  return s.slice(0, i);
}
