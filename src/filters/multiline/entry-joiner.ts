/**
 * What the multiline filter's two modes share: records go in with their tokens, finished entries come
 * out in the order they finished, and unfinished ones can be flushed by age or all at once.
 */
import type { LogEvent } from '../../core/event.js';
import type { Finished, HeldBatch } from './held-lines.js';

export interface EntryJoiner {
  /** Feeds one call's records (each gets a LineToken of `batch`); finished entries go to `out`. */
  append(events: LogEvent[], batch: HeldBatch, nowMs: number, out: Finished[]): void;
  /** Unfinished entries whose last record came `flushMs` or more before `nowMs`, as they are. */
  flushDue(nowMs: number, out: Finished[]): void;
  /** The unfinished entry whose last record is oldest, as it is: the bytes of text it held, undefined when none waits. */
  flushOldest(out: Finished[]): number | undefined;
  /** Every unfinished entry, as it is. */
  flushAll(out: Finished[]): void;
  /** When the next unfinished entry falls due (same clock as `nowMs`), or undefined when none waits. */
  nextDueMs(): number | undefined;
  /** Bytes of text held in unfinished entries. */
  readonly pendingBytes: number;
  readonly pendingEntries: number;
  /** Entries cut at the content limit so far. */
  readonly truncatedEntries: number;
}

/** The event an entry goes on as: its first record's, with the entry's record, time and metadata. */
export function entryEvent(first: LogEvent, record: Record<string, unknown>, time: bigint, metadata: Record<string, unknown> | undefined, lines: number): LogEvent {
  // A record no parser took comes out as it went in: keep the event itself (its exact line, labels).
  if (lines === 1 && record === first.record && metadata === first.metadata) return first;
  const event: LogEvent = { tag: first.tag, time, record };
  if (metadata !== undefined) event.metadata = metadata;
  if (first.labels !== undefined) event.labels = first.labels;
  return event;
}
