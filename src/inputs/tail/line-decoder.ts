/**
 * Turns a file's lines into events: decodes each line in the configured formats (`multiline.parser cri,
 * docker`, tried in order; a line matching none is kept as it is), joins split lines per stream, and
 * builds the record `{log, stream, kubernetes}` with the line's own time as the event time.
 *
 * The record does not keep the runtime's `time` field (Fluent Bit's cri parser does): the entry's
 * timestamp is that time, to the nanosecond, and repeating it in every Loki line would only add bytes.
 */
import { nowNs, type LogEvent } from '../../core/event.js';
import { decodeCriLine, STDERR, STDOUT, type DecodedCriLine } from './cri-format.js';
import { decodeDockerLine, type DecodedDockerLine } from './docker-format.js';
import type { KubernetesMetadata } from './kubernetes-path.js';
import type { LineSink } from './line-reader.js';
import { PartialLineJoiner, type JoinedLine, type LongLineAction } from './partial-line-joiner.js';
import { Rfc3339Parser } from './rfc3339.js';

export type LogFormat = 'cri' | 'docker';
export const LOG_FORMATS: readonly LogFormat[] = ['cri', 'docker'];

const STREAM_NAMES = ['stdout', 'stderr'] as const;

export interface LineDecoderOptions {
  formats: readonly LogFormat[];
  /** Tag of every event of this file. */
  tag: string;
  /** Record key of the line (`key`, default `log`). */
  key: string;
  kubernetes?: KubernetesMetadata;
  /** `path_key`: record key that gets `path`. */
  pathKey?: string;
  path: string;
  /** Longest joined line (`buffer_max_size`). */
  maxLineBytes: number;
  longLines: LongLineAction;
  skipEmptyLines: boolean;
}

/** What happened to lines since the counts were last taken (added to the metrics once per block). */
export class DecoderCounts {
  partialPieces = 0;
  flushed = 0;
  truncated = 0;
  skipped = 0;
  malformed = 0;

  reset(): void {
    this.partialPieces = this.flushed = this.truncated = this.skipped = this.malformed = 0;
  }
}

export class LineDecoder implements LineSink {
  /** Events decoded since the last takeEvents(). */
  private events: LogEvent[] = [];
  readonly counts = new DecoderCounts();
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
  private readonly tag: string;
  private readonly logKey: boolean;

  constructor(private readonly options: LineDecoderOptions) {
    this.joiners = [new PartialLineJoiner(options.maxLineBytes, options.longLines), new PartialLineJoiner(options.maxLineBytes, options.longLines)];
    this.plain = new PartialLineJoiner(options.maxLineBytes, options.longLines);
    this.useCri = options.formats.includes('cri');
    this.useDocker = options.formats.includes('docker');
    this.criFirst = options.formats[0] !== 'docker';
    this.maxLineBytes = options.maxLineBytes;
    this.tag = options.tag;
    this.logKey = options.key === 'log';
  }

  /** The current line was already cut by the reader (and counted there). */
  private cut = false;

  line(b: Buffer, start: number, end: number, offset: number, truncated: boolean): void {
    this.cut = truncated;
    if (this.criFirst) {
      if (this.useCri && decodeCriLine(b, start, end, this.times, this.cri)) return this.criLine(b, offset);
      if (this.useDocker && decodeDockerLine(b, start, end, this.times, this.docker)) return this.dockerLine(offset);
    } else {
      if (decodeDockerLine(b, start, end, this.times, this.docker)) return this.dockerLine(offset);
      if (this.useCri && decodeCriLine(b, start, end, this.times, this.cri)) return this.criLine(b, offset);
    }
    if (this.useCri || this.useDocker) this.counts.malformed++;
    // Not in any configured format (or no format configured): the line as it is, timed on reading.
    this.whole(b.subarray(start, end), nowNs(), undefined, this.plain);
  }

  private criLine(b: Buffer, offset: number): void {
    const c = this.cri;
    const joiner = this.joiners[c.stream];
    if (c.partial) {
      joiner.append(b.subarray(c.contentStart, c.contentEnd), c.time, offset, performance.now());
      this.counts.partialPieces++;
      return;
    }
    // The common case: a whole line, never split, short enough. Decode it straight from the buffer.
    if (!joiner.pending && c.contentEnd - c.contentStart <= this.maxLineBytes) {
      this.push(c.contentEnd > c.contentStart ? b.toString('utf8', c.contentStart, c.contentEnd) : '', c.time, STREAM_NAMES[c.stream]);
      return;
    }
    this.whole(b.subarray(c.contentStart, c.contentEnd), c.time, STREAM_NAMES[c.stream], joiner);
  }

  private dockerLine(offset: number): void {
    const d = this.docker;
    const joiner = this.joiners[d.stream];
    if (d.partial) {
      joiner.append(Buffer.from(d.log, 'utf8'), d.time, offset, performance.now());
      this.counts.partialPieces++;
      return;
    }
    // A JS string's UTF-8 length is at most 3 bytes per UTF-16 unit: measure only when it may be over.
    if (!joiner.pending && (d.log.length * 3 <= this.maxLineBytes || Buffer.byteLength(d.log) <= this.maxLineBytes)) {
      this.push(d.log, d.time, d.streamName);
      return;
    }
    this.whole(Buffer.from(d.log, 'utf8'), d.time, d.streamName, joiner);
  }

  /** The last piece of a line: joined with the pieces before it, limited to maxLineBytes. */
  private whole(last: Buffer, time: bigint, stream: string | undefined, joiner: PartialLineJoiner): void {
    const line = joiner.finish(last, time);
    if (line === undefined) {
      this.counts.skipped++;
      return;
    }
    if (line.truncated && !this.cut) this.counts.truncated++;
    this.push(line.text, line.time, stream);
  }

  /** Emits the pieces of split lines that have waited `timeoutMs` for their last piece. */
  flushExpired(nowMs: number, timeoutMs: number): number {
    let n = 0;
    for (let s = 0; s < 2; s++) {
      const joiner = this.joiners[s]!;
      if (joiner.pending && nowMs - joiner.lastAppendMs >= timeoutMs) n += this.flushJoiner(joiner, STREAM_NAMES[s]!);
    }
    return n;
  }

  /** Emits every waiting piece (the file is closed: no last piece will come). */
  flushAll(): number {
    return this.flushJoiner(this.joiners[STDOUT], 'stdout') + this.flushJoiner(this.joiners[STDERR], 'stderr');
  }

  private flushJoiner(joiner: PartialLineJoiner, stream: string): number {
    if (!joiner.pending) return 0;
    const line: JoinedLine | undefined = joiner.flush();
    this.counts.flushed++;
    if (line === undefined) {
      this.counts.skipped++;
      return 0;
    }
    if (line.truncated) this.counts.truncated++;
    const before = this.events.length;
    this.push(line.text, line.time, this.useCri || this.useDocker ? stream : undefined);
    return this.events.length - before;
  }

  get hasPending(): boolean {
    return this.joiners[STDOUT].pending || this.joiners[STDERR].pending;
  }

  /** Where reading may safely resume: not past the first piece of a line still being joined. */
  safeOffset(lineOffset: number): number {
    let safe = lineOffset;
    for (const j of this.joiners) if (j.pending && j.firstOffset < safe) safe = j.firstOffset;
    return safe;
  }

  /** Forgets pieces being joined (the file was truncated: they will not be continued). */
  reset(): void {
    for (const j of this.joiners) j.reset();
  }

  get pendingEvents(): number {
    return this.events.length;
  }

  takeEvents(): LogEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private push(text: string, time: bigint, stream: string | undefined): void {
    if (text.length === 0 && this.options.skipEmptyLines) return;
    const o = this.options;
    let record: Record<string, unknown>;
    if (this.logKey && stream !== undefined) {
      // One literal shape per case keeps V8's objects monomorphic for the output that reads them.
      record = o.kubernetes !== undefined ? { log: text, stream, kubernetes: { ...o.kubernetes } } : { log: text, stream };
    } else {
      record = {};
      record[o.key] = text;
      if (stream !== undefined) record.stream = stream;
      if (o.kubernetes !== undefined) record.kubernetes = { ...o.kubernetes };
    }
    if (o.pathKey !== undefined) record[o.pathKey] = o.path;
    this.events.push({ tag: this.tag, time, record });
  }
}
