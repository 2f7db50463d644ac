/**
 * The multiline engine (Fluent Bit's flb_ml): lines go in one at a time under a stream key, finished
 * entries come out. Used by the tail input (`multiline.parser`, key: the file) and the multiline
 * filter (key: the tag, or tag and stream), each owning one joiner:
 *
 *   const joiner = new MultilineJoiner<Token>([registry.multilineParser('cri')!], { bufferLimit });
 *   const out: MultilineEntry<Token>[] = [];
 *   joiner.appendText(fileKey, line, undefined, token, Date.now(), out);      // raw text (tail)
 *   joiner.appendRecord(tag, event.record, event.time, hold, Date.now(), out, event.metadata); // filter
 *   joiner.flushDue(Date.now(), out);   // on a timer (nextDueMs() says when); entries left unfinished
 *   joiner.flushKey(fileKey, out);      // the file was closed
 *   joiner.flushOldest(out);            // over a memory budget: the entry waiting longest goes now
 *   joiner.flushAll(out);               // shutdown
 *
 * The tail input: one key per file (Fluent Bit's stream), lines as text with `time` undefined (now);
 * CRI/docker pieces are best joined as bytes first (inputs/tail/partial-line-joiner.ts keeps a
 * character split between two pieces whole), the stack-trace parsers then run on whole lines.
 * The multiline filter (src/filters/multiline): a token per record says which process() call it came
 * in with (that call's records share one engine hold); entries that come out are returned from
 * process() or sent on with `ctx.pass`, from process() or from a timer calling flushDue(). It keys by
 * tag and the record's `stream`, which keeps each trace whole; keying by tag alone is Fluent Bit's
 * behaviour (stdout lines interleaved into a stderr trace break it).
 *
 * Every appended line ends up in exactly one entry of `out` (now or later), with its token: a caller
 * commits tail offsets or releases filter holds from the entries' `tokens`; an entry marked
 * `dropped` (an empty text line, which Fluent Bit drops) is not sent, but its tokens are done with
 * too. An entry keeps the first line's time and record; its content is the lines joined with "\n"
 * (rules) or as they are (pieces).
 *
 * With several parsers (`multiline.parser docker, cri`) each line goes to the first that takes it,
 * trying the one that took the stream's last line first (Fluent Bit's order). A line no parser takes
 * ends what is pending on its stream and comes out on its own, unchanged (a record) or as `{log: …}`.
 *
 * Bounds: an entry holds at most `bufferLimit` bytes of content (Fluent Bit's multiline_buffer_limit,
 * 2 MiB): past it the content is cut and the entry comes out marked truncated; an entry waits at most
 * `flushMs` after its last line; a stream has at most 6 groups (`key_group` values; more share the
 * default group); streams idle for long are forgotten; and the streams together (their keys, which
 * may be tags as long as a frame, and the content their entries hold) stay within `streamBytesLimit`
 * (32 MiB): past it, the streams used least recently are flushed (their unfinished entries come out
 * as they are) and forgotten, until they take three quarters of it (counted in `evictedStreams`).
 */
import { nowNs } from '../../core/event.js';
import { MultilineGroup, type MultilineEntry } from './multiline-group.js';
import type { MultilineParser, StateRule } from './multiline-parser.js';

export type { MultilineEntry } from './multiline-group.js';

export const DEFAULT_BUFFER_LIMIT = 2 * 1024 * 1024;
const MAX_GROUPS = 6;
/** A stream with nothing pending is forgotten after this many flush timeouts without a line. */
const IDLE_FLUSHES = 10;
export const DEFAULT_STREAM_BYTES_LIMIT = 32 * 1024 * 1024;
/** What a stream costs besides its key (its map entry, its group map, one group): a rough figure. */
const STREAM_OVERHEAD_BYTES = 256;

export interface MultilineJoinerOptions {
  /** Overrides every parser's key_content (the multiline filter's `multiline.key_content`). */
  keyContent?: string;
  keyPattern?: string;
  keyGroup?: string;
  /** How long an unfinished entry waits for its next line; default: the longest of the parsers'. */
  flushMs?: number;
  /** Bytes of content an entry may hold (0: no limit); default 2 MiB. */
  bufferLimit?: number;
  /** Bytes of stream keys and held content, all streams together; default 32 MiB. */
  streamBytesLimit?: number;
}

/** What a joiner's streams hold, in bytes: kept up to date by its instances and groups. */
interface Held {
  bytes: number;
}

interface Stream<T> {
  groups: Map<string, MultilineGroup<T>>;
  lastUsedMs: number;
}

/** One parser in a joiner, with its key overrides and its streams (Fluent Bit's flb_ml_parser_ins). */
class Instance<T> {
  readonly keyContent: string | undefined;
  readonly keyPattern: string | undefined;
  readonly keyGroup: string | undefined;
  readonly streams = new Map<string, Stream<T>>();
  lastKey: string | undefined;

  constructor(
    readonly parser: MultilineParser,
    o: MultilineJoinerOptions,
    private readonly held: Held,
  ) {
    this.keyContent = o.keyContent ?? parser.keyContent;
    this.keyPattern = o.keyPattern ?? parser.keyPattern;
    this.keyGroup = o.keyGroup ?? parser.keyGroup;
  }

  group(key: string, name: string | undefined, nowMs: number): MultilineGroup<T> {
    let s = this.streams.get(key);
    if (s === undefined) {
      this.streams.set(key, (s = { groups: new Map(), lastUsedMs: nowMs }));
      this.held.bytes += streamCost(key);
    }
    s.lastUsedMs = nowMs;
    const gname = name === undefined || (!s.groups.has(name) && s.groups.size >= MAX_GROUPS) ? '' : name;
    let g = s.groups.get(gname);
    if (g === undefined) {
      s.groups.set(gname, (g = new MultilineGroup<T>(gname, this.held)));
      this.held.bytes += gname.length;
    }
    return g;
  }

  /** Forgets a stream (whose entries were flushed). */
  forget(key: string): void {
    const s = this.streams.get(key);
    if (s === undefined) return;
    this.streams.delete(key);
    this.held.bytes -= streamCost(key);
    for (const name of s.groups.keys()) this.held.bytes -= name.length;
    if (this.lastKey === key) this.lastKey = undefined;
  }
}

function streamCost(key: string): number {
  return key.length * 2 + STREAM_OVERHEAD_BYTES;
}

/** A line as one parser sees it. */
interface Line {
  content: string;
  /** What endswith / equal test (key_pattern's value, or the content). */
  pattern: string;
  record: Record<string, unknown> | undefined;
  group: string | undefined;
  time: bigint;
}

export class MultilineJoiner<T = unknown> {
  readonly flushMs: number;
  readonly bufferLimit: number;
  private readonly instances: Instance<T>[];
  private lru: Instance<T> | undefined;
  private readonly pending = new Set<{ inst: Instance<T>; key: string; group: MultilineGroup<T> }>();
  private readonly pendingByGroup = new Map<MultilineGroup<T>, { inst: Instance<T>; key: string; group: MultilineGroup<T> }>();
  private lastSweepMs = 0;
  private readonly now = nowNs;
  /** Entries cut at the buffer limit, since the joiner was made. */
  truncatedEntries = 0;
  readonly streamBytesLimit: number;
  /** Stream keys and held content, in bytes (see streamCost; content as pendingBytes counts it). */
  private readonly held: Held = { bytes: 0 };
  /** Streams flushed and forgotten to stay within streamBytesLimit, since the joiner was made. */
  evictedStreams = 0;

  constructor(parsers: readonly MultilineParser[], options: MultilineJoinerOptions = {}) {
    if (parsers.length === 0) throw new Error('a multiline joiner needs at least one parser');
    this.instances = parsers.map((p) => new Instance<T>(p, options, this.held));
    this.flushMs = options.flushMs ?? Math.max(...parsers.map((p) => p.flushMs));
    this.bufferLimit = options.bufferLimit ?? DEFAULT_BUFFER_LIMIT;
    this.streamBytesLimit = options.streamBytesLimit ?? DEFAULT_STREAM_BYTES_LIMIT;
  }

  /** Bytes the streams take: their keys and the content their entries hold. */
  get streamBytes(): number {
    return this.held.bytes;
  }

  /** A raw text line (the tail input): `time` undefined means now. */
  appendText(key: string, text: string, time: bigint | undefined, token: T, nowMs: number, out: MultilineEntry<T>[]): void {
    this.append(key, text, undefined, time, token, undefined, nowMs, out);
  }

  /** A record (the multiline filter): its content key's value is what is joined. */
  appendRecord(key: string, record: Record<string, unknown>, time: bigint | undefined, token: T, nowMs: number, out: MultilineEntry<T>[], metadata?: Record<string, unknown>): void {
    this.append(key, undefined, record, time, token, metadata, nowMs, out);
  }

  /** Entries whose last line came `flushMs` or more before `nowMs`. */
  flushDue(nowMs: number, out: MultilineEntry<T>[]): void {
    for (const p of this.pending) if (nowMs - p.group.lastAppendMs >= this.flushMs) this.flushGroup(p.inst, p.key, p.group, out);
    if (nowMs - this.lastSweepMs >= this.flushMs) {
      this.lastSweepMs = nowMs;
      this.forgetIdle(nowMs);
    }
  }

  /** When the next entry falls due (ms, same clock as `nowMs`), or undefined when nothing waits. */
  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const p of this.pending) {
      const due = p.group.lastAppendMs + this.flushMs;
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  /** Everything pending under `key`, and forget the key (a closed file). */
  flushKey(key: string, out: MultilineEntry<T>[]): void {
    for (const inst of this.instances) {
      this.flushStream(inst, key, out);
      inst.forget(key);
    }
  }

  /**
   * The unfinished entry whose last line is oldest, as it is (a caller over its memory budget).
   * Returns the bytes of content it held (as pendingBytes counts them), or undefined when none waits.
   */
  flushOldest(out: MultilineEntry<T>[]): number | undefined {
    let oldest: { inst: Instance<T>; key: string; group: MultilineGroup<T> } | undefined;
    for (const p of this.pending) if (oldest === undefined || p.group.lastAppendMs < oldest.group.lastAppendMs) oldest = p;
    if (oldest === undefined) return undefined;
    const bytes = oldest.group.bytes || oldest.group.content.length;
    this.flushGroup(oldest.inst, oldest.key, oldest.group, out);
    return bytes;
  }

  /** Everything pending (shutdown). */
  flushAll(out: MultilineEntry<T>[]): void {
    for (const p of [...this.pending]) this.flushGroup(p.inst, p.key, p.group, out);
  }

  /** Bytes of content held, over all entries. */
  get pendingBytes(): number {
    let n = 0;
    for (const p of this.pending) n += p.group.bytes || p.group.content.length;
    return n;
  }

  get pendingEntries(): number {
    return this.pending.size;
  }

  private append(key: string, text: string | undefined, record: Record<string, unknown> | undefined, time: bigint | undefined, token: T, metadata: Record<string, unknown> | undefined, nowMs: number, out: MultilineEntry<T>[]): void {
    this.appendLine(key, text, record, time, token, metadata, nowMs, out);
    if (this.held.bytes > this.streamBytesLimit) this.evict(out);
  }

  /**
   * Flushes and forgets the streams used least recently until they take three quarters of
   * streamBytesLimit (so that a run of new keys does not sort the streams on every line).
   */
  private evict(out: MultilineEntry<T>[]): void {
    const all: { inst: Instance<T>; key: string; lastUsedMs: number }[] = [];
    for (const inst of this.instances) for (const [key, s] of inst.streams) all.push({ inst, key, lastUsedMs: s.lastUsedMs });
    all.sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    const target = this.streamBytesLimit * 0.75;
    for (const { inst, key } of all) {
      if (this.held.bytes <= target) break;
      this.flushStream(inst, key, out);
      inst.forget(key);
      this.evictedStreams++;
    }
  }

  private appendLine(key: string, text: string | undefined, record: Record<string, unknown> | undefined, time: bigint | undefined, token: T, metadata: Record<string, unknown> | undefined, nowMs: number, out: MultilineEntry<T>[]): void {
    const lru = this.lru;
    if (lru !== undefined && lru.lastKey === key && this.tryInstance(lru, key, text, record, time, token, metadata, nowMs, out)) return;
    for (const inst of this.instances) {
      if (inst === lru && lru.lastKey === key) continue;
      if (this.tryInstance(inst, key, text, record, time, token, metadata, nowMs, out)) {
        this.lru = inst;
        inst.lastKey = key;
        return;
      }
    }
    // No parser took it: it ends what is pending on this stream and goes out on its own.
    for (const inst of this.instances) this.flushStream(inst, key, out);
    const first = this.instances[0]!;
    let entryRecord = record;
    let truncated = false;
    if (entryRecord === undefined) {
      const g = new MultilineGroup<T>('');
      truncated = !g.cat(text!, this.bufferLimit);
      g.take(token, metadata, nowMs);
      g.start(undefined, time ?? this.now());
      if (truncated) this.truncatedEntries++;
      out.push(g.flush(key, first.keyContent, this.now));
      return;
    }
    out.push({ key, time: time ?? this.now(), record: entryRecord, metadata, truncated, lines: 1, tokens: [token], dropped: false });
  }

  /** Offers a line to one parser; false when it does not take it. */
  private tryInstance(inst: Instance<T>, key: string, text: string | undefined, record: Record<string, unknown> | undefined, time: bigint | undefined, token: T, metadata: Record<string, unknown> | undefined, nowMs: number, out: MultilineEntry<T>[]): boolean {
    const line = this.lineFor(inst, text, record, time);
    if (line === undefined) return false;
    const p = inst.parser;
    if (p.type === 'endswith' && line.pattern.length < p.matchString.length) return false;
    if (p.type === 'regex') {
      const group = this.peekGroup(inst, key, line.group);
      const rule = this.matchRule(p, group?.state, line.content);
      if (rule === undefined) return false;
      const g = group ?? inst.group(key, line.group, nowMs);
      this.applyRule(inst, key, g, rule, line, token, metadata, nowMs, out);
      return true;
    }
    const g = inst.group(key, line.group, nowMs);
    if (!g.pending) g.start(line.record, line.time);
    if (inst.keyContent === undefined && g.content.length > 0 && !g.endsWithNewline()) g.cat('\n', this.bufferLimit);
    g.cat(line.content, this.bufferLimit);
    g.take(token, metadata, nowMs);
    this.track(inst, key, g);
    if (p.isLast(line.pattern)) this.flushGroup(inst, key, g, out);
    return true;
  }

  /** The line's content, pattern, record and group for this parser, or undefined when it does not apply. */
  private lineFor(inst: Instance<T>, text: string | undefined, record: Record<string, unknown> | undefined, time: bigint | undefined): Line | undefined {
    const sub = inst.parser.parser;
    let rec = record;
    let t = time;
    if (text !== undefined) {
      if (sub === undefined) return { content: text, pattern: text, record: undefined, group: undefined, time: t ?? this.now() };
      const r = sub.parse(text);
      if (r === undefined) return undefined;
      rec = r.record;
      t = r.time ?? t;
    } else if (sub !== undefined) {
      const v = inst.keyContent === undefined ? undefined : record![inst.keyContent];
      if (typeof v !== 'string') return undefined;
      const r = sub.parse(v);
      if (r === undefined) return undefined;
      rec = r.record;
      t = r.time ?? t;
    }
    if (inst.keyContent === undefined) return undefined;
    const content = rec![inst.keyContent];
    if (typeof content !== 'string' || !Object.hasOwn(rec!, inst.keyContent)) return undefined;
    const pattern = inst.keyPattern === undefined ? undefined : rec![inst.keyPattern];
    const group = inst.keyGroup === undefined ? undefined : rec![inst.keyGroup];
    return {
      content,
      pattern: typeof pattern === 'string' ? pattern : content,
      record: rec,
      group: typeof group === 'string' ? group : undefined,
      time: t ?? this.now(),
    };
  }

  private peekGroup(inst: Instance<T>, key: string, name: string | undefined): MultilineGroup<T> | undefined {
    const s = inst.streams.get(key);
    if (s === undefined) return undefined;
    return s.groups.get(name ?? '') ?? (name !== undefined && s.groups.size >= MAX_GROUPS ? s.groups.get('') : undefined);
  }

  /** The continuation rule of the current state that matches, else a start rule that matches. */
  private matchRule(p: MultilineParser, state: StateRule | undefined, content: string): StateRule | undefined {
    if (state !== undefined) {
      for (const r of state.next) if (!r.start && r.regex.test(content)) return r;
    }
    return p.startRule(content);
  }

  private applyRule(inst: Instance<T>, key: string, g: MultilineGroup<T>, rule: StateRule, line: Line, token: T, metadata: Record<string, unknown> | undefined, nowMs: number, out: MultilineEntry<T>[]): void {
    if (!rule.start) {
      if (g.content.length > 0 && !g.endsWithNewline()) g.cat('\n', this.bufferLimit);
      if (line.content.length === 0) g.cat('\n', this.bufferLimit);
      if (!g.pending) g.start(line.record, line.time);
      const whole = g.cat(line.content, this.bufferLimit);
      g.take(token, metadata, nowMs);
      this.track(inst, key, g);
      if (!whole) {
        // Cut at the limit: out now, and the lines after it start afresh.
        this.flushGroup(inst, key, g, out);
        g.state = undefined;
        return;
      }
    } else {
      if (g.pending) this.flushGroup(inst, key, g, out);
      g.start(line.record, line.time);
      g.cat(line.content, this.bufferLimit);
      g.take(token, metadata, nowMs);
      this.track(inst, key, g);
    }
    g.state = rule;
    if (rule.endsEntry && g.pending) this.flushGroup(inst, key, g, out);
  }

  private track(inst: Instance<T>, key: string, group: MultilineGroup<T>): void {
    if (this.pendingByGroup.has(group)) return;
    const p = { inst, key, group };
    this.pending.add(p);
    this.pendingByGroup.set(group, p);
  }

  private flushGroup(inst: Instance<T>, key: string, g: MultilineGroup<T>, out: MultilineEntry<T>[]): void {
    const p = this.pendingByGroup.get(g);
    if (p !== undefined) {
      this.pending.delete(p);
      this.pendingByGroup.delete(g);
    }
    if (!g.pending) return;
    if (g.truncated) this.truncatedEntries++;
    out.push(g.flush(key, inst.keyContent, this.now));
  }

  private flushStream(inst: Instance<T>, key: string, out: MultilineEntry<T>[]): void {
    const s = inst.streams.get(key);
    if (s === undefined) return;
    for (const g of s.groups.values()) this.flushGroup(inst, key, g, out);
  }

  private forgetIdle(nowMs: number): void {
    const idle = this.flushMs * IDLE_FLUSHES;
    for (const inst of this.instances) {
      for (const [key, s] of inst.streams) {
        if (nowMs - s.lastUsedMs < idle) continue;
        let busy = false;
        for (const g of s.groups.values()) if (g.pending) busy = true;
        if (!busy) inst.forget(key);
      }
    }
  }
}
