/**
 * Sends closed frames to the upstream, `workers` at a time, each on its own connection, and settles
 * their entries: when written, or with acks when acked; or when given up on.
 *
 * A failed attempt (no connection, handshake refused, write error, connection dropped before the ack,
 * no ack within ack_response_timeout) leaves its node out for a while and sends the frame again: at
 * once to another node when one is up, else after the retry policy's backoff (retry_min_backoff
 * doubling to retry_max_backoff, with jitter) and once a node is due back. While every node is out
 * no frame is attempted, so retry_limit counts attempts, not time. Memory buffer: after
 * retry_limit retries the entries are dropped and counted. Disk buffer: no limit; what is left at stop
 * stays on disk. Frames sent again keep their bytes, so their chunk ids are the same.
 */
import type { Logger } from 'pino';
import type { RetryPolicy } from '../common/retry-policy.js';
import { settleRuns } from '../common/settlement.js';
import { ForwardSendError, type ForwardClientConnection } from './client-connection.js';
import type { Frame } from './frame-batcher.js';
import type { ForwardOutputMetrics } from './metrics.js';
import type { NodeState, Upstream } from './upstream.js';

export interface FrameSenderOptions {
  workers: number;
  upstream: Upstream;
  retry: RetryPolicy;
  /** false for the disk buffer: retry until delivered. */
  limitRetries: boolean;
  ackTimeoutMs: number;
  metrics: ForwardOutputMetrics;
  log: Logger;
  /** Entries were settled (delivered or dropped): bytes held went down. */
  onSettled(): void;
}

interface Job {
  readonly frame: Frame;
  retries: number;
  /** Date.now() before which it is not sent (a retry's backoff). */
  readyAt: number;
}

export class FrameSender {
  private queue: Job[] = [];
  private readonly inFlight = new Map<Job, ForwardClientConnection | undefined>();
  private heldBytes = 0;
  private aborted = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: FrameSenderOptions) {}

  /** Bytes of frames queued, waiting to be retried, or in flight. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** Bytes of frames not held back by a retry's wait: what a disk reader counts against its window. */
  get flowingBytes(): number {
    const now = Date.now();
    let waiting = 0;
    for (const j of this.queue) if (j.readyAt > now) waiting += j.frame.bytes.length;
    return this.heldBytes - waiting;
  }

  /** A frame enqueued now would be sent at once: nothing waits (a retry's backoff included) and a worker is free. */
  get hasRoom(): boolean {
    return this.queue.length === 0 && this.inFlight.size < this.options.workers && !this.aborted;
  }

  get idle(): boolean {
    return this.inFlight.size === 0 && this.queue.length === 0;
  }

  get oldestAt(): number | undefined {
    let oldest: number | undefined;
    for (const j of [...this.queue, ...this.inFlight.keys()]) if (oldest === undefined || j.frame.firstAt < oldest) oldest = j.frame.firstAt;
    return oldest;
  }

  enqueue(frame: Frame): void {
    if (this.aborted) return;
    this.heldBytes += frame.bytes.length;
    this.queue.push({ frame, retries: 0, readyAt: 0 });
    this.pump();
  }

  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Waits until everything queued is sent, for at most `deadlineMs`; then stops, closing connections
   * with frames in flight. Resolves with the number of entries not delivered (not settled).
   */
  async drain(deadlineMs: number): Promise<number> {
    if (!this.idle) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.whenIdle(), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineMs))))]);
      clearTimeout(timer);
    }
    this.aborted = true;
    clearTimeout(this.wakeTimer);
    let left = 0;
    for (const job of this.queue) left += job.frame.entries;
    for (const [job, connection] of this.inFlight) {
      left += job.frame.entries;
      connection?.destroy();
    }
    this.queue = [];
    this.inFlight.clear();
    this.heldBytes = 0;
    this.wakeIdle();
    return left;
  }

  private pump(): void {
    if (this.aborted) return;
    const now = Date.now();
    const { upstream } = this.options;
    // Every node is out: nothing is sent until the first is due back (no attempts spent meanwhile).
    const blockedUntil = upstream.hasAvailable(undefined, now) ? 0 : upstream.nextBackAt();
    let nextReady = Infinity;
    for (let i = 0; i < this.queue.length && this.inFlight.size < this.options.workers; ) {
      const job = this.queue[i]!;
      if (job.readyAt > now || blockedUntil > now) {
        nextReady = Math.min(nextReady, Math.max(job.readyAt, blockedUntil));
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.inFlight.set(job, undefined);
      void this.attempt(job);
    }
    if (nextReady < Infinity) this.wakeAtTime(nextReady);
    if (this.idle) this.wakeIdle();
  }

  private async attempt(job: Job): Promise<void> {
    const { upstream, metrics, ackTimeoutMs } = this.options;
    const state = upstream.pick();
    let connection: ForwardClientConnection | undefined;
    const started = process.hrtime.bigint();
    try {
      connection = await upstream.acquire(state);
      if (this.aborted) return upstream.release(state, connection, false);
      this.inFlight.set(job, connection);
      await connection.send(job.frame.bytes, job.frame.chunks, ackTimeoutMs);
    } catch (err) {
      if (connection !== undefined) upstream.release(state, connection, false);
      if (this.aborted) return;
      this.inFlight.delete(job);
      this.failed(job, state, err);
      this.pump();
      return;
    }
    upstream.release(state, connection, true);
    if (this.aborted) return;
    this.inFlight.delete(job);
    upstream.succeeded(state);
    metrics.requestDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    metrics.records.inc(job.frame.entries);
    metrics.bytes.inc(job.frame.bytes.length);
    metrics.batches.inc();
    this.finish(job);
    this.pump();
  }

  private failed(job: Job, state: NodeState, thrown: unknown): void {
    const { upstream, metrics, retry, log } = this.options;
    // Anything else is a bug, but one attempt's bug must not take the process down: log it loudly.
    if (!(thrown instanceof ForwardSendError)) log.error({ err: thrown }, 'forward: unexpected error while sending a frame');
    const err = thrown instanceof ForwardSendError ? thrown : new ForwardSendError('protocol', String(thrown));
    metrics.errors.inc();
    if (err.kind === 'refused' || err.kind === 'handshake') metrics.handshakeFailures.inc();
    if (err.kind === 'ack_timeout') metrics.ackTimeouts.inc();
    const wasUp = state.failures === 0;
    const downMs = upstream.failed(state);
    const node = state.node.name;
    if (wasUp) log.warn({ node, reason: err.message, retry_node_in_ms: downMs }, `forward: node ${node} failed, leaving it out for a while: ${err.message}`);
    else log.debug({ node, reason: err.message }, 'forward: node still failing');

    if (this.options.limitRetries && !retry.canRetry(job.retries)) {
      metrics.drop('retry_limit', job.frame.entries);
      log.error(
        { node, tag: job.frame.tag, entries: job.frame.entries, retries: job.retries, reason: err.message },
        `forward: dropping a frame of ${job.frame.entries} entries after ${job.retries} retries (retry_limit)`,
      );
      this.finish(job);
      return;
    }
    metrics.retries.inc();
    const delay = upstream.hasAvailable(state) ? 0 : retry.delayMs(job.retries);
    job.retries++;
    job.readyAt = Date.now() + delay;
    // Older data first: a frame sent again goes before frames that never left.
    this.queue.unshift(job);
  }

  /** Delivered or given up on: settle its entries and forget it. */
  private finish(job: Job): void {
    this.heldBytes -= job.frame.bytes.length;
    settleRuns(job.frame.runs);
    this.options.onSettled();
  }

  private wakeAtTime(at: number): void {
    if (this.wakeTimer !== undefined && this.wakeAt <= at) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = Infinity;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
