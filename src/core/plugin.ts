import type { Logger } from 'pino';
import type { LogEvent } from './event.js';
import type { Metrics } from '../observability/metrics.js';
import type { Delivery } from './delivery.js';

/** What the engine gives every plugin instance. */
export interface PluginContext {
  /** Instance name as used in metrics and logs, e.g. `forward.0`, `loki.0` (or the `alias`). */
  readonly name: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** `service` settings the plugin may need (flush interval, storage path). */
  readonly service: ServiceSettings;
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
}

export interface Input {
  start(): Promise<void>;
  /** Stop reading (backpressure). Must not close connections or drop data. */
  pause(): void;
  resume(): void;
  /** Stop accepting, close listeners and connections. */
  stop(): Promise<void>;
}

export interface Filter {
  /** Transform events in place or return a new array; return only the events to keep. */
  process(events: LogEvent[]): LogEvent[];
  stop?(): Promise<void>;
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
