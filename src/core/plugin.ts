import type { Logger } from 'pino';
import type { LogEvent } from './event.js';
import type { Metrics } from '../observability/metrics.js';
import type { Delivery } from './delivery.js';
import type { ParserRegistry } from '../parsers/registry.js';

/** What the engine gives every plugin instance. */
export interface PluginContext {
  /** Instance name as used in metrics and logs, e.g. `forward.0`, `loki.0` (or the `alias`). */
  readonly name: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** `service` settings the plugin may need (flush interval, storage path). */
  readonly service: ServiceSettings;
  /** The config's parsers and multiline parsers (with the stock ones), by name. */
  readonly parsers: ParserRegistry;
}

export interface ServiceSettings {
  flushMs: number;
  graceMs: number;
  logLevel: string;
  storagePath?: string;
}

export interface InputContext extends PluginContext {
  /**
   * Hand a batch of events to the pipeline. Resolves once the events are in every matching output's
   * queue (on disk for a disk-buffered output): that is when a forward `chunk` may be acked.
   * Rejects with `BackpressureError` only when an output cannot take them at all (a full disk).
   * Events are routed by their own `tag`.
   *
   * `onSettled`, when given, is called once every event of this emit has reached its final outcome
   * in every output (delivered, persisted on disk, or given up on for good; never for entries
   * abandoned at shutdown). Inputs that commit progress (tail positions) use it.
   */
  emit(events: LogEvent[], onSettled?: () => void): Promise<void>;
  /** True while an output fed by this input is over its limit: stop reading until `resume()` is called. */
  readonly paused: boolean;
  /**
   * On a reload: what the instance this one replaces returned from `handOver()` (an input of the same
   * plugin and name in the previous config); undefined at first start. The plugin checks that it
   * applies (the tail input: the same `path` patterns) before continuing from it.
   */
  readonly handedOver?: unknown;
}

export interface Input {
  start(): Promise<void>;
  /** Stop reading (backpressure). Must not close connections or drop data. */
  pause(): void;
  resume(): void;
  /**
   * Stop at a clean point: accept and read nothing more, finish what was taken in (a forward chunk
   * being emitted is acked before its connection closes; a tail input waits for its lines in flight
   * to settle and writes its positions), then close listeners and connections. Resolves once the
   * input will emit nothing more. Called at exit and at every reload (the port of a listener is free
   * again once it resolves, for the input replacing it).
   *
   * Time: the engine waits for stop() for up to `service.grace`. The outputs go on sending (and
   * settling what the input emitted) while it waits: at exit for the first half of the grace period
   * (or until every input has stopped), then they stop and give up what they could not send, which
   * settles nothing more; at a reload for all of it. So an input may wait up to `grace / 2` for its
   * emits to settle and still have its last write (positions) waited for; past the grace period the
   * process may exit without it.
   */
  stop(): Promise<void>;
  /**
   * At a reload, after stop() resolved: what the input replacing this one (same plugin, same name) may
   * continue from, given to it as `InputContext.handedOver` (the tail input's positions without a
   * `db`, the kubernetes_events input's resourceVersion). Inputs with nothing to carry leave it out.
   */
  handOver?(): unknown;
}

export interface Filter {
  /**
   * Transform events in place or return a new array; return only the events to keep (a dropped event
   * counts as delivered: acks and tail positions move past it). May return a promise (a filter that
   * waits for metadata): calls to one filter instance stay in order, the next waits for this one.
   * Events kept back to send later (a multiline filter's unfinished entry) are taken with `flow.hold()`
   * and sent on with `ctx.pass()`.
   */
  process(events: LogEvent[], flow: FilterFlow): LogEvent[] | Promise<LogEvent[]>;
  /**
   * Called after the inputs stopped and before the outputs stop (at exit, and at every reload, when
   * the filter is replaced by the new config's): send on (`ctx.pass`) what is held, and resolve once
   * it is queued.
   */
  stop?(): Promise<void>;
}

/** Given with each `process()` call. */
export interface FilterFlow {
  /**
   * Keeps the emit this call belongs to open (its forward ack is not held, but its `onSettled`, which
   * moves tail positions, is) until the hold is passed on with the events made from it, or released.
   */
  hold(): Hold;
}

/** An open part of an emit, held by a filter. */
export interface Hold {
  /** The held entries reached their final outcome without being sent on (dropped, counted). Idempotent. */
  release(): void;
}

export interface FilterContext extends PluginContext {
  /**
   * Sends events on from just after this filter (the next filters of the same stage, then the outputs
   * their tags match), e.g. a multiline entry flushed by its timeout. The holds are released once these
   * events have settled in every output. Resolves when they are queued.
   */
  pass(events: LogEvent[], holds: readonly Hold[]): Promise<void>;
  /**
   * Emits events into the pipeline from the start, routed by their own tags (rewrite_tag's re-emitted
   * records), as this filter's emitter input (named `emitter_for_<name>` in metrics). The holds are
   * released once the events have settled. Resolves when they are queued.
   */
  emit(events: LogEvent[], holds: readonly Hold[]): Promise<void>;
}

export interface OutputContext extends PluginContext {
  /** The output calls this whenever its queued bytes change across its limit. */
  setFull(full: boolean): void;
  /**
   * `filesystem` when an input of the pipeline set `storage.type filesystem`: events it emits must be
   * on disk before `write()` resolves, so an output that can buffer on disk should.
   */
  readonly inputStorageType?: 'memory' | 'filesystem';
}

export interface Output {
  start(): Promise<void>;
  /**
   * Accept events into this output's queue. Resolves when they are queued (persisted in disk mode).
   * Memory mode accepts even over the limit (Fluent Bit's permissive mem_buf_limit) and calls
   * `ctx.setFull(true)` so the engine pauses the inputs feeding it.
   * When `delivery` is given, call `delivery.settle(n)` as entries reach their final outcome
   * (see core/delivery.ts); `events.length` entries were added to it for this output.
   */
  write(events: LogEvent[], delivery?: Delivery): Promise<void> | void;
  /** Bytes currently held (queued, batching, in flight). */
  queuedBytes(): number;
  /** Send what is queued, for at most `deadlineMs`, then stop. */
  stop(deadlineMs: number): Promise<void>;
}

export class BackpressureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackpressureError';
  }
}
