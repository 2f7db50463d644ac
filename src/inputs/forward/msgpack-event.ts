import { Unpackr } from 'msgpackr';
import { NS_PER_SECOND, type LogEvent, type MsgpackRecord } from '../../core/event.js';
import { registerForwardExtensions } from '../../forward/msgpack-extensions.js';
import type { PrintedFields } from '../../msgpack/printed-fields.js';

registerForwardExtensions();

/** Entries mostly share their second: its bigint is made once. */
let lastSeconds = -1;
let lastSecondsNs = 0n;

function wireTimeNs(seconds: number, nanos: number): bigint {
  if (seconds !== lastSeconds) {
    lastSeconds = seconds;
    lastSecondsNs = BigInt(seconds) * NS_PER_SECOND;
  }
  return nanos === 0 ? lastSecondsNs : lastSecondsNs + BigInt(nanos);
}

/**
 * Records are read as plain objects; int64 values as numbers, since records end up as JSON (a bigint
 * there throws) and the forward protocol's own integers (seconds, size) fit in a double.
 * `structuredClone: false` turns off msgpackr's reference extensions, which a client could abuse.
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', structuredClone: false });

/**
 * An event from a packed forward entry whose record is still the msgpack bytes it arrived as (see
 * `LogEvent.msgpack`). The record is decoded the first time something reads it; from then on
 * `msgpack` is undefined, since the object may be changed and the bytes would no longer say it.
 *
 * Only records the input checked to be plain msgpack (no ext types, scalar map keys, nesting up to
 * 64: see msgpack/value-end.ts) are kept this way, so decoding them later cannot meet an error the
 * input would have reported.
 */
export class MsgpackEvent implements LogEvent, MsgpackRecord {
  tag: string;
  /**
   * The entry's time as it arrived, while `time` was never set: whole seconds (an EventTime's or an
   * integer's, at least 1) and nanoseconds. `wireSeconds` is -1 once `time` is set (or when the event
   * was made from a bigint). An output that writes the time back as it came reads these, not `time`:
   * a node agent forwarding an event then makes no bigint for it.
   */
  wireSeconds: number;
  wireNanos: number;
  metadata: Record<string, unknown> | undefined = undefined;
  labels: Record<string, string> | undefined = undefined;
  line: string | undefined = undefined;
  /** The record's bytes: `buf[start, end)`. */
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  /** Something read `json` (printed or not): see json-demand.ts. */
  jsonWanted = false;
  /** Set by a TranscodePool with `json`: the record's PRINTED_FIELDS (msgpack/printed-fields.ts), when the thread kept them. */
  printedFields: PrintedFields | undefined = undefined;
  /** Set by a TranscodePool with `json`: its UTF-8 length, when known (-1: not). */
  printedBytes = -1;
  private printed: string | undefined = undefined;
  private decoded: Record<string, unknown> | undefined = undefined;
  /** `time` once made or set. */
  private ns: bigint | undefined;

  /** `time`, or undefined with the time's `seconds` (at least 1) and `nanos` (below 10^9) as they arrived. */
  constructor(tag: string, time: bigint | undefined, buf: Buffer, start: number, end: number, seconds = -1, nanos = 0) {
    this.tag = tag;
    this.ns = time;
    this.wireSeconds = time === undefined ? seconds : -1;
    this.wireNanos = nanos;
    this.buf = buf;
    this.start = start;
    this.end = end;
  }

  get time(): bigint {
    let ns = this.ns;
    if (ns === undefined) {
      ns = wireTimeNs(this.wireSeconds, this.wireNanos);
      this.ns = ns;
    }
    return ns;
  }

  set time(ns: bigint) {
    this.ns = ns;
    this.wireSeconds = -1;
  }

  /** Set by a TranscodePool: the record's JSON text, printed on a worker thread. */
  get json(): string | undefined {
    this.jsonWanted = true;
    return this.printed;
  }

  set json(text: string | undefined) {
    this.printed = text;
  }

  /** `json` without marking it wanted: for checking that a line is the printed text. */
  get printedJson(): string | undefined {
    return this.printed;
  }

  /** The bytes (this event itself: no allocation per read) until the record is built. */
  get msgpack(): MsgpackRecord | undefined {
    return this.decoded === undefined ? this : undefined;
  }

  get record(): Record<string, unknown> {
    let record = this.decoded;
    if (record === undefined) {
      record = unpackr.unpack(this.buf, { start: this.start, end: this.end }) as Record<string, unknown>;
      this.decoded = record;
    }
    return record;
  }

  set record(record: Record<string, unknown>) {
    this.decoded = record;
  }

  /** The event as a plain object (a getter is not an own property: spreading would lose the record). */
  toJSON(): LogEvent {
    return { tag: this.tag, time: this.time, record: this.record, metadata: this.metadata, labels: this.labels, line: this.line };
  }
}
