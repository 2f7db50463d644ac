/**
 * Collects entries into forward frames, one open frame per tag, and closes a frame when its entries
 * reach `batch_size` bytes or `flush` after its first entry (Fluent Bit flushes a tag's chunk every
 * `flush` seconds; its chunks stay near 2 MB).
 *
 * The mode, as Fluent Bit's out_forward chooses it (checked on the 5.1.1 binary):
 * - Forward: `[tag, [entry, ...], options?]`, entries `[[EventTime, metadata], record]` with
 *   retain_metadata_in_forward_mode (the default), `[EventTime, record]` without;
 * - Forward with time_as_integer: entries `[seconds, record]`;
 * - CompressedPackedForward (`compress gzip`): `[tag, bin(gzip(entries)), options]`;
 * - Message, when the tag reads the record: `[tag, time, record, options]` per event, each with its
 *   own chunk id, several to a write.
 * Options end a frame when send_options (or acks, gzip, add_option) asks for them.
 *
 * Entries are written as msgpack as they arrive (records that are still the bytes they came in are
 * copied, not decoded), so a closed frame is one buffer and its entries are not held as objects.
 *
 * A frame's writer starts small; one that grows past SMALL_FRAME_BYTES moves into a buffer the size of
 * a whole frame (batch_size and 64 KiB) taken from a small pool, and in Forward mode that buffer is
 * what is sent: room for the frame's header is left in front of the entries and the header written
 * there at the end, so the entries are not copied again. The buffer goes back to the pool once the
 * frame is delivered (`Frame.release`). Before, each 1 MB frame took some 3 MB of fresh buffers (the
 * doublings and the copy out), and a node agent forwarding 300 MB spent more time in the garbage
 * collections those buffers set off than in writing its frames.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { newChunkId, writeFrameOptions } from '../../forward/frame-options.js';
import { MsgpackWriter, type WriterAllocator } from '../../forward/msgpack-writer.js';
import { addRun, type Settleable, type SettleRun } from '../common/settlement.js';

const gzip = promisify(gzipCallback);
/** Message mode: all tags share one open frame (each message carries its tag). */
const MESSAGES = Symbol('messages');
const EMPTY_MAP = Buffer.from([0x80]);
/** Writers start this small (many tags may have a frame open); past SMALL_FRAME_BYTES they take a pooled buffer. */
const FIRST_BYTES = 4096;
const SMALL_FRAME_BYTES = 64 * 1024;
/**
 * A pooled buffer holds batch_size and this much more: the entry that crosses batch_size, the header
 * and the options (a frame whose last entry is larger outgrows it into a buffer of its own). The frame
 * is counted against mem_buf_limit at its length, so this is what a full buffer holds unaccounted.
 */
const POOL_SLACK_BYTES = 64 * 1024;
/** Free pooled buffers kept, at most, in bytes; no pool when one buffer would be more than a quarter of it. */
const POOL_FREE_BYTES = 8 * 1024 * 1024;

export interface FrameFormat {
  /** Message mode: each entry is a message with its own tag. */
  messages: boolean;
  timeAsInteger: boolean;
  retainMetadata: boolean;
  compress: boolean;
  sendOptions: boolean;
  requireAck: boolean;
  extraOptions: readonly (readonly [string, string])[];
}

/** A frame ready to send (or several messages, in Message mode). */
export interface Frame {
  readonly bytes: Buffer;
  /** The chunk ids the receiver acks, in order; empty without require_ack_response. */
  readonly chunks: readonly string[];
  readonly entries: number;
  readonly runs: SettleRun[];
  /** A tag, for logs (the first message's in Message mode). */
  readonly tag: string;
  /** Date.now() when the first entry was added. */
  readonly firstAt: number;
  /** Once delivered (written, acked): its buffer may be used for another frame. Not called for a frame dropped. */
  readonly release?: () => void;
}

export interface FrameBatcherOptions {
  format: FrameFormat;
  batchSizeBytes: number;
  flushMs: number;
  /** A frame is closed; in gzip mode `frame` resolves once compressed. Its bytes count until then. */
  onClose(frame: Promise<Frame>, rawBytes: number): void;
}

/** Buffers of one size for frames that grew past SMALL_FRAME_BYTES, reused once their frame is delivered. */
class FramePool {
  private readonly free: Buffer[] = [];
  private readonly maxFree: number;

  constructor(readonly size: number) {
    this.maxFree = Math.floor(POOL_FREE_BYTES / size);
  }

  readonly allocate: WriterAllocator = (need, current) => {
    const doubled = Math.max(need, current.length * 2);
    if (doubled < SMALL_FRAME_BYTES || need > this.size || current.length >= this.size) return Buffer.allocUnsafe(doubled);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  };

  give(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.maxFree && !this.free.includes(buffer)) this.free.push(buffer);
  }

  clear(): void {
    this.free.length = 0;
  }
}

class OpenFrame {
  readonly writer: MsgpackWriter;
  entries = 0;
  readonly runs: SettleRun[] = [];
  readonly chunks: string[] = [];
  readonly firstAt = Date.now();
  timer: NodeJS.Timeout | undefined;

  /** `prefix`: bytes left in front of the entries for the frame's header. */
  constructor(
    readonly tag: string,
    readonly prefix: number,
    allocate: WriterAllocator | undefined,
  ) {
    this.writer = new MsgpackWriter(FIRST_BYTES, allocate);
    this.writer.skip(prefix);
  }

  /** Bytes of entries (the header room not counted). */
  get size(): number {
    return this.writer.length - this.prefix;
  }
}

export class FrameBatcher {
  private readonly open = new Map<string | typeof MESSAGES, OpenFrame>();
  private bytes = 0;
  private disposed = false;
  private readonly pool: FramePool | undefined;

  constructor(private readonly options: FrameBatcherOptions) {
    const size = options.batchSizeBytes + POOL_SLACK_BYTES;
    if (options.batchSizeBytes >= SMALL_FRAME_BYTES && size * 4 <= POOL_FREE_BYTES) this.pool = new FramePool(size);
  }

  /** Bytes of entries in open frames. */
  get openBytes(): number {
    return this.bytes;
  }

  /** Date.now() of the oldest entry in an open frame. */
  get oldestAt(): number | undefined {
    let oldest: number | undefined;
    for (const f of this.open.values()) if (oldest === undefined || f.firstAt < oldest) oldest = f.firstAt;
    return oldest;
  }

  /**
   * Adds one entry: its time, its record as msgpack bytes `record[start, end)`, its v1.5 metadata map
   * as msgpack (or undefined), and whom to settle it with. The time is `seconds` and `nanos` when
   * `seconds` is not negative (an EventTime's parts as the entry arrived: no bigint to split), else `time`.
   */
  add(tag: string, time: bigint, record: Uint8Array, start: number, end: number, metadata: Uint8Array | undefined, target: Settleable | undefined, seconds = -1, nanos = 0): void {
    const { format } = this.options;
    const key = format.messages ? MESSAGES : tag;
    let frame = this.open.get(key);
    if (frame === undefined) {
      // Forward mode: room for [tag, entries-array header] in front (the array fixarray, a str, an array32).
      const prefix = format.messages || format.compress ? 0 : 1 + 5 + Buffer.byteLength(tag, 'utf8') + 5;
      frame = new OpenFrame(tag, prefix, this.pool?.allocate);
      this.open.set(key, frame);
      if (!this.disposed) {
        const opened = frame;
        frame.timer = setTimeout(() => this.closeFrame(key, opened), this.options.flushMs);
      }
    }
    const w = frame.writer;
    const before = w.length;
    if (format.messages) this.writeMessage(frame, tag, time, seconds, nanos, record, start, end, metadata);
    else {
      if (format.timeAsInteger) {
        w.arrayHeader(2);
        w.integerTime(time, seconds);
        w.raw(record, start, end);
      } else w.forwardEntry(time, seconds, nanos, format.retainMetadata ? (metadata ?? EMPTY_MAP) : undefined, record, start, end);
    }
    frame.entries++;
    addRun(frame.runs, target);
    this.bytes += w.length - before;
    if (frame.size >= this.options.batchSizeBytes) this.closeFrame(key, frame);
  }

  /** Some frame is open. */
  get hasOpen(): boolean {
    return this.open.size > 0;
  }

  /** Closes every open frame now. */
  close(): void {
    for (const [key, frame] of [...this.open]) this.closeFrame(key, frame);
  }

  /** Lets go of the free pooled buffers (the output is idle). */
  trimPool(): void {
    this.pool?.clear();
  }

  /** No more timers: frames close only on close() from now on. */
  dispose(): void {
    this.disposed = true;
    for (const frame of this.open.values()) clearTimeout(frame.timer);
  }

  private writeMessage(frame: OpenFrame, tag: string, time: bigint, seconds: number, nanos: number, record: Uint8Array, start: number, end: number, metadata: Uint8Array | undefined): void {
    const { format } = this.options;
    const w = frame.writer;
    w.arrayHeader(4);
    w.str(tag);
    if (format.timeAsInteger) w.integerTime(time, seconds);
    else w.eventTimeOf(time, seconds, nanos);
    w.raw(record, start, end);
    let chunk: string | undefined;
    if (format.requireAck) {
      chunk = newChunkId();
      frame.chunks.push(chunk);
    }
    // Fluent Bit always ends a message with options; metadata only when the entry has some.
    const hasMetadata = metadata !== undefined && metadata.length > 1;
    writeFrameOptions(w, { chunk, extra: format.extraOptions, metadata: hasMetadata ? metadata : undefined });
  }

  private closeFrame(key: string | typeof MESSAGES, frame: OpenFrame): void {
    if (this.open.get(key) !== frame) return;
    this.open.delete(key);
    clearTimeout(frame.timer);
    const raw = frame.size;
    this.bytes -= raw;
    this.options.onClose(this.encode(frame), raw);
  }

  private async encode(frame: OpenFrame): Promise<Frame> {
    const { format } = this.options;
    const { writer, prefix } = frame;
    const pool = this.pool;
    const giveBack = (): void => pool?.give(writer.buffer);
    const done = (bytes: Buffer, chunks: readonly string[], release?: () => void): Frame => ({
      bytes,
      chunks,
      entries: frame.entries,
      runs: frame.runs,
      tag: frame.tag,
      firstAt: frame.firstAt,
      release,
    });
    if (format.messages) {
      const bytes = writer.copy();
      giveBack();
      return done(bytes, frame.chunks);
    }
    const chunk = format.requireAck ? newChunkId() : undefined;
    const options = (): void => {
      if (format.sendOptions) writeFrameOptions(w, { chunk, size: frame.entries, compressed: format.compress ? 'gzip' : undefined, extra: format.extraOptions });
    };
    let w: MsgpackWriter;
    if (format.compress) {
      const body = await gzip(writer.view(prefix));
      giveBack();
      w = new MsgpackWriter(body.length + frame.tag.length + 128);
      w.arrayHeader(format.sendOptions ? 3 : 2);
      w.str(frame.tag);
      w.binHeader(body.length);
      w.raw(body);
      options();
      return done(w.view(), chunk === undefined ? [] : [chunk]);
    }
    // The header goes in the room left for it, right before the entries; the options after them.
    const header = new MsgpackWriter(prefix);
    header.arrayHeader(format.sendOptions ? 3 : 2);
    header.str(frame.tag);
    header.arrayHeader(frame.entries);
    const start = prefix - header.length;
    header.view().copy(writer.view(0, prefix), start);
    w = writer;
    options();
    return done(writer.view(start), chunk === undefined ? [] : [chunk], pool === undefined ? undefined : giveBack);
  }
}
