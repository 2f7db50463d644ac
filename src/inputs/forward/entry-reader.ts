/**
 * A forward frame's entries made events, with the checks every entry gets before its chunk can be
 * acked: a time Loki can store (core/limits.ts; an EventTime always is, an integer or a float may not
 * be) and a record nested no deeper than the limit (frame-nesting.ts marks those decoded; the packed
 * walk finds the others). Entries refused are counted by reason for the frame; the others go on.
 */
import { NS_PER_SECOND, nowNs, secondsToNs, type LogEvent } from '../../core/event.js';
import { MAX_TIME_NS, MAX_TIME_SECONDS } from '../../core/limits.js';
import { measureValue, type Measured } from '../../msgpack/measure.js';
import { NOT_PLAIN, plainValueEnd, TOO_DEEP as TOO_DEEP_RECORD, TRUNCATED, uint32 } from '../../msgpack/value-end.js';
import { ForwardProtocolError } from '../../forward/protocol-error.js';
import { EventTime } from '../../forward/event-time.js';
import { TOO_DEEP, unpackPackedEntries } from './frame-nesting.js';
import { MsgpackEvent } from './msgpack-event.js';

/** Fluent Bit's group markers (OTel grouping) use these times; they carry no log line. */
const GROUP_START = -1;
const GROUP_END = -2;

export class ForwardEntryReader {
  /** Entries of the frame being read that were refused, by reason (ForwardFrame's counts). */
  invalid = 0;
  outOfRange = 0;
  tooDeep = 0;
  private readonly measured: Measured = { levels: 0 };
  /** Entries of one chunk mostly share their second: its bigint is computed once. */
  private lastSeconds = -1;
  private lastSecondsNs = 0n;
  /** "Now" for entries with time 0 or nil, taken once per frame. */
  private frameNow = -1n;
  /** Set by plainTime: where the time it read ends, and its nanoseconds. */
  private timeEnd = 0;
  private timeNanos = 0;

  startFrame(): void {
    this.frameNow = -1n;
    this.invalid = this.outOfRange = this.tooDeep = 0;
  }

  /**
   * PackedForward entries, most of them without decoding the records: an entry `[time, map]` (or
   * `[[time, {}], map]`, v1.5 with empty metadata, as Fluent Bit 5 chunks hold them) whose
   * time is an EventTime or an integer and whose map is plain msgpack becomes a MsgpackEvent over the
   * map's bytes; one whose map nests too deeply is refused on the way. From the first entry that is
   * anything else, msgpackr decodes the rest. Returns the number of entries.
   */
  addPackedEntries(events: LogEvent[], tag: string, bytes: Buffer): number {
    const end = bytes.length;
    let p = 0;
    let count = 0;
    while (p < end) {
      const seconds = bytes[p] === 0x92 ? this.entryTime(bytes, p + 1, end) : -1;
      const recordAt = this.timeEnd;
      const h = seconds < 0 ? 0 : bytes[recordAt]!;
      // A map (fixmap, map 16, map 32) of plain msgpack.
      let recordEnd = (h >= 0x80 && h <= 0x8f) || h === 0xde || h === 0xdf ? plainValueEnd(bytes, recordAt, end) : NOT_PLAIN;
      if (recordEnd === TOO_DEEP_RECORD) {
        // The walk stopped at the limit; the rest of the record is only skipped.
        recordEnd = measureValue(bytes, recordAt, end, 0, this.measured);
        if (recordEnd >= 0) {
          this.tooDeep++;
          count++;
          p = recordEnd;
          continue;
        }
      }
      if (recordEnd === TRUNCATED) throw new ForwardProtocolError('packed entries are not valid msgpack: the last entry is truncated');
      if (recordEnd < 0) {
        const rest = p === 0 ? bytes : bytes.subarray(p);
        const entries = unpackPackedEntries(rest, this.measured);
        this.addEntries(events, tag, entries);
        return count + entries.length;
      }
      events.push(new MsgpackEvent(tag, undefined, bytes, recordAt, recordEnd, seconds, this.timeNanos));
      count++;
      p = recordEnd;
    }
    return count;
  }

  /**
   * Forward mode's `count` entries, which MsgpackObjectScanner walked and found all plain
   * (plain-entry.ts), as MsgpackEvents over their records' bytes: the first starts `at` bytes past
   * `origin`, each ends `ends[i]` bytes past it. Returns where the last one ends.
   */
  addWalkedEntries(events: LogEvent[], tag: string, bytes: Buffer, origin: number, at: number, ends: Uint32Array, count: number): number {
    let p = origin + at;
    for (let i = 0; i < count; i++) {
      const recordEnd = origin + ends[i]!;
      const seconds = this.entryTime(bytes, p + 1, recordEnd);
      events.push(new MsgpackEvent(tag, undefined, bytes, this.timeEnd, recordEnd, seconds, this.timeNanos));
      p = recordEnd;
    }
    return p;
  }

  /**
   * An entry's time at `p`, plain (plainTime) or v1.5 `[time, {}]` whose metadata is empty (the
   * general path drops empty metadata too): its seconds, with `timeNanos` set and `timeEnd` past it
   * (and the metadata); -1 else.
   */
  private entryTime(buf: Buffer, p: number, end: number): number {
    if (buf[p] !== 0x92) return this.plainTime(buf, p, end);
    const seconds = this.plainTime(buf, p + 1, end);
    if (seconds < 0 || buf[this.timeEnd] !== 0x80) return -1;
    this.timeEnd++;
    return seconds;
  }

  /**
   * The time at `p` when it is an EventTime (ext type 0, as fixext 8 or ext 8) or a positive integer:
   * its seconds (at least 1), with `timeNanos` set and `timeEnd` past it; -1 for anything else (read
   * by the general path). No bigint is made: MsgpackEvent makes `time` if something reads it.
   */
  private plainTime(buf: Buffer, p: number, end: number): number {
    const h = buf[p];
    let seconds: number;
    let nanos = 0;
    if (h === 0xd7 && buf[p + 1] === 0x00 && p + 10 <= end) {
      seconds = uint32(buf, p + 2);
      nanos = uint32(buf, p + 6);
      this.timeEnd = p + 10;
    } else if (h === 0xc7 && buf[p + 1] === 8 && buf[p + 2] === 0x00 && p + 11 <= end) {
      seconds = uint32(buf, p + 3);
      nanos = uint32(buf, p + 7);
      this.timeEnd = p + 11;
    } else if (h !== undefined && h > 0 && h < 0x80) {
      seconds = h;
      this.timeEnd = p + 1;
    } else if (h === 0xce && p + 5 <= end) {
      seconds = uint32(buf, p + 1);
      this.timeEnd = p + 5;
    } else {
      return -1;
    }
    if (seconds === 0 || nanos > 999_999_999) return -1; // "now", or invalid: the general path decides
    this.timeNanos = nanos;
    return seconds;
  }

  /** Entries `[time, record]` decoded by msgpackr or JSON.parse; those refused are counted by reason. */
  addEntries(events: LogEvent[], tag: string, entries: unknown[]): void {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (entry === TOO_DEEP) {
        this.tooDeep++;
        continue;
      }
      if (!Array.isArray(entry) || entry.length !== 2) {
        this.invalid++;
        continue;
      }
      const event = this.event(tag, entry[0], entry[1]);
      if (event) events.push(event);
    }
  }

  /**
   * The event of an entry, or undefined when there is none: the entry is refused and counted by
   * reason (invalid, time out of range, nested too deeply), or it is a Fluent Bit group marker, which
   * carries no log and is dropped silently.
   */
  event(tag: string, time: unknown, record: unknown): LogEvent | undefined {
    if (record === TOO_DEEP || time === TOO_DEEP) {
      this.tooDeep++;
      return undefined;
    }
    let metadata: Record<string, unknown> | undefined;
    if (Array.isArray(time)) {
      // v1.5 entry metadata: [EventTime, {metadata}...]
      if (time.length === 0) return this.refusedInvalid();
      if (time.length > 1) {
        const merged = metadataOf(time);
        if (merged === null) return this.refusedInvalid();
        metadata = merged;
      }
      time = time[0];
    }
    let ns: bigint;
    if (time instanceof EventTime) {
      // Seconds are a uint32: always within what Loki stores.
      if (time.nanoseconds > 999_999_999) return this.refusedInvalid();
      ns = this.secondsNs(time.seconds) + BigInt(time.nanoseconds);
    } else if (typeof time === 'number') {
      if (time === 0) {
        ns = this.now(); // Fluentd reads time 0 as "now"
      } else if (time === GROUP_START || time === GROUP_END) {
        return undefined;
      } else if (!(time > 0 && time < MAX_TIME_SECONDS + 1)) {
        // Before 1970, NaN, infinite, or past what Loki stores: refused, never sent on to fail a whole push.
        this.outOfRange++;
        return undefined;
      } else if (Number.isInteger(time)) {
        ns = this.secondsNs(time);
      } else {
        ns = secondsToNs(time);
        if (ns > MAX_TIME_NS) {
          this.outOfRange++;
          return undefined;
        }
      }
    } else if (time === null || time === undefined) {
      ns = this.now(); // as Fluentd: nil time is "now"
    } else {
      return this.refusedInvalid();
    }
    if (!isMap(record)) return this.refusedInvalid();
    return metadata ? { tag, time: ns, record, metadata } : { tag, time: ns, record };
  }

  private refusedInvalid(): undefined {
    this.invalid++;
    return undefined;
  }

  private secondsNs(seconds: number): bigint {
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastSecondsNs = BigInt(seconds) * NS_PER_SECOND;
    }
    return this.lastSecondsNs;
  }

  private now(): bigint {
    if (this.frameNow < 0n) this.frameNow = nowNs();
    return this.frameNow;
  }
}

/** Merges v1.5 metadata maps ([time, map...]); null if one is not a map. Empty metadata is dropped. */
function metadataOf(time: unknown[]): Record<string, unknown> | undefined | null {
  let merged: Record<string, unknown> | undefined;
  for (let i = 1; i < time.length; i++) {
    const m = time[i];
    if (!isMap(m)) return null;
    for (const _ in m) {
      merged = merged ? Object.assign(merged, m) : m;
      break;
    }
  }
  return merged;
}

function isMap(value: unknown): value is Record<string, unknown> {
  // msgpackr builds maps as object literals; arrays, Buffers and EventTime have other prototypes.
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

