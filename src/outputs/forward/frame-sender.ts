/**
 * Sends closed frames to the upstream and settles their entries: when written, or with acks when
 * acked; or when given up on.
 *
 * Frames go out on at most `workers` connections to each node at once, several frames in flight on
 * each (a lane): a frame is sent while its connection has fewer than `maxFramesPerConnection` frames
 * and `maxBytesPerConnection` bytes unsettled (one frame alone may be larger), without waiting for the
 * acks of those before it, as a forward client with a window does; another connection to the node is
 * opened only while those open are full. A floki receiver takes a connection's frames in order, one
 * at a time, reading only a little ahead; the rest waits in the socket buffers. Each frame is settled
 * by its own ack, in whatever order they come. A lane whose frames are all settled hands its
 * connection back to the upstream (kept for the next frame, or closed).
 *
 * Frames go round robin over the nodes: each frame to the next node in turn, waiting for room there.
 *
 * A failed connection (no connection, handshake refused, write error, connection dropped before the
 * acks, one frame not acked within ack_response_timeout) fails every frame still unsettled on it:
 * the node is left out for a while (once, not once per frame) and those frames are sent again, in
 * their order and before frames that never left: at once to another node when one is up, else after
 * the retry policy's backoff (retry_min_backoff doubling to retry_max_backoff, with jitter) and once a
 * node is due back. While every node is out no frame is attempted, so retry_limit counts attempts,
 * not time. Memory buffer: after retry_limit retries a frame's entries are dropped and counted. Disk
 * buffer: no limit; what is left at stop stays on disk. Frames sent again keep their bytes, so their
 * chunk ids are the same; a receiver that took a frame whose ack was lost gets it twice, which Loki
 * keeps once (same stream, time and line).
 */
import type { Logger } from 'pino';
import type { RetryPolicy } from '../common/retry-policy.js';
import { settleRuns } from '../common/settlement.js';
import { ForwardSendError, type ForwardClientConnection } from './client-connection.js';
import type { Frame } from './frame-batcher.js';
import type { ForwardOutputMetrics } from './metrics.js';
import type { NodeState, Upstream } from './upstream.js';

/** Frames in flight on one connection at once: the bench's forward clients keep a window of 8 chunks too. */
export const MAX_FRAMES_PER_CONNECTION = 8;
/** Bytes in flight on one connection, unless a single frame is larger (batch_size is 1M by default). */
export const MAX_BYTES_PER_CONNECTION = 8 * 1024 * 1024;

export interface FrameSenderOptions {
  /** Connections to each node in use at once. */
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
  /** Defaults MAX_FRAMES_PER_CONNECTION and MAX_BYTES_PER_CONNECTION (tests use others). */
  maxFramesPerConnection?: number;
  maxBytesPerConnection?: number;
}

interface Job {
  readonly frame: Frame;
  retries: number;
  /** Date.now() before which it is not sent (a retry's backoff). */
  readyAt: number;
  /** process.hrtime.bigint() when it was handed to its lane. */
  startedAt: bigint;
}

/** One connection in use and the frames in flight on it, in the order they were handed to it. */
interface Lane {
  readonly state: NodeState;
  /** undefined while connecting. */
  connection: ForwardClientConnection | undefined;
  readonly jobs: Job[];
  bytes: number;
  failed: boolean;
}

export class FrameSender {
  private queue: Job[] = [];
  private lanes: Lane[] = [];
  private heldBytes = 0;
  private aborted = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private idleWaiters: (() => void)[] = [];
  private readonly maxFrames: number;
  private readonly maxBytes: number;

  constructor(private readonly options: FrameSenderOptions) {
    this.maxFrames = Math.max(1, options.maxFramesPerConnection ?? MAX_FRAMES_PER_CONNECTION);
    this.maxBytes = Math.max(1, options.maxBytesPerConnection ?? MAX_BYTES_PER_CONNECTION);
  }

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

  /** A frame enqueued now would be sent at once: nothing waits (a retry's backoff included) and a connection has room. */
  get hasRoom(): boolean {
    if (this.queue.length > 0 || this.aborted) return false;
    const state = this.options.upstream.peek();
    let lanes = 0;
    for (const lane of this.lanes) {
      if (lane.state !== state) continue;
      if (this.laneHasRoom(lane, 0)) return true;
      lanes++;
    }
    return lanes < this.options.workers;
  }

  get idle(): boolean {
    return this.lanes.length === 0 && this.queue.length === 0;
  }

  get oldestAt(): number | undefined {
    let oldest: number | undefined;
    const consider = (j: Job): void => {
      if (oldest === undefined || j.frame.firstAt < oldest) oldest = j.frame.firstAt;
    };
    for (const j of this.queue) consider(j);
    for (const lane of this.lanes) for (const j of lane.jobs) consider(j);
    return oldest;
  }

  enqueue(frame: Frame): void {
    if (this.aborted) return;
    this.heldBytes += frame.bytes.length;
    this.queue.push({ frame, retries: 0, readyAt: 0, startedAt: 0n });
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
    for (const lane of this.lanes) {
      for (const job of lane.jobs) left += job.frame.entries;
      lane.failed = true;
      lane.connection?.destroy();
    }
    this.queue = [];
    this.lanes = [];
    this.heldBytes = 0;
    this.wakeIdle();
    return left;
  }

  private laneHasRoom(lane: Lane, bytes: number): boolean {
    if (lane.failed) return false;
    if (lane.jobs.length === 0) return true;
    return lane.jobs.length < this.maxFrames && lane.bytes + bytes <= this.maxBytes;
  }

  private pump(): void {
    if (this.aborted) return;
    const now = Date.now();
    const { upstream } = this.options;
    // Every node is out: nothing is sent until the first is due back (no attempts spent meanwhile).
    const blockedUntil = upstream.hasAvailable(undefined, now) ? 0 : upstream.nextBackAt();
    let nextReady = Infinity;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i]!;
      if (job.readyAt > now || blockedUntil > now) {
        nextReady = Math.min(nextReady, Math.max(job.readyAt, blockedUntil));
        i++;
        continue;
      }
      const lane = this.laneFor(upstream.peek(now), job.frame.bytes.length);
      // Its node's turn has no room: frames keep their order, so the rest waits too.
      if (lane === undefined) break;
      upstream.pick(now);
      this.queue.splice(i, 1);
      this.start(lane, job);
    }
    if (nextReady < Infinity) this.wakeAtTime(nextReady);
    if (this.idle) this.wakeIdle();
  }

  /** A lane to the node with room for `bytes` more: the first one open, or a new one while the node has fewer than `workers`. */
  private laneFor(state: NodeState, bytes: number): Lane | undefined {
    let lanes = 0;
    for (const lane of this.lanes) {
      if (lane.state !== state) continue;
      if (this.laneHasRoom(lane, bytes)) return lane;
      lanes++;
    }
    if (lanes >= this.options.workers) return undefined;
    const lane: Lane = { state, connection: undefined, jobs: [], bytes: 0, failed: false };
    this.lanes.push(lane);
    void this.connect(lane);
    return lane;
  }

  private async connect(lane: Lane): Promise<void> {
    let connection: ForwardClientConnection;
    try {
      connection = await this.options.upstream.acquire(lane.state);
    } catch (err) {
      this.laneFailed(lane, err);
      return;
    }
    if (this.aborted || lane.failed) {
      this.options.upstream.release(lane.state, connection, false);
      return;
    }
    lane.connection = connection;
    for (const job of lane.jobs) this.send(lane, job);
  }

  private start(lane: Lane, job: Job): void {
    lane.jobs.push(job);
    lane.bytes += job.frame.bytes.length;
    job.startedAt = process.hrtime.bigint();
    if (lane.connection !== undefined) this.send(lane, job);
  }

  private send(lane: Lane, job: Job): void {
    lane.connection!.send(job.frame.bytes, job.frame.chunks, this.options.ackTimeoutMs).then(
      () => this.delivered(lane, job),
      (err: unknown) => this.laneFailed(lane, err),
    );
  }

  private delivered(lane: Lane, job: Job): void {
    if (this.aborted) return;
    const at = lane.jobs.indexOf(job);
    // Already sent again after its connection failed (an ack and the failure in the same turn): that
    // attempt settles it.
    if (at < 0) return;
    lane.jobs.splice(at, 1);
    lane.bytes -= job.frame.bytes.length;
    const { upstream, metrics } = this.options;
    upstream.succeeded(lane.state);
    metrics.requestDuration.observe(Number(process.hrtime.bigint() - job.startedAt) / 1e9);
    metrics.records.inc(job.frame.entries);
    metrics.bytes.inc(job.frame.bytes.length);
    metrics.batches.inc();
    if (lane.jobs.length === 0) this.retire(lane, true);
    this.finish(job);
    job.frame.release?.();
    this.pump();
  }

  /** Nothing in flight on it any more: the connection goes back to the upstream (kept or closed). */
  private retire(lane: Lane, reusable: boolean): void {
    const at = this.lanes.indexOf(lane);
    if (at >= 0) this.lanes.splice(at, 1);
    if (lane.connection !== undefined) this.options.upstream.release(lane.state, lane.connection, reusable);
  }

  /** The lane's connection failed: the node is left out once, and every frame still on it is sent again (or dropped). */
  private laneFailed(lane: Lane, thrown: unknown): void {
    if (lane.failed || this.aborted) return;
    lane.failed = true;
    this.retire(lane, false);
    const { upstream, metrics, retry, log } = this.options;
    // Anything else is a bug, but one attempt's bug must not take the process down: log it loudly.
    if (!(thrown instanceof ForwardSendError)) log.error({ err: thrown }, 'forward: unexpected error while sending a frame');
    const err = thrown instanceof ForwardSendError ? thrown : new ForwardSendError('protocol', String(thrown));
    metrics.errors.inc();
    if (err.kind === 'refused' || err.kind === 'handshake') metrics.handshakeFailures.inc();
    if (err.kind === 'ack_timeout') metrics.ackTimeouts.inc();
    const { state } = lane;
    const wasUp = state.failures === 0;
    const downMs = upstream.failed(state);
    const node = state.node.name;
    if (wasUp) log.warn({ node, reason: err.message, retry_node_in_ms: downMs, frames: lane.jobs.length }, `forward: node ${node} failed, leaving it out for a while: ${err.message}`);
    else log.debug({ node, reason: err.message, frames: lane.jobs.length }, 'forward: node still failing');

    const again: Job[] = [];
    const now = Date.now();
    // One wait for them all, from the oldest frame's retries, so that they keep their order.
    const oldest = lane.jobs[0];
    const readyAt = now + (upstream.hasAvailable(state, now) || oldest === undefined ? 0 : retry.delayMs(oldest.retries));
    for (const job of lane.jobs) {
      if (this.options.limitRetries && !retry.canRetry(job.retries)) {
        metrics.drop('retry_limit', job.frame.entries);
        log.error(
          { node, tag: job.frame.tag, entries: job.frame.entries, retries: job.retries, reason: err.message },
          `forward: dropping a frame of ${job.frame.entries} entries after ${job.retries} retries (retry_limit)`,
        );
        this.finish(job);
        continue;
      }
      metrics.retries.inc();
      job.readyAt = readyAt;
      job.retries++;
      again.push(job);
    }
    lane.jobs.length = 0;
    lane.bytes = 0;
    // Older data first: frames sent again go before frames that never left, in their order.
    this.queue.unshift(...again);
    this.pump();
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
