/**
 * The Loki output: turns events into entries (tenant, stream labels, ns timestamp, line, structured
 * metadata), batches them per tenant and stream, and hands closed batches to the sender.
 *
 * Memory buffer (default). Entries go straight into the batcher. The output reports the bytes it holds
 * to the engine through `setFull`, so the inputs feeding it pause while it is over `mem_buf_limit`.
 * Entries are settled (see core/delivery.ts) when Loki accepted them or they were given up on.
 *
 * Disk buffer (`storage.type filesystem`). `write()` appends the entries to the segment queue and
 * resolves once they are fsync'd: that is when the forward input acks a chunk and when the entries
 * are settled for their inputs (a tail input may move its position then: the entry is safe on disk).
 * A feeder reads blocks back in order (from memory while they are hot) into the batcher while what
 * is batching and in flight stays under half of `mem_buf_limit`; a segment file is deleted once
 * every entry in it was delivered or given up on. Retries have no limit: the disk is the limit
 * (`storage.total_limit_size`, then `storage.full_action`). On stop, what is not delivered within the
 * grace period stays on disk and is sent first on the next start.
 */
import { join } from 'node:path';
import type { LogEvent } from '../../core/event.js';
import { BackpressureError, type Output, type OutputContext } from '../../core/plugin.js';
import type { Delivery } from '../../core/delivery.js';
import { VERSION } from '../../package-root.js';
import { LineFormatter } from '../../labels/line-formatter.js';
import { scalarToString, type RecordAccessor } from '../../labels/record-accessor.js';
import { StreamLabeler } from '../../labels/stream-labeler.js';
import type { StructuredMetadataExtractor, StructuredMetadata } from '../../labels/structured-metadata.js';
import { LOKI_ENTRY, type StoredEntry } from './stored-entry.js';
import { SegmentQueue, StorageWriteError } from '../../storage/segment-queue.js';
import { BatchSender, type PushTransport } from './batch-sender.js';
import { Batcher, metadataBytes } from './batcher.js';
import { ArenaLine, MAX_TIMESTAMP_NS, MIN_TIMESTAMP_NS, type LokiEntry } from './encoder.js';
import { LineArena } from '../../labels/line-arena.js';
import { LokiLimits } from './limits.js';
import type { Settleable } from '../common/settlement.js';
import { JsonGzipCodec, ProtobufCodec, ProtobufSnappyCodec, type BodyCodec } from './body-codec.js';
import { GrpcTransport } from './grpc-transport.js';
import { HttpTransport, type TlsSettings } from './http-transport.js';
import { LokiConfigError, type LokiConfig } from './options.js';
import { compileOutputLabels } from './output-labels.js';
import { LokiOutputMetrics } from './loki-metrics.js';
import { RetryPolicy } from '../common/retry-policy.js';
import type { SnappyCompressorOptions } from './snappy-compressor.js';
import { truncateUtf8Bytes } from './utf8.js';

export interface LokiOutputDeps {
  /** Replaces the HTTP or gRPC transport (a fake in tests). */
  transport?: PushTransport;
  /** Random source for the backoff jitter. */
  random?: () => number;
  compressor?: SnappyCompressorOptions;
  /** Segment file size for the disk buffer (tests use small ones). */
  segmentBytes?: number;
}

/** Resume the inputs only once the buffer is well under its limit, so a saturated pipeline does not flap. */
const RESUME_RATIO = 0.8;
const NO_WAIT: Promise<void> = Promise.resolve();

export class LokiOutput implements Output {
  private readonly labeler: StreamLabeler;
  private readonly limits: LokiLimits;
  private readonly formatter: LineFormatter;
  /** Where the memory buffer's lines are written as they are formatted (see line-arena.ts). */
  private readonly arena = new LineArena();
  private readonly metadata: StructuredMetadataExtractor | undefined;
  private readonly tenantAccessor: RecordAccessor | undefined;
  private readonly batcher: Batcher;
  private readonly sender: BatchSender;
  private readonly transport: PushTransport;
  private readonly codec: BodyCodec;
  private readonly metrics: LokiOutputMetrics;
  private readonly disk: boolean;
  private store: SegmentQueue<StoredEntry> | undefined;
  private full = false;
  private stopping: Promise<void> | undefined;
  private feeding = false;
  private feedAgain = false;
  private feedStopped = false;
  private gaugeTimer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly config: LokiConfig,
    private readonly ctx: OutputContext,
    private readonly deps: LokiOutputDeps = {},
  ) {
    const labels = compileOutputLabels(config);
    const rules = labels.rules;
    this.metadata = labels.metadata;
    this.tenantAccessor = labels.tenantAccessor;
    this.labeler = new StreamLabeler(rules, { autoKubernetesLabels: config.autoKubernetesLabels, fixedLabelsWin: config.fixedLabelsWin });
    this.formatter = new LineFormatter({
      format: config.lineFormat,
      dropSingleKey: config.dropSingleKey,
      removePaths: labels.removePaths,
      maxChars: config.maxLineSize > 0 ? config.maxLineSize + 1 : undefined,
    });
    this.disk = (config.storageType ?? ctx.inputStorageType ?? 'memory') === 'filesystem';
    if (this.disk && ctx.service.storagePath === undefined) throw new LokiConfigError("storage.type filesystem needs 'storage.path' in service");

    this.metrics = new LokiOutputMetrics(ctx.metrics, ctx.name);
    this.limits = new LokiLimits({
      maxLabelNames: config.maxLabelNames,
      maxLabelNameLength: config.maxLabelNameLength,
      maxLabelValueLength: config.maxLabelValueLength,
      labelValuesLimit: config.labelValuesLimit,
      labelValuesWindowMs: config.labelValuesWindowMs,
      overflow: config.labelOverflow,
      priority: rules.map((r) => r.name),
      fallback: ['job', 'floki'],
      metrics: ctx.metrics,
      name: ctx.name,
      log: ctx.log,
    });
    const t = config.tls;
    const tls: TlsSettings | undefined = t && {
      verify: t.verify,
      verifyHostname: t.verifyHostname,
      ca: t.ca,
      cert: t.cert,
      key: t.key,
      servername: t.vhost,
      minVersion: t.minVersion,
      maxVersion: t.maxVersion,
      ciphers: t.ciphers,
    };
    const userAgent = `floki/${VERSION}`;
    if (config.transport === 'grpc') {
      this.codec = new ProtobufCodec();
      this.transport = deps.transport ?? new GrpcTransport({ host: config.host, port: config.port, headers: config.headers, timeoutMs: config.timeoutMs, userAgent, tls });
    } else {
      this.codec = config.compress === 'json_gzip' ? new JsonGzipCodec() : new ProtobufSnappyCodec(deps.compressor);
      this.transport =
        deps.transport ??
        new HttpTransport({
          host: config.host,
          port: config.port,
          uri: config.uri,
          headers: config.headers,
          contentType: this.codec.contentType,
          contentEncoding: this.codec.contentEncoding,
          timeoutMs: config.timeoutMs,
          maxSockets: config.workers,
          keepAlive: config.keepAlive,
          userAgent,
          tls,
        });
    }
    this.sender = new BatchSender({
      workers: config.workers,
      codec: this.codec,
      transport: this.transport,
      retry: new RetryPolicy({ limit: config.retryLimit, minMs: config.retryMinBackoffMs, maxMs: config.retryMaxBackoffMs, random: deps.random }),
      limitRetries: !this.disk,
      onAbandon: this.disk ? 'keep' : 'drop',
      metrics: this.metrics,
      log: ctx.log,
      onSettled: () => {
        this.updateHeld();
        if (this.disk) this.feed();
      },
    });
    this.batcher = new Batcher({
      batchSizeBytes: config.batchSizeBytes,
      batchWaitMs: config.batchWaitMs,
      shards: config.workers,
      onClose: (batch) => this.sender.enqueue(batch),
    });
  }

  async start(): Promise<void> {
    const { host, port, uri, tenantId, workers, transport, totalLimitBytes, fullAction } = this.config;
    const dir = this.disk ? join(this.ctx.service.storagePath!, this.ctx.name.replace(/[^A-Za-z0-9._-]/g, '_')) : undefined;
    if (dir !== undefined) {
      this.store = await SegmentQueue.open({
        dir,
        entries: LOKI_ENTRY,
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
    this.startGaugeTimer();
    this.updateHeld();
    this.feed();
    const scheme = transport === 'grpc' ? 'grpc' : this.config.tls ? 'https' : 'http';
    this.ctx.log.info(
      {
        output: this.ctx.name,
        url: `${scheme}://${host}:${port}${transport === 'grpc' ? '' : uri}`,
        tenant: tenantId,
        workers,
        encoding: this.codec.description,
        buffer: dir !== undefined ? { type: 'filesystem', dir, limit_bytes: totalLimitBytes, full_action: fullAction } : { type: 'memory', limit_bytes: this.config.memBufLimitBytes },
      },
      'loki: output ready',
    );
  }

  write(events: LogEvent[], delivery?: Delivery): Promise<void> | void {
    if (this.gaugeTimer === undefined) this.startGaugeTimer();
    if (this.disk) return this.writeToDisk(events, delivery);
    if (this.stopping !== undefined) {
      this.metrics.drop('shutdown', events.length);
      return;
    }
    let failed = 0;
    let lastError: unknown;
    const tenantDefault = this.config.tenantId;
    const now = Date.now();
    const arena = this.arena;
    const maxLine = this.config.maxLineSize;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      try {
        const labels = this.labeler.labelsFor(event);
        // The line's bytes written as it is formatted, when the formatter can (a record ending with a
        // shared map: W2, issue #12), and it is not one to cut; else the line as a string.
        const written = this.formatter.writeLine(event, arena);
        let line: string | undefined;
        let lineBytes: number;
        if (written >= 0 && (maxLine <= 0 || written <= maxLine)) lineBytes = written;
        else {
          if (written >= 0) arena.rollback();
          // Refused (-1): the formatter need not walk the record again for a shared map.
          line = this.lineOf(event, written < 0);
          // Known to the formatter when it made the line from bytes or a thread printed it; else counted.
          lineBytes = this.formatter.utf8Bytes(line);
        }
        const sm = this.metadata?.extract(event);
        const tenant = this.tenantAccessor ? this.tenantOf(event) : tenantDefault;
        if (line === undefined) this.admit(tenant, labels, event.time, undefined, lineBytes, sm, delivery, now, arena.chunk, arena.start);
        else this.admit(tenant, labels, event.time, line, lineBytes, sm, delivery, now);
      } catch (err) {
        // A record that cannot be read (its input could not decode it): lose that event, counted, not the batch.
        failed++;
        lastError = err;
      }
    }
    this.formatFailed(failed, lastError, delivery);
    this.updateHeld();
  }

  /** Bytes held in memory: batching, queued, in flight, and disk blocks kept for the reader. */
  queuedBytes(): number {
    return this.batcher.openBytes + this.sender.pendingBytes + (this.store?.cachedBytes ?? 0);
  }

  /** Bytes of the disk buffer's files (0 in memory mode). */
  storedBytes(): number {
    return this.store?.bytes ?? 0;
  }

  stop(deadlineMs: number): Promise<void> {
    this.stopping ??= this.disk ? this.shutdownDisk(deadlineMs) : this.shutdownMemory(deadlineMs);
    return this.stopping;
  }

  private writeToDisk(events: LogEvent[], delivery: Delivery | undefined): Promise<void> {
    if (this.stopping !== undefined || this.store === undefined) return Promise.reject(new BackpressureError('loki: the output is stopping'));
    const records: StoredEntry[] = [];
    let failed = 0;
    let lastError: unknown;
    const tenantDefault = this.config.tenantId ?? null;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      // A time the segment files cannot hold (int64 ns) is one Loki cannot either: counted now.
      if (event.time > MAX_TIMESTAMP_NS || event.time < MIN_TIMESTAMP_NS) {
        this.limits.badTime(event.time, (n) => this.metrics.drop('invalid_timestamp', n));
        delivery?.settle(1);
        continue;
      }
      try {
        const labels = this.labeler.labelsFor(event);
        const line = this.lineOf(event);
        const sm = this.metadata?.extract(event);
        const tenant = this.tenantAccessor ? (this.tenantOf(event) ?? null) : tenantDefault;
        records.push({ tenant, labels, timestamp: event.time, line, structured_metadata: sm ?? EMPTY_METADATA });
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
        throw err instanceof StorageWriteError ? new BackpressureError(`loki: ${err.message}`) : err;
      },
    );
  }

  /**
   * Into a batch, within Loki's limits (limits.ts): every path to Loki goes through here, the memory
   * buffer's writes and the disk buffer's replay alike. An entry dropped here is settled at once.
   * The line is `line`, or (undefined) `lineBytes` of `chunk` from `start`, written by a LineArena.
   */
  private admit(
    tenant: string | undefined,
    labels: string,
    ts: bigint,
    line: string | undefined,
    lineBytes: number,
    sm: StructuredMetadata | undefined,
    target: Settleable | undefined,
    now: number,
    chunk?: Buffer,
    start = 0,
  ): void {
    if (ts > MAX_TIMESTAMP_NS || ts < MIN_TIMESTAMP_NS) {
      this.limits.badTime(ts, (n) => this.metrics.drop('invalid_timestamp', n));
      target?.settle(1);
      return;
    }
    const stream = this.limits.streamFor(labels, now);
    const counters = stream.counters;
    if (counters.length > 0) {
      for (let i = 0; i < counters.length; i++) counters[i]!.inc();
      // The entry's own structured metadata wins over a label moved there.
      if (stream.moved !== undefined) sm = sm === undefined ? stream.moved : { ...stream.moved, ...sm };
    }
    const entry: LokiEntry = line === undefined ? new ArenaLine(ts, chunk!, start, lineBytes, sm) : { ts, line, lineBytes, sm };
    this.batcher.add(tenant, stream.labels, entry, lineBytes + metadataBytes(sm), target);
  }

  private lineOf(event: LogEvent, sharedTried = false): string {
    const line = this.formatter.lineFor(event, sharedTried);
    const max = this.config.maxLineSize;
    // A line of n chars has at most 3n UTF-8 bytes (4 per surrogate pair): most lines skip the count.
    if (max > 0 && line.length * 3 > max && Buffer.byteLength(line) > max) {
      this.metrics.truncated.inc();
      return truncateUtf8Bytes(line, max);
    }
    return line;
  }

  private tenantOf(event: LogEvent): string | undefined {
    const v = scalarToString(this.tenantAccessor!.get(event.record, event.tag));
    return v === undefined || v.length === 0 ? this.config.tenantId : v;
  }

  private formatFailed(failed: number, lastError: unknown, delivery: Delivery | undefined): void {
    if (failed === 0) return;
    this.ctx.log.error({ err: lastError, events: failed }, `loki: could not format ${failed} events, dropping them`);
    this.metrics.drop('error', failed);
    delivery?.settle(failed);
  }

  /** Disk mode: read blocks back into the batcher while what is batching and in flight is under half of mem_buf_limit. */
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
        this.ctx.log.error({ err }, 'loki: reading the disk buffer failed');
      },
    );
  }

  private async feedLoop(): Promise<void> {
    const store = this.store!;
    // Half of mem_buf_limit for what flows; batches held back by a retry's wait or a rate limit may
    // take the other half, so that one rate-limited tenant or stream does not stop the others.
    const window = Math.max(1, Math.floor(this.config.memBufLimitBytes / 2));
    const cap = Math.max(1, this.config.memBufLimitBytes);
    while (
      !this.feedStopped &&
      store.hasUnread() &&
      this.batcher.openBytes + this.sender.flowingBytes < window &&
      this.batcher.openBytes + this.sender.pendingBytes < cap
    ) {
      this.feedAgain = false;
      const block = await store.readBlock();
      if (block === undefined) break;
      const now = Date.now();
      for (const e of block.entries) {
        const sm = hasKeys(e.structured_metadata) ? e.structured_metadata : undefined;
        this.admit(e.tenant ?? undefined, e.labels, e.timestamp, e.line, Buffer.byteLength(e.line), sm, block.segment, now);
      }
      this.updateHeld();
    }
  }

  private async shutdownMemory(deadlineMs: number): Promise<void> {
    this.batcher.close();
    this.batcher.dispose();
    const left = await this.sender.drain(deadlineMs);
    if (left > 0) this.ctx.log.warn({ entries: left, deadlineMs }, `loki: stopped with ${left} entries not delivered after ${deadlineMs}ms`);
    await this.finish();
  }

  private async shutdownDisk(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    const store = this.store;
    // Keep reading the disk back and sending until everything is delivered or the grace period ends.
    while (store !== undefined && Date.now() < deadline) {
      this.feed();
      while (this.feeding) await new Promise((resolve) => setImmediate(resolve));
      this.batcher.close();
      if (!store.hasUnread() && this.sender.idle) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.sender.whenIdle(), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
    this.feedStopped = true;
    this.batcher.close();
    this.batcher.dispose();
    await this.sender.drain(Math.max(0, deadline - Date.now()));
    let left = 0;
    if (store !== undefined) {
      await store.close();
      left = store.heldEntries;
    }
    if (left > 0) this.ctx.log.warn({ entries: left, deadlineMs }, `loki: stopped with ${left} entries not delivered after ${deadlineMs}ms; they stay on disk for the next start`);
    await this.finish();
  }

  private async finish(): Promise<void> {
    this.transport.close();
    await this.codec.close();
    if (this.gaugeTimer !== undefined) clearInterval(this.gaugeTimer);
    this.gaugeTimer = undefined;
    this.finished = true;
    this.updateHeld();
    this.updateGauges();
  }

  /**
   * The age and queue gauges are sampled once a second while anything is held; once all is sent they
   * read zero and the timer stops (an idle output wakes nobody), until the next write starts it again.
   */
  private startGaugeTimer(): void {
    if (this.finished) return;
    this.gaugeTimer = setInterval(() => {
      if (this.updateGauges() && this.store === undefined && this.gaugeTimer !== undefined) {
        clearInterval(this.gaugeTimer);
        this.gaugeTimer = undefined;
      }
    }, 1000);
    this.gaugeTimer.unref();
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

  /** Sets the gauges; true when nothing is held (every gauge reads zero). */
  private updateGauges(): boolean {
    let oldest = this.store?.oldestAt();
    for (const at of [this.batcher.oldestAt, this.sender.oldestAt]) if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    this.metrics.oldestAge.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    const queued = this.queuedBytes();
    this.metrics.queueBytes.set(queued);
    this.metrics.storageBytes.set(this.store?.bytes ?? 0);
    return oldest === undefined && queued === 0;
  }
}

const EMPTY_METADATA: StructuredMetadata = Object.freeze({}) as StructuredMetadata;

function hasKeys(o: Record<string, string>): boolean {
  for (const _ in o) return true;
  return false;
}
