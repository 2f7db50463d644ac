import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { strtod, strtodLength } from '../common/c-numbers.js';
import { ThrottleWindow } from './window.js';

export const throttleOptions: readonly OptionSpec[] = [
  { name: 'rate', type: 'string', default: '1', description: 'Records per interval, on average over the window (a number; 1 or less means 1, as in Fluent Bit).' },
  { name: 'window', type: 'int', default: 5, description: 'Intervals to average over (1 or less means 5, as in Fluent Bit).' },
  {
    name: 'interval',
    type: 'string',
    default: '1',
    description:
      'Length of an interval: a number with `s`, `m`, `h` or `d` (`3s`, `1.5m`), cut to whole seconds and at least 1 s, as Fluent Bit sleeps. Fluent Bit reads a value with any other ending as that many seconds (`500ms` is 500 s): floki does too, with a warning.',
  },
  { name: 'print_status', type: 'bool', default: false, description: 'Log the limit and the current rate at each interval (info level).' },
];

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** The interval in whole seconds as Fluent Bit's parse_duration and sleep() read it, and whether it read it cleanly. */
export function intervalSeconds(text: string): { seconds: number; clean: boolean } {
  const length = strtodLength(text);
  const n = length > 0 ? strtod(text.slice(0, length)) : 0;
  const suffix = text.slice(length);
  const unit = UNIT_SECONDS[suffix];
  const clean = n > 0 && unit !== undefined;
  // An unreadable suffix leaves the number as seconds (Fluent Bit warns that it falls back to 1 s, but does not).
  const seconds = Math.trunc(n * (unit ?? 1));
  // sleep(0) turns Fluent Bit's ticker into a loop that adds a pane whenever the second changes.
  return { seconds: Math.max(1, seconds), clean };
}

/**
 * Fluent Bit's throttle: one window per filter instance, shared by every tag it matches. Ticks are
 * counted from the clock when records come (and by a timer with print_status), not by a thread.
 */
export class ThrottleFilter implements Filter {
  private readonly window: ThrottleWindow;
  private readonly rate: number;
  private readonly intervalMs: number;
  private nextTick: number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    options: ResolvedOptions,
    private readonly ctx: PluginContext,
    private readonly now: () => number = Date.now,
  ) {
    const rate = strtod(String(options.rate ?? '1'));
    this.rate = rate > 1 ? rate : 1;
    const size = Number(options.window ?? 5);
    this.window = new ThrottleWindow(size > 1 ? size : 5);
    const interval = intervalSeconds(String(options.interval ?? '1'));
    if (!interval.clean) ctx.log.warn({ interval: options.interval, seconds: interval.seconds }, `interval is not a number of s, m, h or d: read as ${interval.seconds} s, as Fluent Bit reads it`);
    this.intervalMs = interval.seconds * 1000;
    const start = now();
    this.window.tick(Math.floor(start / 1000));
    this.nextTick = start + this.intervalMs;
    if (options.print_status === true) {
      this.timer = setInterval(() => this.printStatus(String(options.interval ?? '1')), this.intervalMs);
      this.timer.unref();
    }
  }

  process(events: LogEvent[]): LogEvent[] {
    this.advance(this.now());
    let kept: LogEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const admitted = this.window.admit(this.rate);
      if (kept !== undefined) {
        if (admitted) kept.push(events[i]!);
      } else if (!admitted) kept = events.slice(0, i);
    }
    return kept ?? events;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  /** The ticks due by `now`; after a long quiet spell only the last `size` matter. */
  private advance(now: number): void {
    if (now < this.nextTick) return;
    const due = Math.floor((now - this.nextTick) / this.intervalMs) + 1;
    const replay = Math.min(due, this.window.size);
    const first = this.nextTick + (due - replay) * this.intervalMs;
    for (let k = 0; k < replay; k++) this.window.tick(Math.floor((first + k * this.intervalMs) / 1000));
    this.nextTick += due * this.intervalMs;
  }

  private printStatus(interval: string): void {
    this.advance(this.now());
    this.ctx.log.info(
      `${Math.floor(this.now() / 1000)}: limit is ${this.rate.toFixed(2)} per ${interval} with window size of ${this.window.size}, current rate is: ${this.window.rate()} per interval`,
    );
  }
}
