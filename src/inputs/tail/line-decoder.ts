/**
 * Turns a file's lines into events: decodes each line in the container formats (`multiline.parser cri,
 * docker`, tried in order; a line matching none is kept as it is), joins split lines per stream, and
 * hands each whole line to the file's stage (a parser, a multiline joiner, or none: see line-stage.ts),
 * which makes the records.
 *
 * As in Fluent Bit, a `\r` before the newline is cut (from lines of two bytes or more), and
 * `skip_empty_lines` drops lines with nothing (or only `\r`) before the newline. A docker line keeps the
 * newline ending its `log`, as Fluent Bit's `docker` parsers do.
 *
 * The record does not keep the CRI runtime's `time` and `_p` (Fluent Bit's cri parser does): the
 * entry's timestamp is that time, to the nanosecond, and repeating it in every Loki line would only
 * add bytes.
 */
import { decodeCriLine, STDERR, STDOUT, type DecodedCriLine } from './cri-format.js';
import type { DecoderCounts } from './decoder-counts.js';
import { decodeDockerLine, type DecodedDockerLine } from './docker-format.js';
import type { LineSink } from './line-reader.js';
import type { LineStage } from './line-stage.js';
import { PartialLineJoiner, type JoinedLine, type LongLineAction } from './partial-line-joiner.js';
import type { RecordBuilder } from './record-builder.js';
import { Rfc3339Parser } from './rfc3339.js';

export type LogFormat = 'cri' | 'docker';
export const LOG_FORMATS: readonly LogFormat[] = ['cri', 'docker'];

const STREAM_NAMES = ['stdout', 'stderr'] as const;

/**
 * Buffer's own UTF-8 decoder, which `toString('utf8', start, end)` calls after checking its arguments
 * and looking the encoding up: called straight, once per line, with bounds already known good.
 */
interface Utf8Slicing {
  utf8Slice(start: number, end: number): string;
}
const CR = 0x0d;

export interface LineDecoderOptions {
  formats: readonly LogFormat[];
  /** Longest joined line (`buffer_max_size`). */
  maxLineBytes: number;
  longLines: LongLineAction;
  skipEmptyLines: boolean;
  /** How long a split line waits for its last piece (`flush_timeout`). */
  flushTimeoutMs: number;
}

export class LineDecoder implements LineSink {
  private readonly joiners: readonly [PartialLineJoiner, PartialLineJoiner];
  /** Limits lines in no format; never holds pieces. */
  private readonly plain: PartialLineJoiner;
  private readonly times = new Rfc3339Parser();
  private readonly cri: DecodedCriLine = { time: 0n, stream: STDOUT, partial: false, contentStart: 0, contentEnd: 0 };
  private readonly docker: DecodedDockerLine = { time: 0n, stream: STDOUT, streamName: 'stdout', partial: false, log: '' };
  private readonly criFirst: boolean;
  private readonly useCri: boolean;
  private readonly useDocker: boolean;
  private readonly maxLineBytes: number;
  /** The current line was already cut by the reader (and counted there). */
  private cut = false;
  /** A `\r` was cut from the current line. */
  private cr = false;
  /** The pieces waiting on each stream are CRI's (else docker's). */
  private readonly piecesCri: [boolean, boolean] = [true, true];

  constructor(
    private readonly options: LineDecoderOptions,
    private readonly builder: RecordBuilder,
    private readonly stage: LineStage,
    readonly counts: DecoderCounts,
  ) {
    this.joiners = [new PartialLineJoiner(options.maxLineBytes, options.longLines), new PartialLineJoiner(options.maxLineBytes, options.longLines)];
    this.plain = new PartialLineJoiner(options.maxLineBytes, options.longLines);
    this.useCri = options.formats.includes('cri');
    this.useDocker = options.formats.includes('docker');
    this.criFirst = options.formats[0] !== 'docker';
    this.maxLineBytes = options.maxLineBytes;
  }

  line(b: Buffer, start: number, end: number, offset: number, truncated: boolean): void {
    this.cut = truncated;
    if (this.options.skipEmptyLines && (end === start || (end - start === 1 && b[start] === CR))) return;
    this.cr = !truncated && end - start >= 2 && b[end - 1] === CR;
    if (this.cr) end--;
    if (this.criFirst) {
      if (this.useCri && decodeCriLine(b, start, end, this.times, this.cri)) return this.criLine(b, offset);
      if (this.useDocker && decodeDockerLine(b, start, end, this.times, this.docker)) return this.dockerLine(offset);
    } else {
      if (decodeDockerLine(b, start, end, this.times, this.docker)) return this.dockerLine(offset);
      if (this.useCri && decodeCriLine(b, start, end, this.times, this.cri)) return this.criLine(b, offset);
    }
    if (this.useCri || this.useDocker) this.counts.malformed++;
    // Not in any configured format (or no format configured): the line as it is, timed on reading.
    this.whole(b, start, end, undefined, undefined, offset, this.plain, false, false);
  }

  private criLine(b: Buffer, offset: number): void {
    const c = this.cri;
    const joiner = this.joiners[c.stream];
    if (c.partial) {
      if (!joiner.pending) this.piecesCri[c.stream] = true;
      joiner.appendRange(b, c.contentStart, c.contentEnd, c.time, offset, performance.now());
      this.counts.partialPieces++;
      return;
    }
    // The common case: a whole line, never split, short enough. Decode it straight from the buffer.
    if (!joiner.pending && c.contentEnd - c.contentStart <= this.maxLineBytes) {
      this.stage.line(c.contentEnd > c.contentStart ? (b as Buffer & Utf8Slicing).utf8Slice(c.contentStart, c.contentEnd) : '', c.time, STREAM_NAMES[c.stream], offset, this.cr, true);
      return;
    }
    this.whole(b, c.contentStart, c.contentEnd, c.time, STREAM_NAMES[c.stream], offset, joiner, false, true);
  }

  private dockerLine(offset: number): void {
    const d = this.docker;
    const joiner = this.joiners[d.stream];
    if (d.partial) {
      if (!joiner.pending) this.piecesCri[d.stream] = false;
      joiner.append(Buffer.from(d.log, 'utf8'), d.time, offset, performance.now());
      this.counts.partialPieces++;
      return;
    }
    // A JS string's UTF-8 length is at most 3 bytes per UTF-16 unit: measure only when it may be over.
    if (!joiner.pending && (d.log.length * 3 <= this.maxLineBytes || Buffer.byteLength(d.log) <= this.maxLineBytes)) {
      this.stage.line(d.log + '\n', d.time, d.streamName, offset, this.cr, false);
      return;
    }
    const bytes = Buffer.from(d.log, 'utf8');
    this.whole(bytes, 0, bytes.length, d.time, d.streamName, offset, joiner, true, false);
  }

  /** The last piece of a line, `b[start, end)`: joined with the pieces before it, limited to maxLineBytes. */
  private whole(b: Buffer, start: number, end: number, time: bigint | undefined, stream: string | undefined, offset: number, joiner: PartialLineJoiner, newline: boolean, cri: boolean): void {
    const from = joiner.pending ? joiner.firstOffset : offset;
    const line = joiner.finishRange(b, start, end, time ?? 0n);
    if (line === undefined) {
      this.counts.skipped++;
      return;
    }
    if (line.truncated && !this.cut) this.counts.truncated++;
    const text = newline && !line.truncated ? line.text + '\n' : line.text;
    this.stage.line(text, time === undefined ? undefined : line.time, stream, from, this.cr, cri);
  }

  /** When the first piece or entry held falls due (ms, performance.now()), or undefined. */
  nextDueMs(): number | undefined {
    let due = this.stage.nextDueMs();
    for (const j of this.joiners) {
      if (!j.pending) continue;
      const at = j.lastAppendMs + this.options.flushTimeoutMs;
      if (due === undefined || at < due) due = at;
    }
    return due;
  }

  /** Sends split lines that have waited flush_timeout for their last piece, and entries due. */
  flushDue(nowMs: number): void {
    for (let s = 0; s < 2; s++) {
      const joiner = this.joiners[s]!;
      if (joiner.pending && nowMs - joiner.lastAppendMs >= this.options.flushTimeoutMs) this.flushJoiner(s as 0 | 1);
    }
    this.stage.flushDue(nowMs);
  }

  /** Sends every piece and entry held (the file is closed or truncated: nothing will continue them). */
  flushAll(): void {
    this.flushJoiner(STDOUT);
    this.flushJoiner(STDERR);
    this.stage.flushAll();
  }

  private flushJoiner(s: 0 | 1): void {
    const joiner = this.joiners[s];
    if (!joiner.pending) return;
    const offset = joiner.firstOffset;
    const line: JoinedLine | undefined = joiner.flush();
    this.counts.flushed++;
    if (line === undefined) {
      this.counts.skipped++;
      return;
    }
    if (line.truncated) this.counts.truncated++;
    this.stage.line(line.text, line.time, STREAM_NAMES[s], offset, false, this.piecesCri[s]);
  }

  /** Something is held: pieces of a split line, or lines of an entry. */
  get hasPending(): boolean {
    return this.joiners[STDOUT].pending || this.joiners[STDERR].pending || this.stage.heldFrom >= 0;
  }

  /** Where reading may safely resume: not past the first piece of a line, or line of an entry, still held. */
  safeOffset(lineOffset: number): number {
    let safe = lineOffset;
    for (const j of this.joiners) if (j.pending && j.firstOffset < safe) safe = j.firstOffset;
    const held = this.stage.heldFrom;
    if (held >= 0 && held < safe) safe = held;
    return safe;
  }

  get pendingEvents(): number {
    return this.builder.events.length;
  }

  takeEvents() {
    return this.builder.take();
  }
}
