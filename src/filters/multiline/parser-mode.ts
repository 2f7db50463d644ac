/**
 * `mode parser`: the multiline engine (src/parsers/multiline) on records. Records are joined per tag
 * and per value of their `stream` key, so that stdout lines written between the lines of a stderr
 * trace (as a container's two streams interleave in its log) leave the trace whole; Fluent Bit keys by
 * tag alone and breaks such a trace (the README says so).
 */
import type { LogEvent } from '../../core/event.js';
import { MultilineJoiner, type MultilineEntry } from '../../parsers/multiline/multiline-joiner.js';
import type { MultilineParser } from '../../parsers/registry.js';
import { entryEvent, type EntryJoiner } from './entry-joiner.js';
import { LineToken, type Finished, type HeldBatch } from './held-lines.js';

export class ParserModeJoiner implements EntryJoiner {
  private readonly joiner: MultilineJoiner<LineToken>;
  /** Reused between calls: the engine's entries before they are turned into events. */
  private readonly entries: MultilineEntry<LineToken>[] = [];

  /** `streamBytesLimit`: the streams' keys (tags) and held text together (the joiner's default without). */
  constructor(parsers: readonly MultilineParser[], keyContent: string | undefined, flushMs: number, streamBytesLimit?: number) {
    this.joiner = new MultilineJoiner<LineToken>(parsers, { keyContent, flushMs, streamBytesLimit });
  }

  /** Streams (tag and stream keys) flushed and forgotten to stay within the stream byte limit. */
  get evictedStreams(): number {
    return this.joiner.evictedStreams;
  }

  append(events: LogEvent[], batch: HeldBatch, nowMs: number, out: Finished[]): void {
    const entries = this.entries;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const stream = e.record.stream;
      const key = typeof stream === 'string' ? `${e.tag}\u0000${stream}` : e.tag;
      this.joiner.appendRecord(key, e.record, e.time, new LineToken(batch, e), nowMs, entries, e.metadata);
    }
    this.drain(out);
  }

  flushDue(nowMs: number, out: Finished[]): void {
    this.joiner.flushDue(nowMs, this.entries);
    this.drain(out);
  }

  flushOldest(out: Finished[]): number | undefined {
    const flushed = this.joiner.flushOldest(this.entries);
    this.drain(out);
    return flushed;
  }

  flushAll(out: Finished[]): void {
    this.joiner.flushAll(this.entries);
    this.drain(out);
  }

  nextDueMs(): number | undefined {
    return this.joiner.nextDueMs();
  }

  get pendingBytes(): number {
    return this.joiner.pendingBytes;
  }

  get pendingEntries(): number {
    return this.joiner.pendingEntries;
  }

  get truncatedEntries(): number {
    return this.joiner.truncatedEntries;
  }

  private drain(out: Finished[]): void {
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const first = entry.tokens[0]!.event;
      out.push({ event: entry.dropped ? undefined : entryEvent(first, entry.record, entry.time, entry.metadata, entry.lines), tokens: entry.tokens });
    }
    entries.length = 0;
  }
}
