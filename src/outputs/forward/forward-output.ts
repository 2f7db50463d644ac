/**
 * The forward output: sends events to Fluent Bit, Fluentd or floki forward inputs, as Fluent Bit's
 * out_forward does (its modes, options, chunk ids, acks, handshake, TLS), over one receiver or an
 * upstream of several.
 *
 * Memory buffer (default). Entries are written into open frames at once (frame-batcher.ts); closed
 * frames go to the sender (frame-sender.ts). The bytes held are reported to the engine through
 * `setFull`, so the inputs feeding the output pause while it is over `mem_buf_limit`. Entries are
 * settled when their frame was written (or acked, with require_ack_response) or given up on.
 *
 * Disk buffer (`storage.type filesystem`). As the Loki output: `write()` appends the entries to the
 * segment queue (src/storage/) and resolves once they are fsync'd, when they are settled for their
 * inputs; a feeder reads blocks back into frames while what is in flight stays under half of
 * `mem_buf_limit`; a segment is deleted once every entry in it was sent. The segment files hold
 * `floki.ForwardEntry` records (stored-entry.ts): the tag, the time, the record's and the v1.5
 * metadata's msgpack bytes.
 */
import { join } from 'node:path';
import type { Delivery } from '../../core/delivery.js';
import type { LogEvent } from '../../core/event.js';
import { BackpressureError, type Output, type OutputContext } from '../../core/plugin.js';
import { packValue } from '../../forward/record-packer.js';
import { SegmentQueue, StorageWriteError } from '../../storage/segment-queue.js';
import { RetryPolicy } from '../common/retry-policy.js';
import type { Settleable } from '../common/settlement.js';
import { FrameBatcher, type Frame } from './frame-batcher.js';
import { FrameSender } from './frame-sender.js';
import { ForwardOutputMetrics } from './metrics.js';
import { ForwardConfigError, type ForwardOutputConfig } from './options.js';
import { FORWARD_ENTRY, type StoredForwardEntry } from './stored-entry.js';
import { Upstream } from './upstream.js';

export interface ForwardOutputDeps {
  /** Random source for the backoff jitter. */
  random?: () => number;
  /** Segment file size for the disk buffer (tests use small ones). */
  segmentBytes?: number;
  /** Frames and bytes in flight on one connection (tests use small ones); frame-sender.ts has the defaults. */
  maxFramesPerConnection?: number;
  maxBytesPerConnection?: number;
}

/** Resume the inputs only once the buffer is well under its limit, so a saturated pipeline does not flap. */
const RESUME_RATIO = 0.8;
const NO_WAIT: Promise<void> = Promise.resolve();
/** The longest a failed upstream node is left out. */
const NODE_DOWN_MAX_MS = 60_000;
const NO_METADATA = Buffer.alloc(0);
const ZERO_NS = 0n;

export class ForwardOutput implements Output {
  private readonly metrics: ForwardOutputMetrics;
  private readonly upstream: Upstream;
  private readonly sender: FrameSender;
  private readonly batcher: FrameBatcher;
  private readonly disk: boolean;
  /** Metadata is sent: v1.5 entries, or Message mode options. */
  private readonly keepsMetadata: boolean;
  private store: SegmentQueue<StoredForwardEntry> | undefined;
  /** Frames closed and being compressed, and their raw bytes. */
  private readonly encoding = new Set<Promise<void>>();
  private encodingBytes = 0;
  private full = false;
  private stopping: Promise<void> | undefined;
  private feeding = false;
  /** sendWhenFree() has a check scheduled. */
  private freeCheck = false;
  private feedAgain = false;
  private feedStopped = false;
  private gaugeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ForwardOutputConfig,
    private readonly ctx: OutputContext,
    private readonly deps: ForwardOutputDeps = {},
  ) {
    this.disk = (config.storageType ?? ctx.inputStorageType ?? 'memory') === 'filesystem';
    if (this.disk && ctx.service.storagePath === undefined) throw new ForwardConfigError("storage.type filesystem needs 'storage.path' in service");
    const messages = config.tag !== undefined && !config.tag.static;
    this.keepsMetadata = !config.timeAsInteger && (config.retainMetadata || messages);
    this.metrics = new ForwardOutputMetrics(ctx.metrics, ctx.name);
    this.upstream = new Upstream(config.nodes, {
      // A failed node is out for as long as a frame would wait before its retry, but back within a minute.
      downMinMs: Math.min(config.retryMinBackoffMs, NODE_DOWN_MAX_MS),
      downMaxMs: Math.min(config.retryMaxBackoffMs, NODE_DOWN_MAX_MS),
      connectTimeoutMs: config.connectTimeoutMs,
      keepalive: config.keepalive,
      keepaliveIdleMs: config.keepaliveIdleMs,
      random: deps.random,
      onNodeState: (node, up) => {
        this.metrics.setNodeUp(node.name, up);
        if (up) ctx.log.info({ node: node.name }, `forward: node ${node.name} is back`);
      },
    });
    this.sender = new FrameSender({
      workers: config.workers,
      upstream: this.upstream,
      retry: new RetryPolicy({ limit: config.retryLimit, minMs: config.retryMinBackoffMs, maxMs: config.retryMaxBackoffMs, random: deps.random }),
      limitRetries: !this.disk,
      ackTimeoutMs: config.ackTimeoutMs,
      metrics: this.metrics,
      log: ctx.log,
      maxFramesPerConnection: deps.maxFramesPerConnection,
      maxBytesPerConnection: deps.maxBytesPerConnection,
      onSettled: () => {
        this.updateHeld();
        if (this.disk) this.feed();
        this.sendWhenFree();
      },
    });
    this.batcher = new FrameBatcher({
      format: {
        messages,
        timeAsInteger: config.timeAsInteger,
        retainMetadata: config.retainMetadata,
        compress: config.compress,
        sendOptions: config.sendOptions,
        requireAck: config.requireAck,
        extraOptions: config.extraOptions,
      },
      batchSizeBytes: config.batchSizeBytes,
      flushMs: Math.max(1, ctx.service.flushMs),
      onClose: (frame, raw) => this.closed(frame, raw),
    });
  }

  async start(): Promise<void> {
    const { totalLimitBytes, fullAction } = this.config;
    const dir = this.disk ? join(this.ctx.service.storagePath!, this.ctx.name.replace(/[^A-Za-z0-9._-]/g, '_')) : undefined;
    if (dir !== undefined) {
      this.store = await SegmentQueue.open({
        dir,
        entries: FORWARD_ENTRY,
        segmentBytes: this.deps.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(32 * 1024, Math.floor(totalLimitBytes / 8))),
        limitBytes: totalLimitBytes,
        fullAction,
        cacheBytes: Math.floor(this.config.memBufLimitBytes / 2),
        log: this.ctx.log,
        onDrop: (reason, entries) => this.metrics.drop(reason, entries),
        onChange: () => {
          this.updateHeld();
          this.feed();
        },
      });
    }
    for (const node of this.config.nodes) this.metrics.setNodeUp(node.name, true);
    this.gaugeTimer = setInterval(() => this.updateGauges(), 1000);
    this.gaugeTimer.unref();
    this.updateHeld();
    this.feed();
    const { config } = this;
    this.ctx.log.info(
      {
        output: this.ctx.name,
        nodes: config.nodes.map((n) => n.name),
        upstream: config.upstreamName,
        mode: this.modeName(),
        acks: config.requireAck,
        workers: config.workers,
        buffer: dir !== undefined ? { type: 'filesystem', dir, limit_bytes: totalLimitBytes, full_action: fullAction } : { type: 'memory', limit_bytes: config.memBufLimitBytes },
      },
      'forward: output ready',
    );
  }

  write(events: LogEvent[], delivery?: Delivery): Promise<void> | void {
    if (this.disk) return this.writeToDisk(events, delivery);
    if (this.stopping !== undefined) {
      this.metrics.drop('shutdown', events.length);
      return;
    }
    let failed = 0;
    let lastError: unknown;
    for (let i = 0; i < events.length; i++) {
      try {
        this.add(events[i]!, delivery);
      } catch (err) {
        // A record msgpack cannot hold (a cycle, an integer past 64 bits): lose that event, not the batch.
        failed++;
        lastError = err;
      }
    }
    this.formatFailed(failed, lastError, delivery);
    this.updateHeld();
    this.sendWhenFree();
  }

  /** Bytes held in memory: open frames, frames being compressed, queued and in flight, disk blocks kept for the reader. */
  queuedBytes(): number {
    return this.batcher.openBytes + this.encodingBytes + this.sender.pendingBytes + (this.store?.cachedBytes ?? 0);
  }

  stop(deadlineMs: number): Promise<void> {
    this.stopping ??= this.disk ? this.shutdownDisk(deadlineMs) : this.shutdownMemory(deadlineMs);
    return this.stopping;
  }

  private add(event: LogEvent, target: Settleable | undefined): void {
    const tag = this.tagOf(event);
    const metadata = this.metadataOf(event);
    const bytes = event.msgpack;
    if (bytes !== undefined) {
      // The time as it arrived, when it still is: no bigint made for the event (ZERO_NS stands in).
      const seconds = bytes.wireSeconds ?? -1;
      if (seconds >= 0) this.batcher.add(tag, ZERO_NS, bytes.buf, bytes.start, bytes.end, metadata, target, seconds, bytes.wireNanos!);
      else this.batcher.add(tag, event.time, bytes.buf, bytes.start, bytes.end, metadata, target);
    } else {
      const record = packValue(event.record);
      this.batcher.add(tag, event.time, record, 0, record.length, metadata, target);
    }
  }

  private tagOf(event: LogEvent): string {
    const template = this.config.tag;
    if (template === undefined) return event.tag;
    return template.render(event.tag, template.static ? undefined : event.record);
  }

  /** The event's v1.5 metadata as msgpack, copied (packing the record next reuses msgpackr's buffer). */
  private metadataOf(event: LogEvent): Buffer | undefined {
    const m = event.metadata;
    if (!this.keepsMetadata || m === undefined || !hasKeys(m)) return undefined;
    return Buffer.from(packValue(m));
  }

  private writeToDisk(events: LogEvent[], delivery: Delivery | undefined): Promise<void> {
    if (this.stopping !== undefined || this.store === undefined) return Promise.reject(new BackpressureError('forward: the output is stopping'));
    const records: StoredForwardEntry[] = [];
    let failed = 0;
    let lastError: unknown;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      try {
        const tag = this.tagOf(event);
        const metadata = this.metadataOf(event);
        const bytes = event.msgpack;
        // Copied: the event's bytes are the frame it arrived in, msgpackr's buffer is reused by the next pack.
        const record = bytes !== undefined ? Buffer.from(bytes.buf.subarray(bytes.start, bytes.end)) : Buffer.from(packValue(event.record));
        records.push({ tag, timestamp: event.time, record, metadata: metadata ?? NO_METADATA });
      } catch (err) {
        failed++;
        lastError = err;
      }
    }
    this.formatFailed(failed, lastError, delivery);
    if (records.length === 0) return NO_WAIT;
    return this.store.append(records).then(
      () => delivery?.settle(records.length),
      (err: unknown) => {
        throw err instanceof StorageWriteError ? new BackpressureError(`forward: ${err.message}`) : err;
      },
    );
  }

  private formatFailed(failed: number, lastError: unknown, delivery: Delivery | undefined): void {
    if (failed === 0) return;
    this.ctx.log.error({ err: lastError, events: failed }, `forward: could not encode ${failed} records as msgpack, dropping them`);
    this.metrics.drop('error', failed);
    delivery?.settle(failed);
  }

  /** A frame was closed: once encoded (gzip runs off the main thread) it goes to the sender. */
  private closed(frame: Promise<Frame>, raw: number): void {
    this.encodingBytes += raw;
    const done = frame.then(
      (f) => {
        this.encodingBytes -= raw;
        this.encoding.delete(done);
        this.sender.enqueue(f);
        this.updateHeld();
      },
      (err: unknown) => {
        // Compression failing is a bug, not input: log it loudly rather than lose the process.
        this.encodingBytes -= raw;
        this.encoding.delete(done);
        this.ctx.log.error({ err }, 'forward: could not encode a frame');
        this.updateHeld();
      },
    );
    this.encoding.add(done);
  }

  /** Disk mode: read blocks back into frames while what is open and in flight is under half of mem_buf_limit. */
  private feed(): void {
    if (!this.store || this.feedStopped) return;
    if (this.feeding) {
      this.feedAgain = true;
      return;
    }
    this.feeding = true;
    void this.feedLoop().then(
      () => {
        this.feeding = false;
        if (this.feedAgain) {
          this.feedAgain = false;
          this.feed();
        }
      },
      (err: unknown) => {
        this.feeding = false;
        this.ctx.log.error({ err }, 'forward: reading the disk buffer failed');
      },
    );
  }

  private async feedLoop(): Promise<void> {
    const store = this.store!;
    // Half of mem_buf_limit for frames on their way; frames held back by a retry's wait may take the other half.
    const window = Math.max(1, Math.floor(this.config.memBufLimitBytes / 2));
    const cap = Math.max(1, this.config.memBufLimitBytes);
    while (!this.feedStopped && store.hasUnread() && this.flowing() < window && this.held() < cap) {
      this.feedAgain = false;
      const block = await store.readBlock();
      if (block === undefined) break;
      for (const e of block.entries) {
        this.batcher.add(e.tag, e.timestamp, e.record, 0, e.record.length, e.metadata.length === 0 ? undefined : e.metadata, block.segment);
      }
      this.updateHeld();
      this.sendWhenFree();
    }
  }

  /**
   * A worker with nothing to send takes the open frames at once, rather than at `flush` or
   * `batch_size`: entries then wait only while every worker is busy (for an ack, or a slow socket),
   * which is when frames fill up. A receiver that keeps up gets what arrived since the last frame
   * left; one behind gets full frames, as before. Checked once the events written in the same turn
   * of the event loop are in, so that a burst of small writes makes one frame.
   */
  private sendWhenFree(): void {
    if (this.freeCheck || this.stopping !== undefined) return;
    this.freeCheck = true;
    setImmediate(() => {
      this.freeCheck = false;
      if (this.stopping === undefined && this.encoding.size === 0 && this.sender.hasRoom && this.batcher.hasOpen) this.batcher.close();
    });
  }

  private flowing(): number {
    return this.batcher.openBytes + this.encodingBytes + this.sender.flowingBytes;
  }

  private held(): number {
    return this.batcher.openBytes + this.encodingBytes + this.sender.pendingBytes;
  }

  private async closeFrames(): Promise<void> {
    this.batcher.close();
    while (this.encoding.size > 0) await Promise.all([...this.encoding]);
  }

  private async shutdownMemory(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.batcher.dispose();
    await this.closeFrames();
    const left = await this.sender.drain(Math.max(0, deadline - Date.now()));
    if (left > 0) {
      this.metrics.drop('shutdown', left);
      this.ctx.log.warn({ entries: left, deadlineMs }, `forward: stopped with ${left} entries not delivered after ${deadlineMs}ms`);
    }
    this.finish();
  }

  private async shutdownDisk(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    const store = this.store;
    this.batcher.dispose();
    // Keep reading the disk back and sending until everything is delivered or the grace period ends.
    while (store !== undefined && Date.now() < deadline) {
      this.feed();
      while (this.feeding) await new Promise((resolve) => setImmediate(resolve));
      await this.closeFrames();
      if (!store.hasUnread() && this.sender.idle) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.sender.whenIdle(), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
    this.feedStopped = true;
    await this.closeFrames();
    await this.sender.drain(Math.max(0, deadline - Date.now()));
    let left = 0;
    if (store !== undefined) {
      await store.close();
      left = store.heldEntries;
    }
    if (left > 0) this.ctx.log.warn({ entries: left, deadlineMs }, `forward: stopped with ${left} entries not delivered after ${deadlineMs}ms; they stay on disk for the next start`);
    this.finish();
  }

  private finish(): void {
    this.upstream.close();
    if (this.gaugeTimer !== undefined) clearInterval(this.gaugeTimer);
    this.updateHeld();
    this.updateGauges();
  }

  private updateHeld(): void {
    const held = this.queuedBytes();
    this.metrics.queueBytes.set(held);
    let over: boolean;
    let under: boolean;
    if (this.disk) {
      const stored = this.store?.bytes ?? 0;
      this.metrics.storageBytes.set(stored);
      const limit = this.config.totalLimitBytes;
      over = this.config.fullAction === 'pause' && stored > limit;
      under = stored <= limit * RESUME_RATIO;
    } else {
      over = held > this.config.memBufLimitBytes;
      under = held <= this.config.memBufLimitBytes * RESUME_RATIO;
    }
    if (!this.full && over) {
      this.full = true;
      this.ctx.setFull(true);
    } else if (this.full && under) {
      this.full = false;
      this.ctx.setFull(false);
    }
  }

  private updateGauges(): void {
    // Nothing to send: the buffers kept for the next frames can go.
    if (this.sender.idle && !this.batcher.hasOpen && this.encoding.size === 0) this.batcher.trimPool();
    let oldest = this.store?.oldestAt();
    for (const at of [this.batcher.oldestAt, this.sender.oldestAt]) if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    this.metrics.oldestAge.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    this.metrics.queueBytes.set(this.queuedBytes());
    this.metrics.storageBytes.set(this.store?.bytes ?? 0);
  }

  private modeName(): string {
    const { config } = this;
    if (config.tag !== undefined && !config.tag.static) return 'message';
    if (config.compress) return 'compressed_packed_forward';
    return config.timeAsInteger ? 'forward (time_as_integer)' : 'forward';
  }
}

function hasKeys(o: Record<string, unknown>): boolean {
  for (const _ in o) return true;
  return false;
}
