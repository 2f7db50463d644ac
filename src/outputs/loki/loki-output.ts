/**
 * The Loki output: turns events into entries (stream labels, ns timestamp, line), batches them per
 * stream, and hands closed batches to the sender. It reports the bytes it holds to the engine through
 * `setFull`, so the inputs feeding it pause while it is over `mem_buf_limit`.
 */
import type { LogEvent } from '../../core/event.js';
import type { Output, OutputContext } from '../../core/plugin.js';
import type { Delivery } from '../../core/delivery.js';
import { VERSION } from '../../package-root.js';
import { compileLabelRules } from '../../labels/label-rules.js';
import { LineFormatter } from '../../labels/line-formatter.js';
import { compileRecordAccessor, RecordAccessorSyntaxError } from '../../labels/record-accessor.js';
import { StreamLabeler } from '../../labels/stream-labeler.js';
import { BatchSender, type PushTransport } from './batch-sender.js';
import { Batcher } from './batcher.js';
import { PushRequestEncoder } from './encoder.js';
import { HttpTransport } from './http-transport.js';
import { LokiConfigError, type LokiConfig } from './options.js';
import { LokiOutputMetrics } from './output-metrics.js';
import { RetryPolicy } from './retry-policy.js';
import { SnappyCompressor, type SnappyCompressorOptions } from './snappy-compressor.js';

export interface LokiOutputDeps {
  /** Replaces the HTTP transport (a gRPC transport, or a fake in tests). */
  transport?: PushTransport;
  /** Random source for the backoff jitter. */
  random?: () => number;
  compressor?: SnappyCompressorOptions;
}

/** Resume the inputs only once the queue is well under the limit, so a saturated pipeline does not flap. */
const RESUME_RATIO = 0.8;

export class LokiOutput implements Output {
  private readonly labeler: StreamLabeler;
  private readonly formatter: LineFormatter;
  private readonly batcher: Batcher;
  private readonly sender: BatchSender;
  private readonly transport: PushTransport;
  private readonly metrics: LokiOutputMetrics;
  private readonly compressor: SnappyCompressor;
  private full = false;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly config: LokiConfig,
    private readonly ctx: OutputContext,
    deps: LokiOutputDeps = {},
  ) {
    const { rules, consumedPaths } = compileLabelRules(config.labels, config.labelKeys);
    this.labeler = new StreamLabeler(rules);
    const removePaths = config.removeKeys.map((key) => {
      try {
        return compileRecordAccessor(key.startsWith('$') ? key : `$${key}`).path;
      } catch (err) {
        if (err instanceof RecordAccessorSyntaxError) throw new LokiConfigError(`remove_keys: ${err.message}`);
        throw err;
      }
    });
    this.formatter = new LineFormatter({ format: config.lineFormat, dropSingleKey: config.dropSingleKey, removePaths: [...removePaths, ...consumedPaths] });

    this.metrics = new LokiOutputMetrics(ctx.metrics, ctx.name);
    this.transport =
      deps.transport ??
      new HttpTransport({
        host: config.host,
        port: config.port,
        uri: config.uri,
        headers: config.headers,
        timeoutMs: config.timeoutMs,
        maxSockets: config.workers,
        userAgent: `floki/${VERSION}`,
      });
    this.compressor = new SnappyCompressor(deps.compressor);
    this.sender = new BatchSender({
      workers: config.workers,
      encoder: new PushRequestEncoder(),
      compressor: this.compressor,
      transport: this.transport,
      retry: new RetryPolicy({ limit: config.retryLimit, minMs: config.retryMinBackoffMs, maxMs: config.retryMaxBackoffMs, random: deps.random }),
      metrics: this.metrics,
      log: ctx.log,
      onSettled: () => this.updateHeld(),
    });
    this.batcher = new Batcher({
      batchSizeBytes: config.batchSizeBytes,
      batchWaitMs: config.batchWaitMs,
      onClose: (batch) => this.sender.enqueue(batch),
    });
  }

  async start(): Promise<void> {
    const { host, port, uri, tenantId, workers } = this.config;
    this.ctx.log.info({ output: this.ctx.name, url: `http://${host}:${port}${uri}`, tenant: tenantId, workers }, 'loki: output ready');
  }

  write(events: LogEvent[], delivery?: Delivery): void {
    if (this.stopping !== undefined) {
      this.metrics.drop('shutdown', events.length);
      return;
    }
    let failed = 0;
    let lastError: unknown;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      try {
        const labels = this.labeler.labelsFor(event);
        const line = this.formatter.lineFor(event);
        this.batcher.add(labels, event.time, line, Buffer.byteLength(line), delivery);
      } catch (err) {
        // A record JSON cannot hold (a cycle): lose that event, not the batch.
        failed++;
        lastError = err;
      }
    }
    if (failed > 0) {
      this.ctx.log.error({ err: lastError, events: failed }, `loki: could not format ${failed} events, dropping them`);
      this.metrics.drop('error', failed);
      delivery?.settle(failed);
    }
    this.updateHeld();
  }

  queuedBytes(): number {
    return this.batcher.openBytes + this.sender.pendingBytes;
  }

  stop(deadlineMs: number): Promise<void> {
    this.stopping ??= this.shutdown(deadlineMs);
    return this.stopping;
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.batcher.close();
    this.batcher.dispose();
    const left = await this.sender.drain(deadlineMs);
    if (left > 0) this.ctx.log.warn({ entries: left, deadlineMs }, `loki: stopped with ${left} entries not delivered after ${deadlineMs}ms`);
    this.transport.close();
    await this.compressor.close();
    this.updateHeld();
  }

  private updateHeld(): void {
    const held = this.queuedBytes();
    this.metrics.queueBytes.set(held);
    if (!this.full && held > this.config.memBufLimitBytes) {
      this.full = true;
      this.ctx.setFull(true);
    } else if (this.full && held <= this.config.memBufLimitBytes * RESUME_RATIO) {
      this.full = false;
      this.ctx.setFull(false);
    }
  }
}
