/**
 * fluent-plugin-concat's filter (lib/fluent/plugin/filter_concat.rb, v2.6): joins the `key` values of
 * consecutive records of one stream (tag, or tag and stream_identity_key's value) into one record, by
 * n_lines, start/end/continuous regexps, partial_key/partial_value, or the CRI log tag (P…F).
 *
 * What the plugin does, step by step (`filter_stream` / `process_*` / `flush_buffer`):
 * - records of tags `fluent.<level>`, records without `key` (partial mode: without partial_key) pass;
 * - a joined record is the first record of the entry with `key` set to the values joined by
 *   `separator`, then merged INTO the record that completed it (`record.merge(new_record)`), partial
 *   mode dropping partial_key (unless keep_partial_key), CRI mode dropping partial_cri_logtag_key
 *   (unless keep_partial_key) and partial_cri_stream_key;
 * - its time is the completing record's, or the first's with use_first_timestamp;
 * - every second, a stream without a record for flush_interval is flushed (its entry as `flush_buffer`
 *   made it, nothing dropped from it) to Fluentd's error stream (timeout_action error: floki drops it,
 *   logged once and counted) or, with timeout_action pass, sent on; the same at stop.
 *
 * floki holds records with the engine's holds (multiline/held-lines.ts), so a tail position moves past
 * a line only once the entry holding it has settled, and bounds what it holds in bytes.
 */
import type { ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import { nowNs } from '../../core/event.js';
import type { Filter, FilterContext, FilterFlow } from '../../core/plugin.js';
import { rubyToS } from '../../labels/fluentd-key-value.js';
import { HeldBatch, LineToken, PassedHold, type Finished } from '../multiline/held-lines.js';
import { concatSettings, type ConcatSettings } from './options.js';

const FLUENT_LOG_TAG = /^fluent\.(?:trace|debug|info|warn|error|fatal)$/;

interface Element {
  token: LineToken;
  record: Record<string, unknown>;
  time: bigint;
  bytes: number;
}

interface Stream {
  elements: Element[];
  /** The plugin's `@buffer_size` (partial mode's overflow check). */
  size: number;
  /** What floki holds for this stream. */
  bytes: number;
  updatedMs: number;
}

/** An entry `flush_buffer` made: its time and record, and the records it holds. */
interface Flushed {
  time: bigint;
  record: Record<string, unknown>;
  tokens: LineToken[];
  tag: string;
}

type Counter = { inc(n?: number): void };

export class ConcatFilter implements Filter {
  private readonly s: ConcatSettings;
  private readonly streams = new Map<string, Stream>();
  private totalBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly logged = new Set<string>();
  private readonly metrics: {
    entries: Counter;
    timeout: Counter;
    stop: Counter;
    limited: Counter;
    overflowDropped: Counter;
    pending: { set(n: number): void };
  };

  constructor(
    options: ResolvedOptions,
    private readonly ctx: FilterContext,
  ) {
    this.s = concatSettings(options);
    const m = ctx.metrics;
    const unfinished = m.counter('floki_filter_concat_flushed_entries_total', 'Entries flushed before they were complete, by reason (timeout: flush_interval, stop) and action (error: dropped, pass: sent on)', ['name', 'reason', 'action']);
    const action = this.s.passOnTimeout ? 'pass' : 'error';
    this.metrics = {
      entries: m.counter('floki_filter_concat_entries_total', 'Joined records the concat filter made', ['name']).labels(ctx.name),
      timeout: unfinished.labels(ctx.name, 'timeout', action),
      stop: unfinished.labels(ctx.name, 'stop', action),
      limited: m.counter('floki_filter_concat_limited_entries_total', 'Entries flushed early because a stream reached buffer_limit_size or all reached total_limit_size', ['name']).labels(ctx.name),
      overflowDropped: m.counter('floki_filter_concat_dropped_records_total', 'Records dropped by buffer_overflow_method truncate or drop (partial_key mode)', ['name']).labels(ctx.name),
      pending: m.gauge('floki_filter_concat_pending_bytes', 'Bytes the concat filter holds in unfinished entries', ['name']).labels(ctx.name),
    };
  }

  process(events: LogEvent[], flow: FilterFlow): LogEvent[] {
    const s = this.s;
    const batch = new HeldBatch();
    const kept: LogEvent[] = [];
    let later: Finished[] | undefined;
    const now = performance.now();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const record = event.record;
      if (
        FLUENT_LOG_TAG.test(event.tag) ||
        !Object.hasOwn(record, s.key) ||
        (s.mode === 'partial' && !Object.hasOwn(record, s.partialKey!)) ||
        (s.mode === 'partial_metadata' && !Object.hasOwn(record, s.partialMetadata!.indicator))
      ) {
        kept.push(event);
        continue;
      }
      const token = new LineToken(batch, event);
      const out: Flushed[] = [];
      this.processOne(event, token, now, out);
      for (const f of out) {
        const merged: Record<string, unknown> = {};
        for (const k in record) merged[k] = record[k];
        for (const k in f.record) merged[k] = f.record[k];
        if (s.mode === 'partial' && !s.keepPartialKey) delete merged[s.partialKey!];
        if (s.mode === 'partial_metadata' && !s.keepPartialMetadata) {
          const m = s.partialMetadata!;
          delete merged[m.message];
          delete merged[m.id];
          delete merged[m.ordinal];
          delete merged[m.last];
        }
        if (s.mode === 'partial_cri') {
          if (!s.keepPartialKey) delete merged[s.criLogtagKey!];
          delete merged[s.criStreamKey];
        }
        const finished: Finished = { event: { tag: event.tag, time: f.time, record: merged }, tokens: f.tokens };
        if (f.tokens.every((t) => t.batch === batch)) {
          kept.push(finished.event!);
          batch.lines -= f.tokens.length;
        } else (later ??= []).push(finished);
      }
    }
    if (batch.lines > 0) batch.hold = flow.hold();
    if (later !== undefined) void this.send(later);
    this.afterChange();
    return kept;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const out: Flushed[] = [];
    for (const stream of this.streams.values()) if (stream.elements.length > 0) out.push(this.flush(stream));
    this.streams.clear();
    this.totalBytes = 0;
    this.afterChange();
    if (out.length > 0) await this.timedOut(out, 'stop');
  }

  /** `process(tag, time, record)` of the plugin, for one record; joined entries go to `out`. */
  private processOne(event: LogEvent, token: LineToken, now: number, out: Flushed[]): void {
    const s = this.s;
    const record = event.record;
    let id: string;
    if (s.mode === 'partial_metadata') {
      const partialId = rubyToS(record[s.partialMetadata!.id]);
      id = s.streamIdentityKey === undefined ? `${event.tag}:${partialId}` : `${event.tag}:${rubyToS(record[s.streamIdentityKey])}${partialId}`;
    } else id = s.streamIdentityKey === undefined ? `${event.tag}:default` : `${event.tag}:${rubyToS(record[s.streamIdentityKey])}`;
    let stream = this.streams.get(id);
    if (stream === undefined) {
      stream = { elements: [], size: 0, bytes: 0, updatedMs: now };
      this.streams.set(id, stream);
    }
    stream.updatedMs = now;
    const element: Element = { token, record, time: event.time, bytes: recordBytes(record) };
    const flushed = (into: Flushed): void => {
      if (!s.useFirstTimestamp) into.time = event.time;
      out.push(into);
    };
    const value = record[s.key];
    switch (s.mode) {
      case 'line':
        this.push(stream, element);
        if (stream.elements.length >= s.nLines) flushed(this.flush(stream));
        break;
      case 'partial':
        this.processPartial(stream, element, flushed);
        break;
      case 'partial_metadata':
        this.push(stream, element);
        if (record[s.partialMetadata!.last] === 'true') flushed(this.flush(stream, undefined, true));
        break;
      case 'partial_cri': {
        this.push(stream, element);
        const tag = record[s.criLogtagKey!];
        if (typeof tag === 'string' && tag.split(':')[0] === 'F') {
          const f = this.flush(stream);
          delete f.record[s.criLogtagKey!];
          flushed(f);
        }
        break;
      }
      case 'regexp':
        this.processRegexp(stream, element, rubyToS(value), event, flushed, out);
        break;
    }
    // floki's bounds: the plugin holds without limit outside partial mode.
    if (stream.elements.length > 0 && ((stream.bytes > s.bufferLimit && !(s.mode === 'partial' && s.overflow !== 'ignore')) || this.totalBytes > s.totalLimit)) {
      this.metrics.limited.inc();
      this.logOnce('limit', () =>
        this.ctx.log.warn({ buffer_limit_size: s.bufferLimit, total_limit_size: s.totalLimit }, 'concat: an entry reached buffer_limit_size (or all reached total_limit_size): sent on as it is (logged once; see floki_filter_concat_limited_entries_total)'),
      );
      flushed(this.flush(stream));
    }
    if (stream.elements.length === 0) this.streams.delete(id);
  }

  private processPartial(stream: Stream, element: Element, flushed: (f: Flushed) => void): void {
    const s = this.s;
    let force = false;
    let pushed = true;
    if (stream.size + element.bytes > s.bufferLimit) {
      stream.size = 0;
      switch (s.overflow) {
        case 'ignore':
          this.push(stream, element);
          break;
        case 'truncate':
        case 'new':
          force = true;
          pushed = false;
          break;
        case 'drop':
          this.dropAll(stream);
          pushed = false;
          break;
      }
    } else {
      stream.size += element.bytes;
      this.push(stream, element);
    }
    const partial = element.record[s.partialKey!];
    const isPartial = typeof partial === 'string' && partial === s.partialValue;
    if ((force || !isPartial) && stream.elements.length > 0) {
      const f = this.flush(stream);
      delete f.record[s.partialKey!];
      flushed(f);
    }
    if (force && s.overflow === 'new') {
      this.push(stream, element);
      stream.size = element.bytes;
      if (!isPartial) {
        const f = this.flush(stream);
        delete f.record[s.partialKey!];
        flushed(f);
      }
    } else if (!pushed) this.dropElement(element);
  }

  private processRegexp(stream: Stream, element: Element, text: string, event: LogEvent, flushed: (f: Flushed) => void, out: Flushed[]): void {
    const s = this.s;
    const first = s.start !== undefined && s.start.test(text);
    const last = s.end !== undefined && s.end.test(text);
    if (first) {
      if (stream.elements.length === 0) {
        this.push(stream, element);
        if (last) flushed(this.flush(stream));
      } else {
        flushed(this.flush(stream, element));
        if (last) flushed(this.flush(stream));
      }
    } else if (last) {
      this.push(stream, element);
      flushed(this.flush(stream));
    } else if (stream.elements.length === 0) {
      if (s.start === undefined) this.push(stream, element);
      else out.push({ time: event.time, record: element.record, tokens: [element.token], tag: event.tag });
    } else if (s.continuous === undefined || s.continuous.test(text)) {
      this.push(stream, element);
    } else {
      // The plugin adds the record with the time the flushed entry got (its `time` variable).
      const f = this.flush(stream);
      flushed(f);
      out.push({ time: f.time, record: element.record, tokens: [element.token], tag: event.tag });
    }
  }

  private push(stream: Stream, element: Element): void {
    stream.elements.push(element);
    stream.bytes += element.bytes;
    this.totalBytes += element.bytes;
  }

  /** `flush_buffer`: the first record with `key` set to the joined values; the buffer then holds `next` alone. */
  private flush(stream: Stream, next?: Element, byOrdinal = false): Flushed {
    let elements = stream.elements;
    if (byOrdinal) {
      // flush_buffer in partial metadata mode: the parts in partial_ordinal order (Ruby's to_i).
      const key = this.s.partialMetadata!.ordinal;
      elements = elements.slice().sort((a, b) => rubyToI(a.record[key]) - rubyToI(b.record[key]));
    }
    const first = stream.elements[0]!; // the first to arrive, even when the lines are sorted
    const lines: string[] = [];
    for (const e of elements) lines.push(rubyToS(e.record[this.s.key]));
    const record: Record<string, unknown> = {};
    for (const k in first.record) record[k] = first.record[k];
    record[this.s.key] = lines.join(this.s.separator);
    this.totalBytes -= stream.bytes;
    stream.elements = [];
    stream.bytes = 0;
    stream.size = 0;
    if (next !== undefined) this.push(stream, next);
    if (elements.length > 1) this.metrics.entries.inc();
    return { time: first.time, record, tokens: elements.map((e) => e.token), tag: first.token.event.tag };
  }

  private dropAll(stream: Stream): void {
    for (const e of stream.elements) this.dropElement(e);
    this.totalBytes -= stream.bytes;
    stream.elements = [];
    stream.bytes = 0;
  }

  private dropElement(e: Element): void {
    this.metrics.overflowDropped.inc();
    this.logOnce('overflow', () => this.ctx.log.warn({ buffer_limit_size: this.s.bufferLimit, buffer_overflow_method: this.s.overflow }, 'concat: records dropped past buffer_limit_size, as buffer_overflow_method says (logged once)'));
    // Settles as dropped; a record of this call settles with the call (its hold is not taken for it).
    e.token.batch.done(1);
  }

  /** Entries flushed by flush_interval or at stop: dropped (Fluentd's error stream) or sent on. */
  private timedOut(out: Flushed[], reason: 'timeout' | 'stop'): Promise<void> {
    (reason === 'timeout' ? this.metrics.timeout : this.metrics.stop).inc(out.length);
    const now = nowNs();
    const finished: Finished[] = out.map((f) => ({ event: { tag: f.tag, time: this.s.useFirstTimestamp ? f.time : now, record: f.record }, tokens: f.tokens }));
    if (!this.s.passOnTimeout) {
      this.logOnce(`drop:${reason}`, () =>
        this.ctx.log.warn(
          { reason, entries: out.length },
          "concat: entries flushed by flush_interval (or at stop) are dropped, as Fluentd sends them to its error stream without timeout_label; set timeout_action pass to send them on (logged once; see floki_filter_concat_flushed_entries_total)",
        ),
      );
      for (const f of finished) for (const t of f.tokens) t.batch.done(1);
      return Promise.resolve();
    }
    return this.send(finished);
  }

  private send(entries: Finished[]): Promise<void> {
    const events = entries.map((f) => f.event!);
    return this.ctx.pass(events, [new PassedHold(entries)]).catch((err: unknown) => {
      this.logOnce('error', () => this.ctx.log.error({ err: String(err) }, 'concat: joined entries could not be sent on (logged once)'));
    });
  }

  private afterChange(): void {
    this.metrics.pending.set(this.totalBytes);
    if (this.stopped || this.s.flushIntervalMs <= 0) return;
    if (this.streams.size > 0 && this.timer === undefined) {
      // The plugin looks every second.
      this.timer = setInterval(this.onTimer, Math.min(1000, this.s.flushIntervalMs));
      this.timer.unref();
    } else if (this.streams.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private readonly onTimer = (): void => {
    const now = performance.now();
    const out: Flushed[] = [];
    for (const [id, stream] of this.streams) {
      if (this.s.flushIntervalMs > now - stream.updatedMs) continue;
      if (stream.elements.length > 0) out.push(this.flush(stream, undefined, this.s.mode === 'partial_metadata'));
      this.streams.delete(id);
    }
    if (out.length > 0) void this.timedOut(out, 'timeout');
    this.afterChange();
  };

  private logOnce(what: string, log: () => void): void {
    if (this.logged.has(what)) return;
    this.logged.add(what);
    log();
  }
}

/** Ruby's `to_i`: a leading integer of a string, an integer's value, else 0. */
function rubyToI(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v !== 'string') return 0;
  const m = /^\s*([-+]?\d+)/.exec(v.replace(/_/g, ''));
  return m === null ? 0 : Number(m[1]);
}

/** The plugin's `record_bytesize`: the keys' bytes plus each value's `to_s` bytes. */
export function recordBytes(record: Record<string, unknown>): number {
  let n = 0;
  for (const k in record) n += Buffer.byteLength(k) + Buffer.byteLength(rubyToS(record[k]));
  return n;
}
