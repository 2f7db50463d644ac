/**
 * Builds a file's records in Fluent Bit's key order, and refuses times Loki cannot store.
 *
 * - a line as it is: `{path_key, offset_key, log}` (Fluent Bit packs its keys before the line);
 * - a container runtime's line: `{log, stream, path_key, offset_key}`, `{stream, log, …}` for CRI (the
 *   order of Fluent Bit's docker and cri records, less CRI's `time` and `_p`);
 * - a record a parser or a multiline parser made: its keys, then `path_key`, `offset_key`;
 * - `kubernetes` (floki's, from the file name) always last.
 *
 * A time before 1970 or past 2262 is refused and counted (`time_out_of_range`): Loki cannot store it,
 * and Fluent Bit 5.1.1 drops such a record too ("error packing event"). Stamping it with the time it
 * was read would make a line read again after a restart a second entry.
 */
import { nowNs, type LogEvent } from '../../core/event.js';
import { timeInRange } from '../../core/limits.js';
import type { DecoderCounts } from './decoder-counts.js';
import type { KubernetesMetadata } from './kubernetes-path.js';
import { freezeShared } from '../../labels/shared-map.js';

export interface RecordShape {
  /** Tag of every event of this file. */
  tag: string;
  /** Record key of the line (`key`, default `log`). */
  key: string;
  /** `path_key`: record key that gets `path`. */
  pathKey?: string;
  path: string;
  /** `offset_key`: record key that gets the line's offset in the file. */
  offsetKey?: string;
  kubernetes?: KubernetesMetadata;
}

export class RecordBuilder {
  /** Events built since the last take(). */
  events: LogEvent[] = [];
  private readonly logKey: boolean;
  private readonly plainShape: boolean;
  /**
   * The file's `kubernetes` map, one frozen object its records share (labels/shared-map.ts): the Loki
   * output prints its part of the line and reads its labels once per file, not per record, and no
   * record carries a copy of its own (a filter that changes a record's `kubernetes` sets a new map, as
   * the kubernetes filter does).
   */
  private readonly kubernetes: Readonly<KubernetesMetadata> | undefined;

  constructor(
    private readonly o: RecordShape,
    private readonly counts: DecoderCounts,
  ) {
    this.logKey = o.key === 'log';
    this.plainShape = o.pathKey === undefined && o.offsetKey === undefined && o.kubernetes === undefined;
    this.kubernetes = o.kubernetes === undefined ? undefined : freezeShared({ ...o.kubernetes });
  }

  /** A line as it is; `time` undefined: the time it was read. */
  plain(text: string, time: bigint | undefined, offset: number): void {
    if (this.plainShape && this.logKey) {
      this.push({ log: text }, time);
      return;
    }
    this.push(this.plainRecord(text, offset), time);
  }

  /** The record plain() makes, for a stage that joins records. */
  plainRecord(text: string, offset: number): Record<string, unknown> {
    const record: Record<string, unknown> = {};
    this.addFileKeys(record, offset);
    record[this.o.key] = text;
    if (this.o.kubernetes !== undefined) record.kubernetes = this.kubernetes;
    return record;
  }

  /** A container runtime's line. */
  container(text: string, time: bigint, stream: string, offset: number, cri: boolean): void {
    this.push(this.containerRecord(text, stream, offset, cri), time);
  }

  containerRecord(text: string, stream: string, offset: number, cri: boolean): Record<string, unknown> {
    const o = this.o;
    const kubernetes = this.kubernetes;
    // One literal shape per case keeps V8's objects monomorphic for the output that reads them.
    if (this.logKey && o.pathKey === undefined && o.offsetKey === undefined) {
      if (cri) return kubernetes !== undefined ? { stream, log: text, kubernetes } : { stream, log: text };
      return kubernetes !== undefined ? { log: text, stream, kubernetes } : { log: text, stream };
    }
    const record: Record<string, unknown> = {};
    if (cri) record.stream = stream;
    record[o.key] = text;
    if (!cri) record.stream = stream;
    this.addFileKeys(record, offset);
    if (kubernetes !== undefined) record.kubernetes = kubernetes;
    return record;
  }

  /** A record a parser made (it is the builder's now): path_key and offset_key added after its keys. */
  parsed(record: Record<string, unknown>, time: bigint | undefined, offset: number): void {
    this.decorate(record, offset);
    this.push(record, time);
  }

  /** Adds path_key, offset_key and kubernetes to a record made elsewhere. */
  decorate(record: Record<string, unknown>, offset: number | undefined): void {
    this.addFileKeys(record, offset);
    if (this.o.kubernetes !== undefined) record.kubernetes = this.kubernetes;
  }

  /** Fluent Bit's old multiline record: path_key first, then the record's keys, no offset_key. */
  pathFirst(record: Record<string, unknown>, time: bigint): void {
    const out: Record<string, unknown> = {};
    if (this.o.pathKey !== undefined) out[this.o.pathKey] = this.o.path;
    for (const k of Object.keys(record)) setKey(out, k, record[k]);
    if (this.o.kubernetes !== undefined) out.kubernetes = this.kubernetes;
    this.push(out, time);
  }

  now(): bigint {
    return nowNs();
  }

  push(record: Record<string, unknown>, time: bigint | undefined): void {
    const t = time ?? nowNs();
    if (!timeInRange(t)) {
      this.counts.timeOutOfRange++;
      return;
    }
    this.events.push({ tag: this.o.tag, time: t, record });
  }

  take(): LogEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private addFileKeys(record: Record<string, unknown>, offset: number | undefined): void {
    if (this.o.pathKey !== undefined) setKey(record, this.o.pathKey, this.o.path);
    if (this.o.offsetKey !== undefined && offset !== undefined) setKey(record, this.o.offsetKey, offset);
  }
}

/** Sets a key, `__proto__` included, as an own enumerable property. */
function setKey(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}
