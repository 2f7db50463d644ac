import type { Delivery } from '../../core/delivery.js';
import type { Writable } from 'node:stream';
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Output, OutputContext } from '../../core/plugin.js';
import { Rfc3339NanoFormatter, STDOUT_FORMATS, formatBatch, type JsonDate, type StdoutFormat } from './format.js';
import { JSON_DATE_FORMATS, type JsonDateFormat } from './fluent-bit-format.js';

export const stdoutOptions: readonly OptionSpec[] = [
  {
    name: 'format',
    type: 'string',
    default: 'readable',
    choices: STDOUT_FORMATS,
    description:
      "floki's `readable`: `<time> <tag> {labels} <line>` per entry, the line and labels Loki would get; floki's `loki_json_lines`: one JSON object per entry with `tag`, `time` (RFC3339, nanoseconds), `labels` and `line`. Fluent Bit's: `json_lines` and `json_stream` (one record a line, the time under json_date_key first), `json` (a batch as one array), `msgpack` (Fluent Bit's readable dump, its default). Fluentd's: `fluentd` (`2026-12-02 10:13:00.123456789 +0000 tag: {json}`, local time).",
  },
  {
    name: 'json_date_key',
    type: 'string',
    default: 'date',
    description: 'Fluent Bit JSON formats: the key of the record time, first in the record; `false` leaves it out.',
  },
  {
    name: 'json_date_format',
    type: 'string',
    default: 'double',
    choices: JSON_DATE_FORMATS,
    description:
      'Fluent Bit JSON formats: the time as `double` (seconds with six decimals), `epoch` (seconds), `epoch_ms`, `iso8601` (`2026-11-25T10:00:00.000123Z`) or `java_sql_timestamp` (`2026-11-25 10:00:00.000123`).',
  },
];

interface Counted {
  inc(n: number): void;
}

/**
 * Writes each batch to a stream (process.stdout) in one write. The stream's own buffer is the queue:
 * when `write()` returns false the output reports itself full until 'drain', so the engine pauses
 * the inputs instead of letting a slow terminal or pipe grow memory without bound.
 */
export class StdoutOutput implements Output {
  private readonly format: StdoutFormat;
  private readonly date: JsonDate;
  private readonly time = new Rfc3339NanoFormatter();
  private pending = 0;
  private full = false;
  private broken = false;
  private idleWaiters: Array<() => void> = [];
  private readonly records: Counted;
  private readonly bytes: Counted;
  private readonly dropped: Counted;

  constructor(
    options: ResolvedOptions,
    private readonly ctx: OutputContext,
    private readonly stream: Writable = process.stdout,
  ) {
    this.format = STDOUT_FORMATS.includes(options.format as StdoutFormat) ? (options.format as StdoutFormat) : 'readable';
    const key = typeof options.json_date_key === 'string' ? options.json_date_key : 'date';
    this.date = {
      key: /^(false|off|no)$/i.test(key) || key === '' ? undefined : key,
      format: JSON_DATE_FORMATS.includes(options.json_date_format as JsonDateFormat) ? (options.json_date_format as JsonDateFormat) : 'double',
    };
    const m = ctx.metrics;
    this.records = m.counter('floki_output_proc_records_total', 'Records (entries) an output delivered').labels(ctx.name);
    this.bytes = m.counter('floki_output_proc_bytes_total', 'Bytes an output delivered').labels(ctx.name);
    this.dropped = m.counter('floki_output_dropped_records_total', 'Records an output gave up on, by reason', ['name', 'reason']).labels(ctx.name, 'closed_stream');
    // Without a listener, EPIPE (`floki | head`) would crash the process.
    stream.on('error', this.onError);
  }

  async start(): Promise<void> {}

  write(events: LogEvent[], delivery?: Delivery): void {
    if (events.length === 0) return;
    if (this.broken) {
      this.dropped.inc(events.length);
      delivery?.settle(events.length);
      return;
    }
    const chunk = Buffer.from(formatBatch(events, this.format, this.time, this.date), 'utf8');
    const size = chunk.length;
    this.pending += size;
    const count = events.length;
    const accepted = this.stream.write(chunk, (err) => {
      if (err) this.failed(err, count);
      else this.written(size, count);
      delivery?.settle(count);
    });
    if (!accepted && !this.full) {
      this.full = true;
      this.ctx.setFull(true);
      this.stream.once('drain', this.onDrain);
    }
  }

  queuedBytes(): number {
    return this.pending;
  }

  /** Waits until the stream has taken every batch, or the deadline; the stream itself stays open (it is stdout). */
  async stop(deadlineMs: number): Promise<void> {
    if (this.pending > 0 && !this.broken) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        timer = setTimeout(resolve, Math.max(0, deadlineMs));
      });
      clearTimeout(timer);
    }
    this.stream.off('drain', this.onDrain);
    this.stream.off('error', this.onError);
  }

  private written(size: number, count: number): void {
    if (this.broken) return;
    this.pending -= size;
    this.records.inc(count);
    this.bytes.inc(size);
    if (this.pending === 0) this.wakeIdle();
  }

  private failed(err: Error, count: number): void {
    this.dropped.inc(count);
    this.onError(err);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private readonly onDrain = (): void => {
    this.full = false;
    this.ctx.setFull(false);
  };

  private readonly onError = (err: Error | null | undefined): void => {
    if (this.broken) return;
    this.broken = true;
    this.ctx.log.error({ err }, 'stdout output cannot write; dropping what follows');
    // What the stream held is lost with it; nothing is queued any more, so nothing should pause inputs.
    this.pending = 0;
    if (this.full) this.onDrain();
    this.wakeIdle();
  };
}
