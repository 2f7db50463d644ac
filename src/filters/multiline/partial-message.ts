/**
 * `mode partial_message` (Fluent Bit's ml_concat.c): Docker's fluentd log driver sends a line longer
 * than its buffer as pieces marked `partial_message: "true"`, with a `partial_id` shared by the pieces
 * and `partial_last: "true"` on the last. The pieces of one line (by tag and partial_id) are joined:
 * the entry is the first piece's record without the `partial_*` keys and the content key, then the
 * content key last with the pieces' text concatenated, at the first piece's time. A record that is
 * not a piece (or is one without a partial_id or a string content) goes on as it is.
 *
 * Bounds Fluent Bit does not have: a joined line holds at most 2 MiB of text (past it, it is cut and
 * sent at once, marked `multiline_truncated`), and an unfinished one is sent `flush_ms` after its last
 * piece (Fluent Bit checks every flush_ms / 2).
 */
import type { LogEvent } from '../../core/event.js';
import { putKey } from '../../parsers/formats/parser-settings.js';
import { MultilineGroup } from '../../parsers/multiline/multiline-group.js';
import { DEFAULT_BUFFER_LIMIT } from '../../parsers/multiline/multiline-joiner.js';
import { entryEvent, type EntryJoiner } from './entry-joiner.js';
import { LineToken, type Finished, type HeldBatch } from './held-lines.js';

const PARTIAL_PREFIX = 'partial_';

interface PendingLine {
  key: string;
  first: LogEvent;
  group: MultilineGroup<LineToken>;
}

export class PartialMessageJoiner implements EntryJoiner {
  /** By `tag \0 partial_id`, in the order of their last piece (re-inserted on each): the oldest first. */
  private readonly pending = new Map<string, PendingLine>();
  truncatedEntries = 0;
  /** Pieces that had no partial_id (Fluent Bit warns per record): sent on as they are. */
  withoutId = 0;

  constructor(
    private readonly keyContent: string,
    private readonly flushMs: number,
    private readonly bufferLimit = DEFAULT_BUFFER_LIMIT,
  ) {}

  append(events: LogEvent[], batch: HeldBatch, nowMs: number, out: Finished[]): void {
    const keyContent = this.keyContent;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const token = new LineToken(batch, e);
      const r = e.record;
      if (!isTrue(r.partial_message)) {
        out.push({ event: e, tokens: [token] });
        continue;
      }
      const id = text(r.partial_id);
      const content = text(Object.hasOwn(r, keyContent) ? r[keyContent] : undefined);
      if (id === undefined || content === undefined) {
        if (id === undefined) this.withoutId++;
        out.push({ event: e, tokens: [token] });
        continue;
      }
      const key = `${e.tag}\u0000${id}`;
      let p = this.pending.get(key);
      if (p === undefined) {
        p = { key, first: e, group: new MultilineGroup<LineToken>('') };
        p.group.start(baseRecord(r, keyContent), e.time);
      } else this.pending.delete(key);
      this.pending.set(key, p);
      const whole = p.group.cat(content, this.bufferLimit);
      p.group.take(token, undefined, nowMs);
      if (!whole || isTrue(r.partial_last)) this.finish(p, out);
    }
  }

  flushDue(nowMs: number, out: Finished[]): void {
    for (const p of this.pending.values()) {
      if (nowMs - p.group.lastAppendMs < this.flushMs) break;
      this.finish(p, out);
    }
  }

  flushOldest(out: Finished[]): number | undefined {
    const oldest = this.pending.values().next();
    if (oldest.done === true) return undefined;
    const bytes = oldest.value.group.bytes;
    this.finish(oldest.value, out);
    return bytes;
  }

  flushAll(out: Finished[]): void {
    for (const p of [...this.pending.values()]) this.finish(p, out);
  }

  nextDueMs(): number | undefined {
    const oldest = this.pending.values().next();
    return oldest.done === true ? undefined : oldest.value.group.lastAppendMs + this.flushMs;
  }

  get pendingBytes(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.group.bytes;
    return n;
  }

  get pendingEntries(): number {
    return this.pending.size;
  }

  private finish(p: PendingLine, out: Finished[]): void {
    this.pending.delete(p.key);
    if (p.group.truncated) this.truncatedEntries++;
    const entry = p.group.flush(p.key, this.keyContent, () => p.first.time);
    // An empty text is still the content key (Fluent Bit writes it whatever its length).
    if (!Object.hasOwn(entry.record, this.keyContent)) putKey(entry.record, this.keyContent, '');
    out.push({ event: entryEvent(p.first, entry.record, entry.time, entry.metadata ?? p.first.metadata, entry.lines), tokens: entry.tokens });
  }
}

/** The first piece's record without the content key and the `partial_*` keys. */
function baseRecord(r: Record<string, unknown>, keyContent: string): Record<string, unknown> {
  const base: Record<string, unknown> = {};
  for (const k of Object.keys(r)) if (k !== keyContent && !k.startsWith(PARTIAL_PREFIX)) putKey(base, k, r[k]);
  return base;
}

/** Fluent Bit's test: a value starting with `true` in any case (a JSON true too). */
function isTrue(v: unknown): boolean {
  if (v === true) return true;
  const s = text(v);
  return s !== undefined && s.length >= 4 && s.slice(0, 4).toLowerCase() === 'true';
}

/** A string, or a binary value's UTF-8 text (msgpack bin from a forward client). */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return undefined;
}
