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
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { newChunkId, writeFrameOptions } from '../../forward/frame-options.js';
import { MsgpackWriter } from '../../forward/msgpack-writer.js';
import { addRun, type Settleable, type SettleRun } from '../common/settlement.js';

const gzip = promisify(gzipCallback);
/** Message mode: all tags share one open frame (each message carries its tag). */
const MESSAGES = Symbol('messages');
const EMPTY_MAP = Buffer.from([0x80]);

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
}

export interface FrameBatcherOptions {
  format: FrameFormat;
  batchSizeBytes: number;
  flushMs: number;
  /** A frame is closed; in gzip mode `frame` resolves once compressed. Its bytes count until then. */
  onClose(frame: Promise<Frame>, rawBytes: number): void;
}

class OpenFrame {
  readonly writer: MsgpackWriter;
  entries = 0;
  readonly runs: SettleRun[] = [];
  readonly chunks: string[] = [];
  readonly firstAt = Date.now();
  timer: NodeJS.Timeout | undefined;

  constructor(readonly tag: string) {
    this.writer = new MsgpackWriter(4096);
  }
}

export class FrameBatcher {
  private readonly open = new Map<string | typeof MESSAGES, OpenFrame>();
  private bytes = 0;
  private disposed = false;

  constructor(private readonly options: FrameBatcherOptions) {}

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
   * as msgpack (or undefined), and whom to settle it with.
   */
  add(tag: string, time: bigint, record: Uint8Array, start: number, end: number, metadata: Uint8Array | undefined, target: Settleable | undefined): void {
    const { format } = this.options;
    const key = format.messages ? MESSAGES : tag;
    let frame = this.open.get(key);
    if (frame === undefined) {
      frame = new OpenFrame(tag);
      this.open.set(key, frame);
      if (!this.disposed) {
        const opened = frame;
        frame.timer = setTimeout(() => this.closeFrame(key, opened), this.options.flushMs);
      }
    }
    const w = frame.writer;
    const before = w.length;
    if (format.messages) this.writeMessage(frame, tag, time, record, start, end, metadata);
    else {
      w.arrayHeader(2);
      if (format.timeAsInteger) w.integerTime(time);
      else if (format.retainMetadata) {
        w.arrayHeader(2);
        w.eventTime(time);
        w.raw(metadata ?? EMPTY_MAP);
      } else w.eventTime(time);
      w.raw(record, start, end);
    }
    frame.entries++;
    addRun(frame.runs, target);
    this.bytes += w.length - before;
    if (w.length >= this.options.batchSizeBytes) this.closeFrame(key, frame);
  }

  /** Some frame is open. */
  get hasOpen(): boolean {
    return this.open.size > 0;
  }

  /** Closes every open frame now. */
  close(): void {
    for (const [key, frame] of [...this.open]) this.closeFrame(key, frame);
  }

  /** No more timers: frames close only on close() from now on. */
  dispose(): void {
    this.disposed = true;
    for (const frame of this.open.values()) clearTimeout(frame.timer);
  }

  private writeMessage(frame: OpenFrame, tag: string, time: bigint, record: Uint8Array, start: number, end: number, metadata: Uint8Array | undefined): void {
    const { format } = this.options;
    const w = frame.writer;
    w.arrayHeader(4);
    w.str(tag);
    if (format.timeAsInteger) w.integerTime(time);
    else w.eventTime(time);
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
    const raw = frame.writer.length;
    this.bytes -= raw;
    this.options.onClose(this.encode(frame), raw);
  }

  private async encode(frame: OpenFrame): Promise<Frame> {
    const { format } = this.options;
    const entries = frame.writer.view();
    const done = (bytes: Buffer, chunks: readonly string[]): Frame => ({ bytes, chunks, entries: frame.entries, runs: frame.runs, tag: frame.tag, firstAt: frame.firstAt });
    if (format.messages) return done(frame.writer.copy(), frame.chunks);
    const chunk = format.requireAck ? newChunkId() : undefined;
    const body = format.compress ? await gzip(entries) : entries;
    const w = new MsgpackWriter(body.length + frame.tag.length + 128);
    w.arrayHeader(format.sendOptions ? 3 : 2);
    w.str(frame.tag);
    if (format.compress) w.binHeader(body.length);
    else w.arrayHeader(frame.entries);
    w.raw(body);
    if (format.sendOptions) {
      writeFrameOptions(w, { chunk, size: frame.entries, compressed: format.compress ? 'gzip' : undefined, extra: format.extraOptions });
    }
    return done(w.view(), chunk === undefined ? [] : [chunk]);
  }
}
