/**
 * Sends closed batches to Loki, at most `workers` requests at a time, and decides each outcome:
 * - 2xx: delivered;
 * - 429, 5xx, network errors, timeouts: the same body again after the retry policy's wait (at least
 *   Loki's Retry-After), until `retry_limit` retries have failed; then dropped (`retry_limit`);
 * - any other status: dropped at once (`http_<status>`) with one log line holding Loki's answer: the
 *   request cannot succeed as sent (out of order, too old, bad labels), and a 400 may even be a partial
 *   success that a resend would duplicate.
 */
import type { Logger } from 'pino';
import type { ClosedBatch } from './batcher.js';
import type { PushRequestEncoder } from './encoder.js';
import type { SnappyCompressor } from './snappy-compressor.js';
import type { PushOutcome } from './http-transport.js';
import type { LokiOutputMetrics } from './output-metrics.js';
import { parseRetryAfter, type RetryPolicy } from './retry-policy.js';
import { settleRuns, type DeliveryRun } from '../../core/delivery.js';

export interface PushTransport {
  push(body: Uint8Array): Promise<PushOutcome>;
  /** Abort requests in flight; later pushes fail at once. */
  close(): void;
}

export interface BatchSenderOptions {
  workers: number;
  encoder: PushRequestEncoder;
  compressor: Pick<SnappyCompressor, 'compress'>;
  transport: PushTransport;
  retry: RetryPolicy;
  metrics: LokiOutputMetrics;
  log: Logger;
  /** Called whenever a batch leaves the sender (delivered or dropped): held bytes went down. */
  onSettled(): void;
}

/** A closed batch reduced to what sending needs: its body (being compressed) and its counts. */
interface QueuedBatch {
  readonly entries: number;
  readonly bytes: number;
  readonly body: Promise<Uint8Array>;
  readonly deliveries: DeliveryRun[];
}

export class BatchSender {
  private readonly queue: QueuedBatch[] = [];
  private active = 0;
  private heldBytes = 0;
  private aborted = false;
  private shutdownDropped = 0;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatchSenderOptions) {}

  /** Bytes of batches queued or in flight. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  get idle(): boolean {
    return this.active === 0 && this.queue.length === 0;
  }

  /**
   * Encode the batch now and start compressing it, so its body is ready when a worker is free; the
   * entries themselves can then be garbage collected.
   */
  enqueue(batch: ClosedBatch): void {
    if (this.aborted) {
      this.dropForShutdown(batch);
      return;
    }
    let body: Promise<Uint8Array>;
    try {
      body = this.options.compressor.compress(this.options.encoder.encode(batch.streams));
    } catch (err) {
      // A bug (encoding cannot fail on strings): log it, count the loss, keep the output running.
      this.options.log.error({ err, entries: batch.entries }, 'loki: could not encode a batch, dropping it');
      this.options.metrics.drop('error', batch.entries);
      settleRuns(batch.deliveries);
      return;
    }
    this.heldBytes += batch.bytes;
    this.queue.push({ entries: batch.entries, bytes: batch.bytes, body, deliveries: batch.deliveries });
    this.pump();
  }

  /**
   * Wait until everything queued is sent, for at most `deadlineMs`; then abort what is left.
   * Resolves with the number of entries given up on.
   */
  async drain(deadlineMs: number): Promise<number> {
    if (!this.idle) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        this.whenIdle().then(() => 'idle' as const),
        new Promise<'deadline'>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadlineMs), 'deadline');
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'deadline') {
        this.abort();
        await this.whenIdle();
      }
    }
    return this.shutdownDropped;
  }

  /** Give up: drop queued batches, wake retry waits, abort requests in flight. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const batch of this.queue.splice(0)) {
      this.heldBytes -= batch.bytes;
      this.dropForShutdown(batch);
    }
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    this.options.transport.close();
    this.options.onSettled();
    this.notifyIfIdle();
  }

  private whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIfIdle(): void {
    if (!this.idle || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private pump(): void {
    while (this.active < this.options.workers && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.active++;
      this.deliver(batch)
        .then(
          (settled) => {
            if (settled) settleRuns(batch.deliveries);
          },
          (err: unknown) => {
            this.options.log.error({ err, entries: batch.entries }, 'loki: unexpected error while sending a batch, dropping it');
            this.options.metrics.drop('error', batch.entries);
            settleRuns(batch.deliveries);
          },
        )
        .finally(() => {
          this.active--;
          this.heldBytes -= batch.bytes;
          this.options.onSettled();
          this.pump();
          this.notifyIfIdle();
        });
    }
  }

  /** Resolves true when the batch reached a final outcome (delivered or given up), false when abandoned at shutdown. */
  private async deliver(batch: QueuedBatch): Promise<boolean> {
    const { transport, retry, metrics, log } = this.options;
    const body = await batch.body;
    for (let retries = 0; ; ) {
      if (this.aborted) return this.dropForShutdown(batch);
      const started = performance.now();
      const outcome = await transport.push(body);
      metrics.requestDuration.observe((performance.now() - started) / 1000);
      const status = outcome.status;
      if (status >= 200 && status < 300) {
        metrics.records.inc(batch.entries);
        metrics.bytes.inc(batch.bytes);
        metrics.batches.inc();
        return true;
      }
      metrics.errors.inc();
      if (this.aborted) return this.dropForShutdown(batch);

      const problem = outcome.error ? outcome.error.message : `HTTP ${status}`;
      if (status !== 0 && status !== 429 && status < 500) {
        log.error(
          { status, entries: batch.entries, response: outcome.body },
          `loki: push rejected with HTTP ${status}, dropping ${batch.entries} entries (not retried): ${outcome.body.trim()}`,
        );
        metrics.drop(`http_${status}`, batch.entries);
        return true;
      }
      if (!retry.canRetry(retries)) {
        log.error(
          { status, error: outcome.error?.message, entries: batch.entries, retries, response: outcome.body || undefined },
          `loki: push failed (${problem}) after ${retries} retries, dropping ${batch.entries} entries`,
        );
        metrics.drop('retry_limit', batch.entries);
        return true;
      }
      const waitMs = retry.delayMs(retries, parseRetryAfter(outcome.retryAfter));
      retries++;
      log.warn({ status, error: outcome.error?.message, retry: retries, waitMs, entries: batch.entries }, `loki: push failed (${problem}), retry ${retries} in ${waitMs}ms`);
      metrics.retries.inc();
      await this.sleep(waitMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  private dropForShutdown(batch: { readonly entries: number }): false {
    this.shutdownDropped += batch.entries;
    this.options.metrics.drop('shutdown', batch.entries);
    return false;
  }
}
