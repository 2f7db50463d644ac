import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, FilterContext, FilterFlow } from '../../core/plugin.js';
import { approximateSize } from '../../record/approximate-size.js';
import { regexTooLongCounter } from '../regex-metrics.js';
import { rewriteRules, type RewriteRule } from './rules.js';

export const rewriteTagOptions: readonly OptionSpec[] = [
  {
    name: 'rule',
    type: 'list',
    required: true,
    description:
      "`KEY REGEX NEW_TAG KEEP`: when the string at KEY (a key or record accessor) matches REGEX (double-quote it if it has spaces), the record is emitted again under NEW_TAG, from the start of the pipeline; KEEP `true` also sends the original on. NEW_TAG takes `$TAG`, `$TAG[n]`, captures `$0`..`$9` and record accessors. The first matching rule wins. Repeatable (a YAML list).",
  },
  { name: 'emitter_name', type: 'string', description: "Accepted for Fluent Bit's configs; floki names the emitter `emitter_for_<filter name>` in its metrics." },
  {
    name: 'emitter_storage.type',
    type: 'string',
    default: 'memory',
    choices: ['memory', 'filesystem'],
    description: "Accepted for Fluent Bit's configs; re-emitted records are buffered by the outputs they reach, as any other record.",
  },
  {
    name: 'emitter_mem_buf_limit',
    type: 'size',
    default: '10M',
    description: 'Bytes of re-emitted records not yet queued by the outputs; past it, a record to re-emit is sent on under its old tag instead, as Fluent Bit does (counted, logged once).',
  },
];

/** Hops from rewrite_tag to rewrite_tag, by event: a cycle through several filters stops at MAX_HOPS. */
const hops = new WeakMap<LogEvent, number>();
export const MAX_HOPS = 10;

type NotEmitted = 'cycle' | 'loop' | 'emitter_full' | 'empty_tag' | 'copy_failed';

const WHY: Record<NotEmitted, string> = {
  cycle: "the filter matches records it emitted itself (Fluent Bit's emitter cycle): the record goes on under its tag; narrow 'match' or the rules",
  loop: `a record went through ${MAX_HOPS} re-emissions (rewrite_tag filters sending records to each other): it goes on under its tag`,
  emitter_full: 'emitter_mem_buf_limit reached: a record goes on under its old tag instead of being re-emitted',
  empty_tag: 'a rule made an empty tag: the record goes on under its old tag',
  copy_failed: 'a record to re-emit with keep true could not be copied (nested too deeply): only the original goes on',
};

/**
 * Fluent Bit's rewrite_tag. Re-emitted records go back through the engine's router with
 * `ctx.emit`, holding the emit they came from open until they settle; they never reach an output
 * from here. A record this filter emitted and matches again is not emitted twice (Fluent Bit's
 * emitter cycle rule), and no record is re-emitted more than MAX_HOPS times across filters.
 */
export class RewriteTagFilter implements Filter {
  private readonly rules: RewriteRule[];
  private readonly limit: number;
  private readonly emittedByMe = new WeakSet<LogEvent>();
  private inFlightBytes = 0;
  private readonly logged = new Set<NotEmitted | 'error'>();
  private readonly emitted: { inc(n: number): void };
  private readonly notEmitted: Record<NotEmitted, { inc(): void }>;
  private readonly inFlight: { set(n: number): void };

  constructor(
    options: ResolvedOptions,
    private readonly ctx: FilterContext,
  ) {
    this.rules = rewriteRules(options, regexTooLongCounter(ctx));
    this.limit = Number(options.emitter_mem_buf_limit ?? 10 * 1024 * 1024);
    const m = ctx.metrics;
    this.emitted = m.counter('floki_filter_rewrite_tag_emitted_records_total', 'Records rewrite_tag emitted again under a new tag', ['name']).labels(ctx.name);
    const not = m.counter('floki_filter_rewrite_tag_not_emitted_records_total', 'Records a rule matched but rewrite_tag sent on under their tag, by reason', ['name', 'reason']);
    this.notEmitted = { cycle: not.labels(ctx.name, 'cycle'), loop: not.labels(ctx.name, 'loop'), emitter_full: not.labels(ctx.name, 'emitter_full'), empty_tag: not.labels(ctx.name, 'empty_tag'), copy_failed: not.labels(ctx.name, 'copy_failed') };
    this.inFlight = m.gauge('floki_filter_rewrite_tag_emitter_bytes', 'Bytes of re-emitted records not yet queued by the outputs', ['name']).labels(ctx.name);
  }

  process(events: LogEvent[], flow: FilterFlow): LogEvent[] {
    let kept: LogEvent[] | undefined;
    let out: LogEvent[] | undefined;
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const again = this.rewrite(event, bytes);
      let keep = true;
      if (again !== undefined) {
        (out ??= []).push(again.event);
        bytes += again.bytes;
        keep = again.keep;
      }
      if (kept !== undefined) {
        if (keep) kept.push(event);
      } else if (!keep) kept = events.slice(0, i);
    }
    if (out !== undefined) this.emit(out, bytes, flow);
    return kept ?? events;
  }

  /** The event to emit for `event`, if a rule matched and nothing stands in the way. */
  private rewrite(event: LogEvent, pendingBytes: number): { event: LogEvent; keep: boolean; bytes: number } | undefined {
    const record = event.record;
    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r]!;
      const value = rule.key.get(record);
      if (typeof value !== 'string') continue;
      const match = rule.regex.exec(value);
      if (match === null) continue;
      const tag = rule.tag.render(event.tag, record, match);
      const hop = (hops.get(event) ?? 0) + 1;
      const size = approximateSize(record);
      const why: NotEmitted | undefined = this.emittedByMe.has(event)
        ? 'cycle'
        : hop > MAX_HOPS
          ? 'loop'
          : tag.length === 0
            ? 'empty_tag'
            : this.inFlightBytes + pendingBytes + size > this.limit
              ? 'emitter_full'
              : undefined;
      if (why !== undefined) {
        this.refuse(why, event.tag);
        return undefined;
      }
      let again: LogEvent;
      try {
        again = { tag, time: event.time, record: rule.keep ? structuredClone(record) : record };
        if (event.metadata !== undefined) again.metadata = rule.keep ? structuredClone(event.metadata) : event.metadata;
      } catch {
        // structuredClone recurses: a record some thousands of levels deep cannot be copied.
        this.refuse('copy_failed', event.tag);
        return undefined;
      }
      if (event.labels !== undefined) again.labels = { ...event.labels };
      if (event.line !== undefined) again.line = event.line;
      this.emittedByMe.add(again);
      hops.set(again, hop);
      return { event: again, keep: rule.keep, bytes: size };
    }
    return undefined;
  }

  private emit(events: LogEvent[], bytes: number, flow: FilterFlow): void {
    this.emitted.inc(events.length);
    this.inFlightBytes += bytes;
    this.inFlight.set(this.inFlightBytes);
    const done = () => {
      this.inFlightBytes -= bytes;
      this.inFlight.set(this.inFlightBytes);
    };
    const failed = (err: unknown) => {
      done();
      this.logOnce('error', () => this.ctx.log.error({ err: String(err) }, 're-emitted records could not be queued (logged once)'));
    };
    try {
      this.ctx.emit(events, [flow.hold()]).then(done, failed);
    } catch (err) {
      failed(err);
    }
  }

  private refuse(why: NotEmitted, tag: string): void {
    this.notEmitted[why].inc();
    this.logOnce(why, () => this.ctx.log.warn({ tag }, `${WHY[why]} (logged once; see floki_filter_rewrite_tag_not_emitted_records_total)`));
  }

  private logOnce(what: NotEmitted | 'error', log: () => void): void {
    if (this.logged.has(what)) return;
    this.logged.add(what);
    log();
  }
}
