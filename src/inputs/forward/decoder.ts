import { gunzipSync } from 'node:zlib';
import type { LogEvent } from '../../core/event.js';
import { measureValue, type Measured } from '../../msgpack/measure.js';
import { uint32 } from '../../msgpack/value-end.js';
import { ForwardEntryReader } from './entry-reader.js';
import { ForwardProtocolError } from '../../forward/protocol-error.js';
import { EventTime } from '../../forward/event-time.js';
import { boundJsonFrame, FRAME_LEVELS, TOO_DEEP, TooDeep, unpackDeepFrame } from './frame-nesting.js';
import { pingFromJson, pingFromMsgpack, type PingMessage } from '../../forward/ping-message.js';
import { isJsonWhitespace, JsonValueScanner } from './json-scanner.js';
import { unpackr } from './msgpack-event.js';
import { MsgpackObjectScanner } from './msgpack-scanner.js';

export type ForwardMode = 'message' | 'forward' | 'packed' | 'compressed';

/**
 * How a connection encodes its frames: msgpack, or JSON when its first byte is `{` or `[` (as
 * Fluentd's in_forward reads it). Replies (PONG, acks) go back in the same encoding.
 */
export type ForwardFormat = 'msgpack' | 'json';

/** The option map a frame may end with (`size`, `chunk`, `compressed`, Fluent Bit's extras). */
export type ForwardOption = Record<string, unknown>;

/** One decoded forward frame. */
export interface ForwardFrame {
  /** The tag as the client sent it (events carry the tag after `tag` / `tag_prefix`). */
  tag: string;
  mode: ForwardMode;
  events: LogEvent[];
  option: ForwardOption | undefined;
  /**
   * Entries dropped as invalid, as Fluentd's `skip_invalid_event` does: an entry that is not
   * `[time, record]`, a time that is not an EventTime, integer or float, a record that is not a map.
   */
  skipped: number;
  /** Entries refused for a time Loki cannot store: before 1970, at or past 2^63 ns, NaN or infinite. */
  outOfRange: number;
  /** Entries refused for a record (or metadata) nested deeper than MAX_RECORD_NESTING. */
  tooDeep: number;
  /** Size of the frame on the wire. */
  bytes: number;
  /**
   * The option's `fluent_signal` (Fluent Bit): 0 for logs; another signal (1 metrics, 2 traces, …)
   * carries no log entries and its payload is left undecoded.
   */
  signal: number;
}

export interface ForwardFrameDecoderOptions {
  /** Largest frame accepted, and the limit on decompressed entries (Fluent Bit's `buffer_max_size`). */
  bufferMaxSize: number;
  /** Growth step of the buffer of a large frame arriving in pieces while its size is unknown (Fluent Bit's `buffer_chunk_size`). */
  bufferChunkSize?: number;
  /** Replaces every event's tag. */
  tag?: string;
  /** Prefixed to every event's tag (unless `tag` is set). */
  tagPrefix?: string;
}

/** Finds where one frame ends without decoding it: msgpack headers, or JSON nesting. */
interface FrameScanner {
  position: number;
  pending: number;
  reset(start: number): void;
  shift(by: number): void;
  scan(buf: Uint8Array, end: number): boolean;
}

const EMPTY = Buffer.alloc(0);

/** A Forward frame's entries, made events without decoding their records (plainForwardFrame). */
class PlainEntries {
  constructor(readonly events: LogEvent[]) {}
}
/** Past a frame of known size, room for the start of the next one: one socket read. */
const NEXT_FRAME_ROOM = 64 * 1024;

/**
 * Streaming decoder for one forward connection: `push()` each socket read, then call `next()` until it
 * returns undefined. Malformed data throws `ForwardProtocolError`; the decoder is then unusable.
 *
 * Buffering: while nothing is pending a read is decoded in place. An incomplete tail is copied into a
 * buffer the decoder owns, which grows geometrically (or straight to the frame's size once the header
 * of a PackedForward frame's entries is in) and is appended to only past its data end, so bytes that
 * decoded values may still reference (bin values are views, not copies) are never overwritten. It is
 * dropped once everything in it was decoded, so an idle connection holds no buffer.
 */
export class ForwardFrameDecoder {
  private readonly maxSize: number;
  private readonly chunkSize: number;
  private readonly tagOverride: string | undefined;
  private readonly tagPrefix: string;
  private readonly msgpackScanner = new MsgpackObjectScanner();
  private scanner: FrameScanner = this.msgpackScanner;
  /** The scanner, on a JSON connection: it tells how deeply the frame nests. */
  private jsonScanner: JsonValueScanner | undefined;
  private readonly measured: Measured = { levels: 0 };
  private readonly entries = new ForwardEntryReader();
  private formatFound: ForwardFormat | undefined;
  private buf: Buffer = EMPTY;
  private owned = false;
  private start = 0;
  private end = 0;
  private failure: ForwardProtocolError | undefined;

  constructor(options: ForwardFrameDecoderOptions) {
    this.maxSize = options.bufferMaxSize;
    this.chunkSize = Math.min(options.bufferChunkSize ?? 32 * 1024, this.maxSize);
    this.tagOverride = options.tag ? options.tag : undefined;
    this.tagPrefix = options.tagPrefix ?? '';
  }

  /** Bytes received and not yet returned as frames. */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  /**
   * Whether the bytes held already make a whole frame that next() has not returned, or one over
   * buffer_max_size, or bytes next() will refuse: a connection reading ahead stops there. On a JSON
   * connection any byte held counts (its frames are not walked ahead).
   */
  holdsFrame(): boolean {
    if (this.failure !== undefined) return true;
    if (this.start >= this.end) return false;
    if (this.formatFound === 'json') return true;
    try {
      return this.scanner.scan(this.buf, this.end) || this.frameAtLeast() > this.maxSize;
    } catch (err) {
      if (err instanceof ForwardProtocolError) return true; // next() reports it, in order
      throw err;
    }
  }

  /**
   * Bytes this decoder keeps alive: its own buffer whole (sized to the frame being received, and
   * holding frames decoded from it), or the part of a socket read not decoded yet.
   */
  get heldBytes(): number {
    return this.owned ? this.buf.length : this.end - this.start;
  }

  /** Drops what is buffered (the connection is closing): its memory goes with the events that use it. */
  discard(): void {
    this.release();
  }

  /** How large the frame being walked is at least: every value still to walk takes a byte or more. */
  private frameAtLeast(): number {
    return this.scanner.position - this.start + this.scanner.pending;
  }

  /** The connection's encoding, known from its first byte (msgpack until then). */
  get format(): ForwardFormat {
    return this.formatFound ?? 'msgpack';
  }

  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    if (this.formatFound === undefined) {
      const first = chunk[0];
      this.formatFound = first === 0x7b || first === 0x5b ? 'json' : 'msgpack';
      if (this.formatFound === 'json') this.scanner = this.jsonScanner = new JsonValueScanner();
    }
    if (this.start === this.end) {
      this.buf = chunk;
      this.owned = false;
      this.start = 0;
      this.end = chunk.length;
      this.scanner.reset(0);
      return;
    }
    if (this.owned && this.buf.length - this.end >= chunk.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return;
    }
    const held = this.end - this.start;
    const needed = held + chunk.length;
    // A PackedForward frame whose entries' header is in: room for all of its entries and a read's
    // worth more (its option map, the start of the next frame), so the frame is copied once. A Forward
    // frame of plain entries: room for as many entries as it announced, at the average size of those
    // walked, taken when that is a quarter more than needed (a guess that keeps falling short still
    // grows geometrically). Otherwise double, by at least buffer_chunk_size: copying stays linear.
    // Sized by what is held, not by the old buffer, whose front holds frames already decoded: growing
    // from its length ratcheted every buffer up to buffer_max_size.
    const entries = this.formatFound === 'json' ? undefined : packedEntriesRange(this.buf, this.start, this.end);
    let known = entries === undefined ? -1 : entries[1] - this.start;
    if (entries === undefined && this.formatFound !== 'json') {
      const guess = this.msgpackScanner.sizeGuess();
      if (guess >= needed + (needed >> 2)) known = guess;
    }
    const sized = known > held && known <= this.maxSize;
    const wanted = sized ? Math.max(needed, known) + NEXT_FRAME_ROOM : Math.max(2 * needed, held + this.chunkSize);
    const capacity = Math.max(needed, Math.min(wanted, this.maxSize));
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, this.start, this.end);
    chunk.copy(next, held);
    this.scanner.shift(this.start);
    this.buf = next;
    this.owned = true;
    this.start = 0;
    this.end = needed;
  }

  /** The next complete frame, or undefined until more bytes arrive. Heartbeats (nil) are skipped. */
  next(): ForwardFrame | undefined {
    return this.guard(() => {
      const v = this.readValue();
      return v && this.frame(v.value, v.start, v.end);
    });
  }

  /**
   * The next message read as the handshake's PING: `{ ping: undefined }` when the client sent
   * something else (its events, without the handshake), undefined until a whole message arrived.
   */
  nextPing(): { ping: PingMessage | undefined } | undefined {
    return this.guard(() => {
      const v = this.readValue();
      if (!v) return undefined;
      return { ping: this.formatFound === 'json' ? pingFromJson(v.value) : pingFromMsgpack(this.buf, v.start, v.end) };
    });
  }

  private guard<T>(read: () => T): T {
    if (this.failure) throw this.failure;
    try {
      return read();
    } catch (err) {
      if (err instanceof ForwardProtocolError) {
        this.failure = err;
        this.release();
      }
      throw err;
    }
  }

  /** The next complete value (heartbeats skipped) and where its bytes are, or undefined. */
  private readValue(): { value: unknown; start: number; end: number } | undefined {
    const json = this.formatFound === 'json';
    for (;;) {
      if (json) while (this.start < this.end && isJsonWhitespace(this.buf[this.start]!)) this.scanner.reset(++this.start);
      const start = this.start;
      if (start >= this.end) {
        this.release();
        return undefined;
      }
      const complete = this.scanner.scan(this.buf, this.end);
      const atLeast = this.frameAtLeast();
      if (atLeast > this.maxSize) {
        throw new ForwardProtocolError(
          `frame of ${complete ? '' : 'at least '}${atLeast} bytes is larger than buffer_max_size (${this.maxSize} bytes)`,
        );
      }
      if (!complete) return undefined;
      const end = this.scanner.position;
      let value: unknown;
      try {
        value = json ? this.parseJson(start, end) : this.unpack(start, end);
      } catch (err) {
        if (err instanceof ForwardProtocolError) throw err;
        throw new ForwardProtocolError(`invalid ${json ? 'JSON' : 'msgpack'}: ${messageOf(err)}`);
      }
      this.start = end;
      this.scanner.reset(end);
      if (value === null || value === undefined) continue; // heartbeat
      return { value, start, end };
    }
  }

  /** A JSON frame; JSON.parse does not recurse, and a frame nested too deeply has its deep parts replaced. */
  private parseJson(start: number, end: number): unknown {
    const value: unknown = JSON.parse(this.buf.toString('utf8', start, end));
    if (this.jsonScanner!.levels > FRAME_LEVELS) boundJsonFrame(value);
    return value;
  }

  /**
   * A msgpack frame, decoded by msgpackr whole when it nests no deeper than FRAME_LEVELS (a walk of its
   * headers says: for a PackedForward frame, a few of them); else element by element (frame-nesting.ts).
   */
  private unpack(start: number, end: number): unknown {
    const plain = this.plainForwardFrame(start, end);
    if (plain !== undefined) return plain;
    const walked = measureValue(this.buf, start, end, FRAME_LEVELS, this.measured);
    if (walked < 0 || this.measured.levels <= FRAME_LEVELS) return unpackr.unpack(this.buf, { start, end });
    return unpackDeepFrame(this.buf, start, end, this.measured);
  }

  /**
   * A Forward frame `[tag, [entry, ...], option?]` whose entries are all plain (plain-entry.ts) as
   * `[tag, PlainEntries, option]`, its records left as the bytes they arrived in, as PackedForward's
   * are: Fluent Bit's and floki's forward outputs send this mode. The scanner checked the entries as
   * it found the frame's end and kept where each ends. Undefined for anything else, which msgpackr
   * decodes whole as before.
   */
  private plainForwardFrame(start: number, end: number): unknown[] | undefined {
    const scanner = this.msgpackScanner;
    if (!scanner.plainEntries) return undefined;
    const buf = this.buf;
    const tagRange = payloadRange(buf, start + 1, end, false)!;
    const tag = buf.toString('utf8', tagRange[0], tagRange[1]);
    const events: LogEvent[] = [];
    const count = scanner.entryCount;
    const tagged = this.tagOverride ?? this.tagPrefix + tag;
    const entriesEnd = this.entries.addWalkedEntries(events, tagged, buf, start, scanner.entriesAt, scanner.entryEnds, count);
    if (buf[start] === 0x92) return [tag, new PlainEntries(events)];
    // The option map: small, but walked first like any frame so that msgpackr never recurses deeply.
    const walked = measureValue(buf, entriesEnd, end, FRAME_LEVELS, this.measured);
    if (walked !== end || this.measured.levels > FRAME_LEVELS) return undefined;
    return [tag, new PlainEntries(events), unpackr.unpack(buf, { start: entriesEnd, end })];
  }

  private release(): void {
    this.buf = EMPTY;
    this.owned = false;
    this.start = 0;
    this.end = 0;
    this.scanner.reset(0);
  }

  private frame(value: unknown, start: number, end: number): ForwardFrame {
    if (!Array.isArray(value)) throw new ForwardProtocolError(`a frame must be an array (or nil as a heartbeat), got ${describe(value)}`);
    const n = value.length;
    const tag: unknown = value[0];
    if (n < 2) throw new ForwardProtocolError(`a frame must be an array of 2 to 4 elements, got ${n}`);
    if (typeof tag !== 'string') throw new ForwardProtocolError(`the tag (first element) must be a string, got ${describe(tag)}`);
    const eventTag = this.tagOverride ?? this.tagPrefix + tag;
    const second: unknown = value[1];
    const bytes = end - start;
    const reader = this.entries;
    reader.startFrame();
    let events: LogEvent[] = [];
    let option: ForwardOption | undefined;
    let mode: ForwardMode;

    if (second instanceof PlainEntries) {
      // Forward mode, every entry plain (plainForwardFrame).
      option = optionOf(value[2]);
      mode = 'forward';
      const signal = signalOf(option);
      if (signal !== 0) return { tag, mode, events, option, skipped: 0, outOfRange: 0, tooDeep: 0, bytes, signal };
      events = second.events;
      checkSize(option, events.length, -1, -1);
    } else if (second instanceof Uint8Array || typeof second === 'string') {
      // PackedForward: [tag, entries (bin or str), option?]; entries = concatenated [time, record].
      if (n > 3) throw new ForwardProtocolError(`a PackedForward frame has 2 or 3 elements, got ${n}`);
      if (this.formatFound === 'json') {
        throw new ForwardProtocolError('PackedForward entries are msgpack: a JSON connection sends Message or Forward frames');
      }
      option = optionOf(value[2]);
      mode = option?.compressed === 'gzip' ? 'compressed' : 'packed';
      const signal = signalOf(option);
      if (signal !== 0) return { tag, mode, events, option, skipped: 0, outOfRange: 0, tooDeep: 0, bytes, signal };
      // msgpackr decodes a str as UTF-8 text, which would mangle the binary entries: take the raw bytes.
      const packed = typeof second === 'string' ? this.buf.subarray(...packedEntriesRange(this.buf, start, end)!) : second;
      let entriesBytes = packed;
      const compressed = option?.compressed;
      if (compressed === 'gzip') {
        entriesBytes = this.gunzip(packed);
      } else if (compressed !== undefined && compressed !== null && compressed !== 'text') {
        // fluent-logger-node labels uncompressed chunks 'text'.
        throw new ForwardProtocolError(`compressed ${describe(compressed)} is not supported (only gzip)`);
      }
      const count = reader.addPackedEntries(events, eventTag, asBuffer(entriesBytes));
      // fluent-logger-node (v3) sends the entries' byte length (compressed, if so) as `size`: accept it too.
      checkSize(option, count, packed.length, entriesBytes.length);
    } else if (Array.isArray(second) && (second.length === 0 || Array.isArray(second[0]) || second[0] === TOO_DEEP)) {
      // Forward: [tag, [[time, record], ...], option?]
      if (n > 3) throw new ForwardProtocolError(`a Forward frame has 2 or 3 elements, got ${n}`);
      option = optionOf(value[2]);
      mode = 'forward';
      const signal = signalOf(option);
      if (signal !== 0) return { tag, mode, events, option, skipped: 0, outOfRange: 0, tooDeep: 0, bytes, signal };
      checkSize(option, second.length, -1, -1);
      reader.addEntries(events, eventTag, second);
    } else {
      // Message: [tag, time, record, option?]; time may be v1.5's [EventTime, metadata].
      if (n !== 3 && n !== 4) throw new ForwardProtocolError(`a Message frame has 3 or 4 elements, got ${n}`);
      option = optionOf(value[3]);
      mode = 'message';
      const signal = signalOf(option);
      if (signal !== 0) return { tag, mode, events, option, skipped: 0, outOfRange: 0, tooDeep: 0, bytes, signal };
      const event = reader.event(eventTag, second, value[2]);
      if (event) events.push(event);
    }
    return { tag, mode, events, option, skipped: reader.invalid, outOfRange: reader.outOfRange, tooDeep: reader.tooDeep, bytes, signal: 0 };
  }

  private gunzip(bytes: Uint8Array): Buffer {
    try {
      // Node's gunzip reads every concatenated member; maxOutputLength stops a decompression bomb.
      return gunzipSync(bytes, { maxOutputLength: this.maxSize });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ForwardProtocolError(`gzip entries decompress to more than buffer_max_size (${this.maxSize} bytes)`);
      }
      throw new ForwardProtocolError(`gzip entries cannot be decompressed: ${messageOf(err)}`);
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isMap(value: unknown): value is Record<string, unknown> {
  // msgpackr builds maps as object literals; arrays, Buffers and EventTime have other prototypes.
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function optionOf(value: unknown): ForwardOption | undefined {
  if (value === undefined || value === null) return undefined;
  if (isMap(value)) return value;
  if (value === TOO_DEEP) throw new ForwardProtocolError(`the option (last element) is ${TOO_DEEP}`);
  throw new ForwardProtocolError(`the option (last element) must be a map, got ${describe(value)}`);
}

/** Fluent Bit's `fluent_signal` option: 0 (logs) when absent. */
function signalOf(option: ForwardOption | undefined): number {
  const signal = option?.fluent_signal;
  if (signal === undefined || signal === null) return 0;
  if (typeof signal !== 'number' || !Number.isInteger(signal) || signal < 0) {
    throw new ForwardProtocolError(`option fluent_signal must be a non-negative integer, got ${describe(signal)}`);
  }
  return signal;
}

/**
 * `size` is the number of entries (spec v1). fluent-logger-node v3 sends the byte length of the
 * packed (or compressed) entries instead, so either is accepted; -1 marks a length that does not
 * apply. Anything else is a frame that lost or gained entries on the way: refused.
 */
function checkSize(option: ForwardOption | undefined, count: number, packedLength: number, entriesLength: number): void {
  const size = option?.size;
  if (size === undefined || size === null) return;
  if (typeof size !== 'number' || !Number.isInteger(size)) {
    throw new ForwardProtocolError(`option size must be an integer, got ${describe(size)}`);
  }
  if (size === count || size === packedLength || size === entriesLength) return;
  throw new ForwardProtocolError(`option size says ${size} entries, the frame has ${count}`);
}

/** The raw bytes of the second element of the frame at `at`, known to be a str (old PackedForward). */
function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'binary data';
  if (value instanceof EventTime) return 'an EventTime';
  if (value instanceof TooDeep) return String(value);
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Where the entries of a PackedForward frame starting at `p` are (element 1: a bin or str), read from
 * the headers alone, so `to` may lie past `end` while the entries are still arriving. Undefined when
 * those headers are not all in yet, or the frame is not `[tag (str), entries (bin or str), …]`.
 */
function packedEntriesRange(buf: Uint8Array, p: number, end: number): [number, number] | undefined {
  const h = buf[p];
  let q: number;
  if (h !== undefined && h >= 0x90 && h <= 0x9f) q = p + 1;
  else if (h === 0xdc) q = p + 3; // array 16
  else if (h === 0xdd) q = p + 5; // array 32
  else return undefined;
  const tag = payloadRange(buf, q, end, false);
  return tag && payloadRange(buf, tag[1], end, true);
}

/** The payload range of the str (or, with `bin`, the bin) whose header is at `p`; undefined for another type or a header not all before `end`. */
function payloadRange(buf: Uint8Array, p: number, end: number, bin: boolean): [number, number] | undefined {
  if (p >= end) return undefined;
  const h = buf[p]!;
  if (h >= 0xa0 && h <= 0xbf) return [p + 1, p + 1 + (h & 0x1f)];
  if ((h === 0xd9 || (bin && h === 0xc4)) && p + 2 <= end) return [p + 2, p + 2 + buf[p + 1]!];
  if ((h === 0xda || (bin && h === 0xc5)) && p + 3 <= end) return [p + 3, p + 3 + ((buf[p + 1]! << 8) | buf[p + 2]!)];
  if ((h === 0xdb || (bin && h === 0xc6)) && p + 5 <= end) return [p + 5, p + 5 + uint32(buf, p + 1)];
  return undefined;
}
