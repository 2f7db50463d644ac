/**
 * Loki's own limits, enforced before an entry is batched, so that Loki never has to refuse a batch
 * for them: every path into Loki (memory, the disk buffer's replay; HTTP and gRPC) goes through
 * `admit`. Per entry this is a time check and one cache lookup; the label checks run once per
 * distinct label string.
 *
 * - time: outside the int64 nanoseconds Loki keeps (years 1677 to 2262), the entry is dropped and
 *   counted (`invalid_timestamp`);
 * - labels (Loki's `max_label_names_per_series` 15, `max_label_name_length` 1024,
 *   `max_label_value_length` 2048 bytes): a label past a limit leaves the stream's labels;
 * - cardinality: at most `label_values_limit` distinct values per label name within
 *   `label_values_window`; a new value past it leaves the stream's labels (so 10,000 values of one
 *   label make a bounded number of streams, not 10,000, which Loki's stream limit would refuse).
 *
 * A label that leaves goes to the entry's structured metadata (`label_overflow structured_metadata`,
 * its value cut to `max_label_value_length`), or is dropped (`drop`, for a Loki without structured
 * metadata). Either way it is counted per label and limit (`floki_output_label_limited_total`) and
 * logged once per label and limit. A stream left with no label gets the fallback (`job="floki"`).
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';
import { parseLabelString, renderLabelString } from '../../labels/label-string.js';
import { StringCache, stringBytes } from '../../labels/string-cache.js';
import { truncateUtf8Bytes } from './utf8.js';

export type LabelLimit = 'label_count' | 'name_length' | 'value_length' | 'cardinality';
export type LabelOverflow = 'structured_metadata' | 'drop';

export interface LokiLimitsOptions {
  maxLabelNames: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  /** Distinct values per label name within the window; 0: no limit. */
  labelValuesLimit: number;
  labelValuesWindowMs: number;
  /** Bytes the cardinality guard may hold (default 16 MiB). */
  guardBytes?: number;
  overflow: LabelOverflow;
  /** Label names in the order they are kept when a stream has too many (the configured ones); others follow, by name. */
  priority: readonly string[];
  fallback: readonly [name: string, value: string];
  metrics: Metrics;
  /** The output's name (metric label). */
  name: string;
  log: Logger;
}

/** What a label string becomes: the labels to send, and the pairs each entry of it carries as structured metadata. */
export interface StreamVerdict {
  readonly labels: string;
  readonly moved: Readonly<Record<string, string>> | undefined;
  /** One counter per label that left, incremented per entry. */
  readonly counters: readonly Counter.Internal[];
  /** Date.now() when decided: the cardinality guard is asked again after half a window. */
  readonly at: number;
}

/** Verdicts kept, in bytes; a label string longer than this many characters is decided every time. */
const VERDICT_CACHE_BYTES = 8 * 1024 * 1024;
const VERDICT_MAX_KEY_CHARS = 64 * 1024;
/** Bytes the cardinality guard may hold: a value is a hash (about 40 bytes in a Map), a name its text. */
const GUARD_MAX_BYTES = 16 * 1024 * 1024;
const GUARD_VALUE_BYTES = 40;
const GUARD_NAME_BYTES = 200;
/** Labels and limits logged so far: past this many, no more "first time" lines. */
const MAX_LOGGED = 1000;

export class LokiLimits {
  private readonly verdicts = new StringCache<StreamVerdict>(VERDICT_CACHE_BYTES, verdictBytes, VERDICT_MAX_KEY_CHARS);
  private readonly guard: CardinalityGuard | undefined;
  private readonly counter: Counter<string>;
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly logged = new Set<string>();
  private readonly rank: ReadonlyMap<string, number>;
  private readonly refreshMs: number;
  private badTimesUnlogged = 0;
  private lastBadTimeLog = 0;

  constructor(private readonly options: LokiLimitsOptions) {
    this.counter = options.metrics.counter(
      'floki_output_label_limited_total',
      'Entries sent with a label taken out of their stream (to structured metadata, or dropped) because it would break a Loki limit, by label and limit',
      ['name', 'label', 'limit'],
    );
    this.guard = options.labelValuesLimit > 0 ? new CardinalityGuard(options.labelValuesLimit, options.labelValuesWindowMs, options.guardBytes ?? GUARD_MAX_BYTES) : undefined;
    this.rank = new Map(options.priority.map((name, i) => [name, i]));
    this.refreshMs = Math.max(1, Math.floor(options.labelValuesWindowMs / 2));
  }

  /** Bytes the cardinality guard holds (0 without one). */
  get guardBytes(): number {
    return this.guard?.heldBytes ?? 0;
  }

  /** The stream an entry with this label string goes to; `now` is Date.now(), read once per write. */
  streamFor(labels: string, now: number): StreamVerdict {
    let verdict = this.verdicts.get(labels);
    if (verdict === undefined || (this.guard !== undefined && now - verdict.at >= this.refreshMs)) {
      verdict = this.decide(labels, now);
      this.verdicts.set(labels, verdict);
    }
    return verdict;
  }

  /** An entry's time was outside what Loki keeps: count it (the caller drops it), log at most every 10 s. */
  badTime(ts: bigint, drop: (n: number) => void): void {
    drop(1);
    const now = Date.now();
    if (now - this.lastBadTimeLog < 10_000) {
      this.badTimesUnlogged++;
      return;
    }
    this.lastBadTimeLog = now;
    const earlier = this.badTimesUnlogged;
    this.badTimesUnlogged = 0;
    this.options.log.error(
      { timestamp: ts.toString(), ...(earlier > 0 ? { droppedSinceLastLog: earlier } : {}) },
      'loki: dropping an entry whose time Loki cannot hold (outside 1677-09-21 to 2262-04-11) (logged at most every 10s; see floki_output_dropped_records_total{reason="invalid_timestamp"})',
    );
  }

  private decide(labels: string, now: number): StreamVerdict {
    let pairs: Record<string, string>;
    try {
      pairs = parseLabelString(labels);
    } catch {
      // Not a label string floki rendered (a disk buffer from elsewhere): sent as it is.
      return { labels, moved: undefined, counters: [], at: now };
    }
    const o = this.options;
    const names = Object.keys(pairs).sort((a, b) => (this.rank.get(a) ?? Infinity) - (this.rank.get(b) ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0));
    const kept = new Map<string, string>();
    let moved: Record<string, string> | undefined;
    const counters: Counter.Internal[] = [];
    const leave = (name: string, value: string, limit: LabelLimit, detail: string): void => {
      if (o.overflow === 'structured_metadata') {
        (moved ??= {})[name.slice(0, o.maxLabelNameLength)] = truncateUtf8Bytes(value, o.maxLabelValueLength);
      }
      counters.push(this.counterFor(name, limit));
      this.logOnce(name, limit, detail);
    };
    for (const name of names) {
      const value = pairs[name]!;
      if (name.length > o.maxLabelNameLength) leave(name, value, 'name_length', `its name is longer than max_label_name_length (${o.maxLabelNameLength})`);
      else if (value.length > o.maxLabelValueLength || Buffer.byteLength(value) > o.maxLabelValueLength) {
        leave(name, value, 'value_length', `a value is longer than max_label_value_length (${o.maxLabelValueLength} bytes)`);
      } else if (kept.size >= o.maxLabelNames) leave(name, value, 'label_count', `a stream has more than max_label_names (${o.maxLabelNames}) labels`);
      else if (this.guard !== undefined && !this.guard.admit(name, value, now)) {
        leave(name, value, 'cardinality', `it has more than label_values_limit (${o.labelValuesLimit}) values within label_values_window (${o.labelValuesWindowMs / 1000}s)`);
      } else kept.set(name, value);
    }
    if (counters.length === 0) return { labels, moved: undefined, counters, at: now };
    if (kept.size === 0) kept.set(o.fallback[0], o.fallback[1]);
    return { labels: renderLabelString(kept), moved, counters, at: now };
  }

  private counterFor(label: string, limit: LabelLimit): Counter.Internal {
    const key = `${limit}\u0000${label}`;
    let c = this.counters.get(key);
    if (c === undefined) {
      c = this.counter.labels({ name: this.options.name, label, limit });
      if (this.counters.size < MAX_LOGGED) this.counters.set(key, c);
    }
    return c;
  }

  private logOnce(label: string, limit: LabelLimit, why: string): void {
    const key = `${limit}\u0000${label}`;
    if (this.logged.has(key) || this.logged.size >= MAX_LOGGED) return;
    this.logged.add(key);
    const where = this.options.overflow === 'structured_metadata' ? 'moved to structured metadata' : 'dropped from the labels';
    this.options.log.warn(
      { label: label.length > 256 ? `${label.slice(0, 256)}…` : label, limit },
      `loki: label '${label.length > 64 ? `${label.slice(0, 64)}…` : label}' ${where} where ${why}, so that Loki does not refuse its entries (logged once per label and limit; see floki_output_label_limited_total)`,
    );
  }
}

function verdictBytes(v: StreamVerdict): number {
  let n = stringBytes(v.labels) + 8 * v.counters.length;
  if (v.moved !== undefined) for (const name in v.moved) n += stringBytes(name) + stringBytes(v.moved[name]!);
  return n;
}

/**
 * Distinct values per label name seen within a window, kept as 32-bit hashes in insertion order of
 * last sight (a Map re-inserted on each sight), so the expired ones sit at the front. A hash collision
 * counts a new value as seen: the limit may then let one more through, never fewer.
 */
class CardinalityGuard {
  private readonly byName = new Map<string, Map<number, number>>();
  private bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxBytes: number,
  ) {}

  /** Accounted bytes held. */
  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * True when `value` may be a label of `name` now (it was seen within the window, or there is room).
   * Past `maxBytes` (a flood of label names), new names and values are not admitted until old
   * ones expire: their labels leave the stream, which is what the guard is for.
   */
  admit(name: string, value: string, now: number): boolean {
    let seen = this.byName.get(name);
    if (seen === undefined) {
      const cost = GUARD_NAME_BYTES + 2 * name.length;
      if (this.bytes + cost + GUARD_VALUE_BYTES > this.maxBytes) this.expireAll(now);
      if (this.bytes + cost + GUARD_VALUE_BYTES > this.maxBytes) return false;
      seen = new Map();
      this.byName.set(name, seen);
      this.bytes += cost;
    }
    const h = hash(value);
    if (seen.has(h)) {
      seen.delete(h);
      seen.set(h, now);
      return true;
    }
    if (seen.size >= this.limit) this.expire(seen, now);
    if (seen.size >= this.limit) return false;
    if (this.bytes + GUARD_VALUE_BYTES > this.maxBytes) this.expireAll(now);
    if (this.bytes + GUARD_VALUE_BYTES > this.maxBytes) return false;
    seen.set(h, now);
    this.bytes += GUARD_VALUE_BYTES;
    return true;
  }

  private expire(seen: Map<number, number>, now: number): void {
    const oldest = now - this.windowMs;
    for (const [h, at] of seen) {
      if (at > oldest) break;
      seen.delete(h);
      this.bytes -= GUARD_VALUE_BYTES;
    }
  }

  private expireAll(now: number): void {
    for (const [name, seen] of this.byName) {
      this.expire(seen, now);
      if (seen.size === 0) {
        this.byName.delete(name);
        this.bytes -= GUARD_NAME_BYTES + 2 * name.length;
      }
    }
  }
}

/** FNV-1a over UTF-16 code units. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
