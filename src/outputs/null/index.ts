/**
 * The `null` output (Fluent Bit's out_null, Fluentd's out_null): takes events and drops them, counting
 * them as delivered, so whatever waits on their delivery (tail positions, forward acks) moves on.
 */
import type { OptionSpec } from '../../config/options.js';
import type { Delivery } from '../../core/delivery.js';
import type { LogEvent } from '../../core/event.js';
import type { Output, OutputContext } from '../../core/plugin.js';
import type { OutputPlugin } from '../../core/registry-types.js';

export const nullOptions: readonly OptionSpec[] = [];

interface Counted {
  inc(n: number): void;
}

export class NullOutput implements Output {
  private readonly records: Counted;

  constructor(ctx: OutputContext) {
    this.records = ctx.metrics.counter('floki_output_proc_records_total', 'Records (entries) an output delivered').labels(ctx.name);
  }

  async start(): Promise<void> {}

  write(events: LogEvent[], delivery?: Delivery): void {
    if (events.length === 0) return;
    this.records.inc(events.length);
    delivery?.settle(events.length);
  }

  queuedBytes(): number {
    return 0;
  }

  async stop(): Promise<void> {}
}

export const nullOutput: OutputPlugin = {
  kind: 'output',
  name: 'null',
  description: 'Drops every event it takes, counting it as delivered (Fluent Bit\'s and Fluentd\'s `null`)',
  options: nullOptions,
  create: (_options, ctx) => new NullOutput(ctx),
};
