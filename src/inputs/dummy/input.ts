import { OptionValueError, type OptionSpec, type ResolvedOptions } from '../../config/options.js';
import { NS_PER_SECOND, nowNs, type LogEvent } from '../../core/event.js';
import type { Input, InputContext } from '../../core/plugin.js';

export const dummyOptions: readonly OptionSpec[] = [
  {
    name: 'dummy',
    type: 'any',
    default: '{"message":"dummy"}',
    description: 'The record to generate: a JSON object as a string, or a YAML map.',
  },
  { name: 'rate', type: 'int', default: 1, description: 'Records per second.' },
  { name: 'samples', type: 'int', default: 0, description: 'Stop after this many records; 0 generates without end.' },
  { name: 'tag', type: 'string', default: 'dummy', description: 'Tag of the generated records.' },
  {
    name: 'start_time_sec',
    type: 'int',
    default: -1,
    description: 'A fixed timestamp (seconds part) for every record; -1 (with start_time_nsec -1) uses the current time.',
  },
  {
    name: 'start_time_nsec',
    type: 'int',
    default: -1,
    description: 'A fixed timestamp (nanoseconds part) for every record; -1 (with start_time_sec -1) uses the current time.',
  },
];

/** Above this rate the timer ticks every MIN_TICK_MS and each tick emits the records that are due. */
const MIN_TICK_MS = 10;
const TIMER_SLACK_MS = 1;

/**
 * Fluent Bit's `dummy` input: generates one record `rate` times a second. Records due in one tick go
 * out as one batch, and how many are due follows the clock rather than the timer count, so timer jitter
 * does not change the rate. The first record goes out at start, so a user sees output at once.
 */
export class DummyInput implements Input {
  private readonly template: string;
  private readonly rate: number;
  private readonly samples: number;
  private readonly tag: string;
  private readonly fixedTime: bigint | undefined;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private stopped = false;
  private emitting = false;
  private lastEmit: Promise<void> = Promise.resolve();
  private emitFailing = false;
  /** Records sent overall, for `samples`. */
  private total = 0;
  /** Start of the current schedule and records sent since then. */
  private since = 0;
  private sentSince = 0;

  constructor(options: ResolvedOptions, private readonly ctx: InputContext) {
    this.template = recordTemplate(options.dummy ?? '{"message":"dummy"}');
    this.rate = intOption(options.rate, 1);
    this.samples = intOption(options.samples, 0);
    this.tag = typeof options.tag === 'string' && options.tag.length > 0 ? options.tag : 'dummy';
    if (this.rate < 1) throw new OptionValueError(`rate: expected at least 1 record per second, got ${this.rate}`);
    if (this.samples < 0) throw new OptionValueError(`samples: expected 0 (no limit) or more, got ${this.samples}`);
    const sec = intOption(options.start_time_sec, -1);
    const nsec = intOption(options.start_time_nsec, -1);
    this.fixedTime = sec >= 0 || nsec >= 0 ? BigInt(Math.max(sec, 0)) * NS_PER_SECOND + BigInt(Math.max(nsec, 0)) : undefined;
    this.tickMs = Math.max(MIN_TICK_MS, Math.floor(1000 / this.rate));
  }

  async start(): Promise<void> {
    // A reload: `samples` counts what the dummy input this one replaces sent, so none is sent twice.
    const handed = this.ctx.handedOver as { sent?: unknown } | undefined;
    if (typeof handed?.sent === 'number') this.total = handed.sent;
    this.schedule();
  }

  pause(): void {
    this.paused = true;
    this.clearTimer();
  }

  resume(): void {
    if (!this.paused || this.stopped) return;
    this.paused = false;
    // A new schedule from now: records missed while paused are not made up in a burst.
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.lastEmit;
  }

  /** At a reload: how many records were sent, for `samples`. */
  handOver(): { sent: number } {
    return { sent: this.total };
  }

  private schedule(): void {
    if (this.stopped || this.done()) return;
    this.since = performance.now();
    this.sentSince = 0;
    this.clearTimer();
    this.timer = setInterval(this.tick, this.tickMs);
    setImmediate(this.tick);
  }

  private readonly tick = (): void => {
    if (this.stopped || this.paused || this.ctx.paused || this.emitting) return;
    if (this.done()) {
      this.clearTimer();
      return;
    }
    // +1: the record at the schedule's start is due at once. TIMER_SLACK_MS: libuv timers count whole
    // milliseconds and may fire a fraction early by this clock, which would skip a record at low rates.
    const elapsed = performance.now() - this.since + TIMER_SLACK_MS;
    let due = Math.floor((elapsed * this.rate) / 1000) + 1 - this.sentSince;
    if (due <= 0) return;
    const catchUp = Math.max(1, Math.ceil(this.rate / 10));
    if (due > catchUp) {
      // Fell behind by over 100 ms (a slow emit, a busy machine, ctx.paused): send 100 ms' worth, not the
      // whole backlog, and start the schedule over with this batch as its first record. One emit stays
      // small beside mem_buf_limit, which takes the write that crosses it whole.
      due = catchUp;
      this.since = performance.now();
      this.sentSince = 1 - due;
    }
    if (this.samples > 0) due = Math.min(due, this.samples - this.total);
    this.sentSince += due;
    this.total += due;
    this.emitting = true;
    this.lastEmit = this.emit(this.batch(due));
  };

  private batch(count: number): LogEvent[] {
    const events: LogEvent[] = new Array(count);
    for (let i = 0; i < count; i++) {
      // A fresh record each time: filters may change records in place.
      events[i] = { tag: this.tag, time: this.fixedTime ?? nowNs(), record: JSON.parse(this.template) as Record<string, unknown> };
    }
    return events;
  }

  private async emit(events: LogEvent[]): Promise<void> {
    try {
      await this.ctx.emit(events);
      this.emitFailing = false;
    } catch (err) {
      // Log the first failure of a run, not every tick's.
      if (!this.emitFailing) this.ctx.log.warn({ err }, 'dummy input could not emit records');
      this.emitFailing = true;
    } finally {
      this.emitting = false;
      if (this.done()) this.clearTimer();
    }
  }

  private done(): boolean {
    return this.samples > 0 && this.total >= this.samples;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The record as canonical JSON, parsed again for each record so none share objects. */
function recordTemplate(value: unknown): string {
  let record: unknown = value;
  if (typeof value === 'string') {
    try {
      record = JSON.parse(value);
    } catch {
      throw new OptionValueError(`dummy: expected a JSON object, got '${value.length > 80 ? value.slice(0, 80) + '…' : value}'`);
    }
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new OptionValueError('dummy: expected a JSON object or a map');
  }
  return JSON.stringify(record);
}

function intOption(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}
