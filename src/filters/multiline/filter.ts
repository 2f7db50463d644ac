/**
 * Fluent Bit's multiline filter: joins the records of one message (a stack trace, a line the runtime
 * split) into one record, by the multiline parsers' rules (`mode parser`) or Docker's partial_message
 * keys (`mode partial_message`).
 *
 * Buffered (the default), an unfinished entry is held across batches until its last line comes or
 * `flush_ms` passes after its last record, then sent on from after this filter (`ctx.pass`), never
 * lost and never held longer; what is held is bounded by `emitter_mem_buf_limit`, and the streams
 * (keys: tags, which may be long) with their text by that plus STREAM_KEYS_BYTES: past it the streams
 * used least recently are flushed and forgotten (counted). The records held keep
 * their emit open (held-lines.ts), so tail positions move only past delivered lines. An entry made of
 * one batch's records alone is returned from `process()` in place. Unbuffered, each batch is joined on
 * its own and nothing is held, as in Fluent Bit.
 *
 * Unlike Fluent Bit, entries are not re-emitted at the head of the pipeline (where the filters before
 * this one would see them twice): they go on to the filters after it, then the outputs.
 */
import type { ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, FilterContext, FilterFlow } from '../../core/plugin.js';
import type { EntryJoiner } from './entry-joiner.js';
import { HeldBatch, PassedHold, type Finished } from './held-lines.js';
import { multilineFilterSettings, type MultilineFilterSettings } from './options.js';
import { ParserModeJoiner } from './parser-mode.js';
import { PartialMessageJoiner } from './partial-message.js';

/** Room for the streams' keys (tags and stream names) above emitter_mem_buf_limit. */
const STREAM_KEYS_BYTES = 16 * 1024 * 1024;

/** Why an entry went on unfinished. */
type Unfinished = 'timeout' | 'emitter_mem_buf_limit' | 'stop';

export class MultilineFilter implements Filter {
  private readonly s: MultilineFilterSettings;
  private readonly joiner: EntryJoiner;
  private timer: NodeJS.Timeout | undefined;
  private timerDueMs = Infinity;
  private stopped = false;
  private truncatedSeen = 0;
  private withoutIdSeen = 0;
  private evictedSeen = 0;
  private readonly evicted: { inc(n: number): void };
  private readonly logged = new Set<string>();
  private readonly entries: { inc(n: number): void };
  private readonly unfinished: Record<Unfinished, { inc(n: number): void }>;
  private readonly truncated: { inc(n: number): void };
  private readonly pending: { set(n: number): void };

  constructor(
    options: ResolvedOptions,
    private readonly ctx: FilterContext,
  ) {
    const s = (this.s = multilineFilterSettings(options, ctx.parsers));
    this.joiner = s.mode === 'partial_message' ? new PartialMessageJoiner(s.keyContent!, s.flushMs) : new ParserModeJoiner(s.parsers, s.keyContent, s.flushMs, s.memBufLimit + STREAM_KEYS_BYTES);
    const m = ctx.metrics;
    this.entries = m.counter('floki_filter_multiline_entries_total', 'Records the multiline filter sent on (joined entries and records it left alone)', ['name']).labels(ctx.name);
    const unfinished = m.counter('floki_filter_multiline_unfinished_entries_total', 'Entries sent on before their last line came, by reason: flush_ms passed, emitter_mem_buf_limit reached, or floki stopping', ['name', 'reason']);
    this.unfinished = { timeout: unfinished.labels(ctx.name, 'timeout'), emitter_mem_buf_limit: unfinished.labels(ctx.name, 'emitter_mem_buf_limit'), stop: unfinished.labels(ctx.name, 'stop') };
    this.truncated = m.counter('floki_filter_multiline_truncated_entries_total', 'Entries cut at 2 MiB of text (marked multiline_truncated in their metadata)', ['name']).labels(ctx.name);
    this.evicted = m
      .counter('floki_filter_multiline_evicted_streams_total', 'Streams (tag and stream keys) flushed, their unfinished entries sent on, and forgotten because the streams with their text took more than emitter_mem_buf_limit + 16 MiB', ['name'])
      .labels(ctx.name);
    this.pending = m.gauge('floki_filter_multiline_pending_bytes', 'Bytes of text the multiline filter holds in unfinished entries', ['name']).labels(ctx.name);
  }

  process(events: LogEvent[], flow: FilterFlow): LogEvent[] {
    if (events.length === 0) return events;
    const batch = new HeldBatch();
    const out: Finished[] = [];
    this.joiner.append(events, batch, performance.now(), out);
    if (!this.s.buffer || this.stopped) this.joiner.flushAll(out);
    else this.keepWithinLimit(out);
    const kept: LogEvent[] = [];
    let later: Finished[] | undefined;
    for (let i = 0; i < out.length; i++) {
      const f = out[i]!;
      if (onlyOf(f, batch)) {
        // Goes on with this emit, which settles it.
        if (f.event !== undefined) kept.push(f.event);
        batch.lines -= f.tokens.length;
      } else (later ??= []).push(f);
    }
    if (batch.lines > 0) batch.hold = flow.hold();
    this.entries.inc(kept.length);
    if (later !== undefined) void this.send(later);
    this.afterChange();
    return kept;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    const out: Finished[] = [];
    this.joiner.flushAll(out);
    this.afterChange();
    if (out.length === 0) return;
    this.unfinished.stop.inc(out.length);
    this.debugFlush(out.length, 'stop');
    await this.send(out);
  }

  /** Past emitter_mem_buf_limit, the entries waiting longest go on unfinished until the rest fits. */
  private keepWithinLimit(out: Finished[]): void {
    let bytes = this.joiner.pendingBytes;
    if (bytes <= this.s.memBufLimit) return;
    let n = 0;
    for (let freed = this.joiner.flushOldest(out); freed !== undefined; freed = bytes > this.s.memBufLimit ? this.joiner.flushOldest(out) : undefined) {
      bytes -= freed;
      n++;
    }
    this.unfinished.emitter_mem_buf_limit.inc(n);
    this.debugFlush(n, 'emitter_mem_buf_limit');
    this.logOnce('limit', () => this.ctx.log.warn({ limit: this.s.memBufLimit }, 'emitter_mem_buf_limit reached: the unfinished entries waiting longest were sent on as they are (logged once; see floki_filter_multiline_unfinished_entries_total)'));
  }

  /** Sends entries on from after this filter; their records settle once these do. */
  private send(entries: Finished[]): Promise<void> {
    const events: LogEvent[] = [];
    const sent: Finished[] = [];
    for (const f of entries) {
      if (f.event !== undefined) {
        events.push(f.event);
        sent.push(f);
      } else for (const t of f.tokens) t.batch.done(1);
    }
    if (events.length === 0) return Promise.resolve();
    this.entries.inc(events.length);
    return this.ctx.pass(events, [new PassedHold(sent)]).catch((err: unknown) => {
      this.logOnce('error', () => this.ctx.log.error({ err: String(err) }, 'joined entries could not be sent on (logged once)'));
    });
  }

  private afterChange(): void {
    const truncated = this.joiner.truncatedEntries;
    if (truncated !== this.truncatedSeen) {
      this.truncated.inc(truncated - this.truncatedSeen);
      this.truncatedSeen = truncated;
      this.logOnce('truncated', () => this.ctx.log.warn('an entry reached 2 MiB of text and was cut (logged once; see floki_filter_multiline_truncated_entries_total)'));
    }
    if (this.joiner instanceof PartialMessageJoiner && this.joiner.withoutId !== this.withoutIdSeen) {
      this.withoutIdSeen = this.joiner.withoutId;
      this.logOnce('without_id', () => this.ctx.log.warn('a record marked partial_message has no partial_id: sent on as it is (logged once)'));
    }
    if (this.joiner instanceof ParserModeJoiner && this.joiner.evictedStreams !== this.evictedSeen) {
      this.evicted.inc(this.joiner.evictedStreams - this.evictedSeen);
      this.evictedSeen = this.joiner.evictedStreams;
      this.logOnce('evicted', () => this.ctx.log.warn('the streams (tags) held took more than emitter_mem_buf_limit + 16 MiB: those used least recently were flushed and forgotten (logged once; see floki_filter_multiline_evicted_streams_total)'));
    }
    this.pending.set(this.joiner.pendingEntries === 0 ? 0 : this.joiner.pendingBytes);
    if (this.s.buffer && !this.stopped) this.arm();
  }

  /** One timer, at the time the next unfinished entry falls due. */
  private arm(): void {
    const due = this.joiner.nextDueMs();
    if (due === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== undefined && this.timerDueMs <= due) return;
    this.disarm();
    this.timerDueMs = due;
    // +1: a timer may fire up to a millisecond early; the entry is due only at `due`.
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(due - performance.now()) + 1));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueMs = Infinity;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerDueMs = Infinity;
    const out: Finished[] = [];
    this.joiner.flushDue(performance.now(), out);
    if (out.length > 0) {
      this.unfinished.timeout.inc(out.length);
      this.debugFlush(out.length, 'timeout');
      void this.send(out);
    }
    this.afterChange();
  };

  private debugFlush(entries: number, reason: Unfinished): void {
    if (this.s.debugFlush && entries > 0) this.ctx.log.debug({ entries, reason }, 'multiline entries flushed');
  }

  private logOnce(what: string, log: () => void): void {
    if (this.logged.has(what)) return;
    this.logged.add(what);
    log();
  }
}

/** Every record of the entry came in this call. */
function onlyOf(f: Finished, batch: HeldBatch): boolean {
  const tokens = f.tokens;
  for (let i = 0; i < tokens.length; i++) if (tokens[i]!.batch !== batch) return false;
  return true;
}
