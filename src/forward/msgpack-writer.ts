/**
 * Writes the forward protocol's framing as msgpack into one growing buffer: array and map headers,
 * strings, bin headers, unsigned integers, EventTime, and bytes that are msgpack already (records
 * packed elsewhere, or kept as the bytes they arrived in). A frame is built in place, with no
 * intermediate objects, and copied out once (or sent as a view of the writer's buffer).
 */
import { EVENT_TIME_EXT_TYPE } from './event-time.js';

const NS_PER_SECOND = 1_000_000_000n;
const MAX_UINT32 = 0xffff_ffff;
/** The first ns an EventTime cannot hold (its seconds are a uint32). */
const EVENT_TIME_END_NS = (BigInt(MAX_UINT32) + 1n) * NS_PER_SECOND;

/**
 * The second of the last EventTime written, [from, to) in ns: a frame's entries mostly share their
 * second, and a subtraction is cheaper than the two bigint divisions (a node agent forwarding 300k
 * events spent 5% of its CPU in them).
 */
let secondFrom = 1n;
let secondTo = 0n;
let secondValue = 0;

/** Gives the buffer a writer grows into: at least `need` bytes; `current` is the one it outgrew. */
export type WriterAllocator = (need: number, current: Buffer) => Buffer;

const doubling: WriterAllocator = (need, current) => Buffer.allocUnsafe(Math.max(need, current.length * 2));

export class MsgpackWriter {
  private buf: Buffer;
  /** Bytes written so far. */
  length = 0;

  /** `allocate`: where a bigger buffer comes from when the writer outgrows its own (a pool); doubling by default. */
  constructor(
    initialBytes = 64 * 1024,
    private readonly allocate: WriterAllocator = doubling,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** The buffer written into (its first `length` bytes are the writer's), to give back to a pool. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Leaves `n` bytes unwritten, to be filled later through view() (a header whose size is known at the end). */
  skip(n: number): void {
    this.room(n);
    this.length += n;
  }

  /** The bytes written, as a view of the writer's buffer (valid until the next write or reset). */
  view(start = 0, end = this.length): Buffer {
    return this.buf.subarray(start, end);
  }

  /** The bytes written, copied out. */
  copy(start = 0, end = this.length): Buffer {
    return Buffer.from(this.buf.subarray(start, end));
  }

  reset(): void {
    this.length = 0;
  }

  /** Writes an array header for `n` elements. */
  arrayHeader(n: number): void {
    this.header(n, 0x90, 0xdc, 0xdd);
  }

  mapHeader(n: number): void {
    this.header(n, 0x80, 0xde, 0xdf);
  }

  /** A UTF-8 string. */
  str(s: string): void {
    const bytes = Buffer.byteLength(s, 'utf8');
    this.strHeader(bytes);
    this.room(bytes);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  /** A msgpack str whose bytes are given as they are (Fluent Bit sends its handshake salt this way). */
  strBytes(bytes: Uint8Array): void {
    this.strHeader(bytes.length);
    this.raw(bytes);
  }

  binHeader(n: number): void {
    this.room(5);
    const b = this.buf;
    let p = this.length;
    if (n < 0x100) {
      b[p++] = 0xc4;
      b[p++] = n;
    } else if (n < 0x10000) {
      b[p++] = 0xc5;
      b.writeUInt16BE(n, p);
      p += 2;
    } else {
      b[p++] = 0xc6;
      b.writeUInt32BE(n, p);
      p += 4;
    }
    this.length = p;
  }

  /** A non-negative integer in its shortest form. */
  uint(n: number): void {
    this.room(9);
    const b = this.buf;
    let p = this.length;
    if (n < 0x80) b[p++] = n;
    else if (n < 0x100) {
      b[p++] = 0xcc;
      b[p++] = n;
    } else if (n < 0x10000) {
      b[p++] = 0xcd;
      b.writeUInt16BE(n, p);
      p += 2;
    } else if (n <= MAX_UINT32) {
      b[p++] = 0xce;
      b.writeUInt32BE(n, p);
      p += 4;
    } else {
      b[p++] = 0xcf;
      b.writeBigUInt64BE(BigInt(n), p);
      p += 8;
    }
    this.length = p;
  }

  bool(v: boolean): void {
    this.room(1);
    this.buf[this.length++] = v ? 0xc3 : 0xc2;
  }

  /**
   * EventTime (ext type 0, fixext 8: uint32 seconds, uint32 nanoseconds) from nanoseconds since the
   * epoch. Times the format cannot hold (before 1970, after 2106) are clamped to its range.
   */
  eventTime(ns: bigint): void {
    this.eventTimeOf(ns, -1, 0);
  }

  /**
   * One Forward mode entry, `[EventTime, record]`, or `[[EventTime, metadata], record]` when
   * `metadata` is given: the same bytes as the header, time and raw calls would write, with one
   * check for room and no view allocated per entry (a node agent writes one entry per event). The
   * time is `seconds` and `nanos` when `seconds` is not negative (an EventTime's parts as they arrived,
   * which `ns` then need not be), else `ns`.
   */
  forwardEntry(ns: bigint, seconds: number, nanos: number, metadata: Uint8Array | undefined, record: Uint8Array, start: number, end: number): void {
    const n = end - start;
    const m = metadata === undefined ? 0 : metadata.length;
    this.room(12 + m + n);
    const b = this.buf;
    let p = this.length;
    b[p++] = 0x92;
    if (metadata !== undefined) b[p++] = 0x92;
    p = this.writeEventTime(ns, seconds, nanos, p);
    if (m === 1) b[p++] = metadata![0]!;
    else if (m > 0) {
      b.set(metadata!, p);
      p += m;
    }
    b.set(span(record, start, end), p);
    this.length = p + n;
  }

  /** Whole seconds (Fluent Bit's `time_as_integer`, Fluentd v0.12), clamped like `eventTime`; `seconds` instead when not negative. */
  integerTime(ns: bigint, seconds = -1): void {
    this.uint(seconds >= 0 ? seconds : eventTimeParts(ns)[0]);
  }

  /** EventTime of `seconds` and `nanos` (an EventTime's parts, as they arrived) when `seconds` is not negative, else of `ns`. */
  eventTimeOf(ns: bigint, seconds: number, nanos: number): void {
    this.room(10);
    this.length = this.writeEventTime(ns, seconds, nanos, this.length);
  }

  /** Bytes that are one or more whole msgpack values already. */
  raw(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const n = end - start;
    this.room(n);
    this.buf.set(span(bytes, start, end), this.length);
    this.length += n;
  }

  /** EventTime's 10 bytes at `p` (room checked by the caller), as for eventTimeOf; returns the offset past them. */
  private writeEventTime(ns: bigint, wireSeconds: number, wireNanos: number, p: number): number {
    let seconds: number;
    let nanoseconds: number;
    if (wireSeconds >= 0) {
      seconds = wireSeconds;
      nanoseconds = wireNanos;
    } else if (ns >= secondFrom && ns < secondTo) {
      seconds = secondValue;
      nanoseconds = Number(ns - secondFrom);
    } else {
      [seconds, nanoseconds] = eventTimeParts(ns);
      if (ns > 0n && ns < EVENT_TIME_END_NS) {
        secondValue = seconds;
        secondFrom = BigInt(seconds) * NS_PER_SECOND;
        secondTo = secondFrom + NS_PER_SECOND;
      }
    }
    const b = this.buf;
    b[p] = 0xd7;
    b[p + 1] = EVENT_TIME_EXT_TYPE;
    b[p + 2] = seconds >>> 24;
    b[p + 3] = seconds >>> 16;
    b[p + 4] = seconds >>> 8;
    b[p + 5] = seconds;
    b[p + 6] = nanoseconds >>> 24;
    b[p + 7] = nanoseconds >>> 16;
    b[p + 8] = nanoseconds >>> 8;
    b[p + 9] = nanoseconds;
    return p + 10;
  }

  private strHeader(n: number): void {
    this.room(5);
    const b = this.buf;
    let p = this.length;
    if (n < 32) b[p++] = 0xa0 | n;
    else if (n < 0x100) {
      b[p++] = 0xd9;
      b[p++] = n;
    } else if (n < 0x10000) {
      b[p++] = 0xda;
      b.writeUInt16BE(n, p);
      p += 2;
    } else {
      b[p++] = 0xdb;
      b.writeUInt32BE(n, p);
      p += 4;
    }
    this.length = p;
  }

  private header(n: number, fix: number, h16: number, h32: number): void {
    this.room(5);
    const b = this.buf;
    let p = this.length;
    if (n < 16) b[p++] = fix | n;
    else if (n < 0x10000) {
      b[p++] = h16;
      b.writeUInt16BE(n, p);
      p += 2;
    } else {
      b[p++] = h32;
      b.writeUInt32BE(n, p);
      p += 4;
    }
    this.length = p;
  }

  private room(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    const grown = this.allocate(need, this.buf);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

/** [seconds, nanoseconds] of an EventTime, clamped to what two uint32 can hold. */
export function eventTimeParts(ns: bigint): [number, number] {
  if (ns <= 0n) return [0, 0];
  const seconds = ns / NS_PER_SECOND;
  if (seconds > BigInt(MAX_UINT32)) return [MAX_UINT32, 999_999_999];
  return [Number(seconds), Number(ns % NS_PER_SECOND)];
}

/** `bytes[start, end)` as a plain Uint8Array view: Buffer's subarray goes through its species constructor, at twice the cost. */
function span(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return start === 0 && end === bytes.length ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}
