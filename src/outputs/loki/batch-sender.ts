/**
 * Sends closed batches to Loki, at most `workers` requests at a time, and decides each outcome:
 * - 2xx: delivered;
 * - 429, 5xx, network errors, timeouts: the same entries again after the retry policy's wait (at
 *   least Loki's Retry-After). In memory mode only `retry_limit` retries, then dropped (`retry_limit`);
 *   with the disk buffer without limit (the disk is the limit);
 * - 400 (and 413): Loki refused some entries, maybe one, maybe of another client than the rest. The
 *   batch is sent again as two halves, and a half refused again is halved again, until the refused
 *   entries stand alone: only they are dropped, counted under the reason Loki gave (push-errors.ts).
 *   Isolating one refused entry among n takes 2·⌈log2 n⌉ more requests; a batch may spend
 *   8·⌈log2 n⌉ (batch-parts.ts), then a refused part is dropped whole. When Loki names a
 *   time bound (too old, too new), the entries past it are set aside at once. Resending the accepted
 *   part of a partial success is harmless: Loki stores an identical entry once. Any other 4xx is
 *   dropped whole (`http_<status>`): a smaller request would be refused alike.
 *
 * Order and head-of-line blocking. A stream is identified by tenant and label string. A batch is
 * started only when no batch sharing one of its streams is in flight or queued before it, so each
 * stream's entries reach Loki in the order they were batched (sorted by time within a batch), even
 * with several workers. A batch waiting to be retried is put back at the head of the queue with a
 * "not before" time: it does not hold a worker, and batches with none of its streams go past it.
 * A 429 that names streams (per-stream rate limit) splits the batch: the named streams wait, the
 * others are sent again at once. A 429 naming none (the tenant's ingestion rate or stream limit)
 * holds back every batch of that tenant until the wait is over; other tenants keep flowing.
 */
import type { Logger } from 'pino';
import type { ClosedBatch } from './batcher.js';
import type { BodyCodec } from './body-codec.js';
import type { LokiEntry } from './encoder.js';
import type { PushOutcome } from './http-transport.js';
import type { LokiOutputMetrics } from './loki-metrics.js';
import { refusedTimes, rejectReason, streamsNamedIn } from './push-errors.js';
import { parseRetryAfter, type RetryPolicy } from '../common/retry-policy.js';
import { countEntries, halve, isolationBudget, partition } from './batch-parts.js';
import { settleRuns, SharedSettlement, type SettleRun } from '../common/settlement.js';

export interface PushTransport {
  push(body: Uint8Array, tenant?: string): Promise<PushOutcome>;
  /** Abort requests in flight; later pushes fail at once. */
  close(): void;
}

export interface BatchSenderOptions {
  workers: number;
  codec: Pick<BodyCodec, 'encode' | 'decode'>;
  transport: PushTransport;
  retry: RetryPolicy;
  /** false with the disk buffer: retry without limit. */
  limitRetries: boolean;
  /**
   * What stopping does to entries not delivered: `drop` (memory: they are lost, counted as
   * `shutdown`), `keep` (disk: they stay in their segment files for the next start).
   */
  onAbandon: 'drop' | 'keep';
  metrics: LokiOutputMetrics;
  log: Logger;
  /** Called whenever a batch leaves the sender (delivered or dropped): held bytes went down. */
  onSettled(): void;
}

interface Job {
  readonly tenant: string | undefined;
  /**
   * Only the body is kept (several times smaller than the entries): a split decodes it again, and
   * keeps the entries it decoded here.
   */
  streams: Map<string, LokiEntry[]> | undefined;
  /** The first entry, for the log line of a rejected batch. */
  readonly sample: { labels: string; ts: bigint; line: string };
  /** A decode for a split is under way. */
  decoding: boolean;
  readonly entries: number;
  readonly bytes: number;
  readonly runs: SettleRun[];
  readonly firstAt: number;
  /** `tenant \0 labels` of each stream: what ordering and head-of-line rules look at. */
  readonly keys: string[];
  body: Promise<Uint8Array>;
  retries: number;
  /** Date.now() before which the job is not sent (a retry's wait). */
  notBefore: number;
  /** Set on the parts of a batch Loki refused: the requests its isolation may still make. */
  isolation: Isolation | undefined;
}

interface Isolation {
  left: number;
}

/** Log a retry at warn at most this often per output; the rest go to debug (an outage retries a lot). */
const RETRY_WARN_EVERY_MS = 10_000;

export class BatchSender {
  private queue: Job[] = [];
  private active = 0;
  private readonly inFlight = new Set<Job>();
  private readonly busyKeys = new Set<string>();
  /** Tenants held back by a tenant-wide 429, until Date.now() reaches the value. */
  private readonly tenantHold = new Map<string, number>();
  private heldBytes = 0;
  /** Bytes of queued batches held back by a retry's wait or a rate limit (as of the last pump). */
  private stuckBytes = 0;
  private aborted = false;
  private abandoned = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private lastRetryWarn = 0;
  private lastRejectLog = 0;
  private rejectsUnlogged = 0;
  private lastSplitLog = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatchSenderOptions) {}

  /** Bytes of batches queued, waiting to be retried, or in flight. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /**
   * Bytes queued or in flight that are not held back by a retry's wait or a rate limit: what a reader
   * should count against its window, so that a held-back tenant or stream does not stop the others.
   */
  get flowingBytes(): number {
    return this.heldBytes - this.stuckBytes;
  }

  get idle(): boolean {
    return this.active === 0 && this.queue.length === 0;
  }

  /** Date.now() of the oldest entry held, or undefined. */
  get oldestAt(): number | undefined {
    let oldest: number | undefined;
    for (const j of this.queue) if (oldest === undefined || j.firstAt < oldest) oldest = j.firstAt;
    for (const j of this.inFlight) if (oldest === undefined || j.firstAt < oldest) oldest = j.firstAt;
    return oldest;
  }

  /** Encode the batch now (compression may run on a thread), so its body is ready when a worker is free. */
  enqueue(batch: ClosedBatch): void {
    if (this.aborted) {
      this.abandon(batch.entries);
      return;
    }
    const job = this.job(batch.tenant, batch.streams, batch.entries, batch.bytes, batch.runs, batch.firstAt, 0);
    this.heldBytes += job.bytes;
    this.queue.push(job);
    this.pump();
  }

  /**
   * Wait until everything queued is sent, for at most `deadlineMs`; then abort what is left.
   * Resolves with the number of entries not delivered.
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
    return this.abandoned;
  }

  /** Give up: abandon queued and waiting batches, abort requests in flight. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    for (const job of this.queue.splice(0)) {
      this.heldBytes -= job.bytes;
      this.abandon(job.entries);
    }
    this.options.transport.close();
    this.options.onSettled();
    this.notifyIfIdle();
  }

  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private job(
    tenant: string | undefined,
    streams: Map<string, LokiEntry[]>,
    entries: number,
    bytes: number,
    runs: SettleRun[],
    firstAt: number,
    retries: number,
  ): Job {
    const prefix = keyPrefix(tenant);
    const keys: string[] = [];
    for (const labels of streams.keys()) keys.push(prefix + labels);
    const [firstLabels, firstEntries] = streams.entries().next().value as [string, LokiEntry[]];
    const first = firstEntries[0]!;
    let body: Promise<Uint8Array>;
    try {
      body = this.options.codec.encode(streams);
    } catch (err) {
      body = Promise.reject(err);
    }
    const job: Job = {
      tenant,
      // encode() has read the entries: they are not needed any more (a split decodes the body), and
      // holding them while the body is compressed elsewhere made them outlive a young-generation GC:
      // in the node-agent bench that copied and promoted ~1.6 KB a record (issue #14).
      streams: undefined,
      sample: { labels: firstLabels, ts: first.ts, line: first.line.length > 256 ? `${first.line.slice(0, 256)}…` : first.line },
      decoding: false,
      entries,
      bytes,
      runs,
      firstAt,
      keys,
      body,
      retries,
      notBefore: 0,
      isolation: undefined,
    };
    // (A failure is handled in attempt().)
    body.catch(() => undefined);
    return job;
  }

  /** The job's entries: kept until encoded, decoded from the body after that. */
  private async streamsOf(job: Job): Promise<Map<string, LokiEntry[]>> {
    if (job.streams !== undefined) return job.streams;
    const streams = await this.options.codec.decode(await job.body);
    // The body may have been decoded twice at once; either copy will do.
    job.streams ??= streams;
    return streams;
  }

  /** Decode a job held back in part, then look at the queue again (the split happens in pump()). */
  private prepareSplit(job: Job): void {
    if (job.decoding) return;
    job.decoding = true;
    this.streamsOf(job).then(
      () => {
        job.decoding = false;
        this.pump();
      },
      (err: unknown) => {
        job.decoding = false;
        this.options.log.error({ err }, 'loki: cannot decode a queued batch to split it; it waits whole');
      },
    );
  }

  private notifyIfIdle(): void {
    if (!this.idle || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Start every job that may go now, in queue order, up to `workers` in flight. A job blocked only
   * in part by streams held back for a retry is split: its free streams go now.
   */
  private pump(): void {
    let stuck = 0;
    if (this.aborted || this.queue.length === 0) {
      this.stuckBytes = 0;
      return;
    }
    const now = Date.now();
    /** Streams of jobs earlier in the queue that are not starting now: later jobs must not overtake them. */
    let passed: Set<string> | undefined;
    /** Streams held back by a retry's wait or a tenant's rate limit. */
    let held: Set<string> | undefined;
    let wake = Infinity;
    const { workers } = this.options;
    // Without a retry's wait or a rate limit anywhere, nothing is held back: once every worker is busy,
    // the rest of the queue can neither start nor be stuck, and need not be walked (the walk adds each
    // job's streams to a set: with many jobs queued behind a slow Loki that was most of a core).
    const holds = this.tenantHold.size > 0 || this.queue.some((j) => j.notBefore > now);
    for (let i = 0; i < this.queue.length; ) {
      if (!holds && this.active >= workers) break;
      const job = this.queue[i]!;
      const tenantKey = job.tenant ?? '\u0000';
      let hold = this.tenantHold.get(tenantKey);
      if (hold !== undefined && hold <= now) {
        this.tenantHold.delete(tenantKey);
        hold = undefined;
      }
      if (job.notBefore > now || hold !== undefined) {
        wake = Math.min(wake, job.notBefore > now ? job.notBefore : Infinity, hold ?? Infinity);
        passed ??= new Set();
        held ??= new Set();
        for (const k of job.keys) {
          passed.add(k);
          held.add(k);
        }
        stuck += job.bytes;
        i++;
        continue;
      }
      let blocked: string[] | undefined;
      let heldBack = false;
      for (const k of job.keys) {
        if (this.busyKeys.has(k) || passed?.has(k)) {
          (blocked ??= []).push(k);
          if (held?.has(k)) heldBack = true;
        }
      }
      const canStart = this.active < workers;
      if (blocked === undefined && canStart) {
        this.queue.splice(i, 1);
        this.start(job);
        continue;
      }
      if (blocked !== undefined && heldBack && blocked.length < job.keys.length && canStart) {
        if (job.streams === undefined) this.prepareSplit(job);
        else {
          const stuckKeys = new Set(blocked);
          const [rest, free] = this.split(job, job.streams, (key) => stuckKeys.has(key));
          this.queue[i] = rest;
          this.start(free);
        }
      }
      passed ??= new Set();
      for (const k of this.queue[i]!.keys) passed.add(k);
      if (heldBack) {
        for (const k of blocked!) held!.add(k);
        stuck += this.queue[i]!.bytes;
      }
      i++;
    }
    this.stuckBytes = stuck;
    if (wake !== Infinity) this.wakeAtTime(wake, now);
  }

  private wakeAtTime(at: number, now: number): void {
    if (this.wakeTimer !== undefined && this.wakeAt <= at) return;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      this.pump();
    }, Math.max(0, at - now));
  }

  private start(job: Job): void {
    this.active++;
    this.inFlight.add(job);
    for (const k of job.keys) this.busyKeys.add(k);
    this.attempt(job)
      .catch((err: unknown) => {
        this.options.log.error({ err, entries: job.entries }, 'loki: unexpected error while sending a batch, dropping it');
        this.options.metrics.drop('error', job.entries);
        this.final(job);
      })
      .finally(() => {
        this.active--;
        this.inFlight.delete(job);
        for (const k of job.keys) this.busyKeys.delete(k);
        this.pump();
        this.options.onSettled();
        this.notifyIfIdle();
      });
  }

  /** Entries reached their final outcome: no longer held, targets told. */
  private final(job: Job): void {
    this.heldBytes -= job.bytes;
    settleRuns(job.runs);
  }

  private abandon(entries: number): void {
    this.abandoned += entries;
    if (this.options.onAbandon === 'drop') this.options.metrics.drop('shutdown', entries);
  }

  private async attempt(job: Job): Promise<void> {
    const { transport, metrics, log } = this.options;
    let body: Uint8Array;
    try {
      body = await job.body;
    } catch (err) {
      log.error({ err, entries: job.entries }, 'loki: could not encode a batch, dropping it');
      metrics.drop('error', job.entries);
      this.final(job);
      return;
    }
    if (this.aborted) return this.leave(job);
    if (job.retries > 0) metrics.retries.inc();
    const started = performance.now();
    const outcome = await transport.push(body, job.tenant);
    metrics.requestDuration.observe((performance.now() - started) / 1000);
    const status = outcome.status;
    if (status >= 200 && status < 300) {
      metrics.records.inc(job.entries);
      metrics.bytes.inc(job.bytes);
      metrics.batches.inc();
      this.final(job);
      return;
    }
    metrics.errors.inc();
    if (this.aborted) return this.leave(job);
    if (status === 400 || status === 413) return this.isolate(job, outcome);
    if (status !== 0 && status !== 429 && status < 500) return this.reject(job, outcome);
    // A 429 may name streams to hold back: the entries are needed to split the batch.
    const streams = status === 429 && job.streams === undefined ? await this.streamsOf(job).catch(() => undefined) : job.streams;
    if (this.aborted) return this.leave(job);
    this.retryLater(job, outcome, streams);
  }

  /** Stopping while this job was out: it is neither delivered nor dropped for good. */
  private leave(job: Job): void {
    this.heldBytes -= job.bytes;
    this.abandon(job.entries);
  }

  /**
   * Loki refused some of the job's entries (400), or the request's size (413): send it again in two
   * halves, at the place in the queue where it was, unless it is one entry (then it is refused) or
   * its batch spent its isolation budget (then it is dropped whole).
   */
  private async isolate(job: Job, outcome: PushOutcome): Promise<void> {
    if (job.entries <= 1) return this.reject(job, outcome);
    const isolation = job.isolation ?? { left: isolationBudget(job.entries) };
    if (isolation.left < 2) return this.reject(job, outcome, 'its batch spent its isolation budget, so it is dropped whole');
    let streams: Map<string, LokiEntry[]>;
    try {
      streams = await this.streamsOf(job);
    } catch (err) {
      this.options.log.error({ err }, 'loki: cannot decode a refused batch to split it');
      return this.reject(job, outcome);
    }
    if (this.aborted) return this.leave(job);

    let parts: Job[] | undefined;
    const bound = outcome.status === 400 ? refusedTimes(outcome.body) : undefined;
    if (bound !== undefined) {
      // Loki named a time bound: what lies past it is refused for sure; the rest goes again whole.
      const outside = (e: LokiEntry): boolean => (bound.before !== undefined && e.ts < bound.before) || (bound.from !== undefined && e.ts >= bound.from);
      const [refused, kept] = partition(streams, outside);
      if (kept.size === 0) return this.reject(job, outcome, 'past the time bound Loki named');
      if (refused.size > 0) {
        const [r, k] = this.halves(job, refused, kept);
        this.reject(r, outcome, 'past the time bound Loki named');
        isolation.left -= 1;
        parts = [k];
      }
    }
    if (parts === undefined) {
      isolation.left -= 2;
      parts = this.halves(job, ...halve(streams));
    }
    for (const p of parts) p.isolation = isolation;
    this.options.metrics.splits.inc();
    this.insertAhead(job.keys, parts);
    const now = Date.now();
    if (job.isolation === undefined && now - this.lastSplitLog >= RETRY_WARN_EVERY_MS) {
      this.lastSplitLog = now;
      this.options.log.warn(
        { status: outcome.status, tenant: job.tenant, entries: job.entries, response: outcome.body.trim() || undefined },
        `loki: push refused with HTTP ${outcome.status}; sending its ${job.entries} entries again in parts, to drop only those Loki refuses (logged at most every ${RETRY_WARN_EVERY_MS / 1000}s; see floki_output_rejected_splits_total)`,
      );
    }
  }

  /** Queue parts of a job that was in flight before the first queued job sharing a stream with it, so each stream keeps its order. */
  private insertAhead(keys: readonly string[], parts: Job[]): void {
    const shared = new Set(keys);
    let at = this.queue.findIndex((q) => q.keys.some((k) => shared.has(k)));
    if (at < 0) at = this.queue.length;
    this.queue.splice(at, 0, ...parts);
  }

  /** Drop the job's entries for good under Loki's reason; logged at most every RETRY_WARN_EVERY_MS, with Loki's text and a sample. */
  private reject(job: Job, outcome: PushOutcome, why?: string): void {
    const reason = rejectReason(outcome.status, outcome.body);
    this.options.metrics.drop(reason, job.entries);
    this.final(job);
    const now = Date.now();
    if (now - this.lastRejectLog < RETRY_WARN_EVERY_MS) {
      this.rejectsUnlogged += job.entries;
      return;
    }
    this.lastRejectLog = now;
    const text = outcome.body.trim();
    const sample = job.sample;
    const earlier = this.rejectsUnlogged;
    this.rejectsUnlogged = 0;
    this.options.log.error(
      {
        status: outcome.status,
        reason,
        tenant: job.tenant,
        entries: job.entries,
        response: text,
        sample: { labels: sample.labels, ts: sample.ts.toString(), line: sample.line },
        ...(earlier > 0 ? { droppedSinceLastLog: earlier } : {}),
      },
      `loki: push refused with HTTP ${outcome.status} (${reason}), dropping ${job.entries} entries${why ? ` (${why})` : ''} (not retried; logged at most every ${RETRY_WARN_EVERY_MS / 1000}s, see floki_output_dropped_records_total): ${text}`,
    );
  }

  private retryLater(job: Job, outcome: PushOutcome, streams: Map<string, LokiEntry[]> | undefined): void {
    const { retry, metrics, log } = this.options;
    const problem = outcome.error ? outcome.error.message : `HTTP ${outcome.status}`;
    if (this.options.limitRetries && !retry.canRetry(job.retries)) {
      log.error(
        { status: outcome.status, error: outcome.error?.message, tenant: job.tenant, entries: job.entries, retries: job.retries, response: outcome.body || undefined },
        `loki: push failed (${problem}) after ${job.retries} retries, dropping ${job.entries} entries`,
      );
      metrics.drop('retry_limit', job.entries);
      metrics.retriesFailed.inc();
      this.final(job);
      return;
    }
    const now = Date.now();
    const waitMs = retry.delayMs(job.retries, parseRetryAfter(outcome.retryAfter));
    job.retries++;
    job.notBefore = now + waitMs;
    let scope = '';
    if (outcome.status === 429) {
      const prefix = keyPrefix(job.tenant);
      const named = streamsNamedIn(outcome.body, job.keys.map((k) => k.slice(prefix.length)));
      if (named.length > 0 && named.length < job.keys.length && streams !== undefined) {
        scope = `; ${named.length} of ${job.keys.length} streams rate-limited, the others are sent again now`;
        const limitedKeys = new Set(named.map((labels) => prefix + labels));
        const [limited, rest] = this.split(job, streams, (key) => limitedKeys.has(key));
        limited.notBefore = now + waitMs;
        rest.notBefore = now;
        this.queue.unshift(limited, rest);
      } else {
        if (named.length === 0) {
          this.tenantHold.set(job.tenant ?? '\u0000', now + waitMs);
          scope = job.tenant === undefined ? '' : `; tenant ${job.tenant} held back`;
        }
        this.queue.unshift(job);
      }
    } else {
      this.queue.unshift(job);
    }
    const fields = { status: outcome.status, error: outcome.error?.message, tenant: job.tenant, retry: job.retries, waitMs, entries: job.entries, response: outcome.body || undefined };
    const message = `loki: push failed (${problem}), retry ${job.retries} in ${waitMs}ms${scope}`;
    if (now - this.lastRetryWarn >= RETRY_WARN_EVERY_MS) {
      this.lastRetryWarn = now;
      log.warn(fields, `${message} (logged at most every ${RETRY_WARN_EVERY_MS / 1000}s; see floki_output_retries_total)`);
    } else log.debug(fields, message);
  }

  /** Splits a job by stream key into [matching, other]; both parts settle the original runs together. */
  private split(job: Job, streams: Map<string, LokiEntry[]>, matches: (key: string) => boolean): [Job, Job] {
    const a = new Map<string, LokiEntry[]>();
    const b = new Map<string, LokiEntry[]>();
    const prefix = keyPrefix(job.tenant);
    for (const [labels, entries] of streams) {
      if (matches(prefix + labels)) a.set(labels, entries);
      else b.set(labels, entries);
    }
    return this.halves(job, a, b);
  }

  /** Two jobs of a job's entries, in `a` and `b`, that settle the original runs together (each one unit). */
  private halves(job: Job, a: Map<string, LokiEntry[]>, b: Map<string, LokiEntry[]>): [Job, Job] {
    const aEntries = countEntries(a);
    const aBytes = Math.round((job.bytes * aEntries) / job.entries);
    const shared = new SharedSettlement(job.runs, 2);
    const partA = this.job(job.tenant, a, aEntries, aBytes, [{ target: shared, count: 1 }], job.firstAt, job.retries);
    const partB = this.job(job.tenant, b, job.entries - aEntries, job.bytes - aBytes, [{ target: shared, count: 1 }], job.firstAt, job.retries);
    partA.notBefore = partB.notBefore = job.notBefore;
    return [partA, partB];
  }
}

function keyPrefix(tenant: string | undefined): string {
  return tenant === undefined ? '\u0000' : `${tenant}\u0000`;
}
