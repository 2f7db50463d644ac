/**
 * Backpressure: a full output pauses the inputs whose records reach it, and resumes them once no
 * output they feed is full. Records reach an output directly (routes by tag) or re-emitted by a filter
 * (rewrite_tag's emitter): then the inputs whose records the filter re-emitted are its feeders too, as
 * Fluent Bit's emitter pauses its senders. Re-emitted records that a filter re-emits again pass the
 * pause on along the chain; a loop of emitters ends where an input already feeds the output. The links only grow within a pipeline (one config); a reload
 * starts a new set.
 */
import type { Gauge } from 'prom-client';
import type { FilterSlot, InputSlot, OutputSlot } from './slots.js';

export class Backpressure {
  constructor(
    private readonly pausedGauge: Gauge<string>,
    /** Inputs are resumed only while the engine runs: a stopping input stays paused. */
    private readonly running: () => boolean,
  ) {}

  /** `input`'s records reach `output`. */
  link(input: InputSlot, output: OutputSlot): void {
    if (input.feeds.has(output)) return;
    input.feeds.add(output);
    output.feeders.add(input);
    if (output.unit.full) this.pause(input);
    // What a filter re-emits comes from the records that went through it.
    const filter = input.emitterOf;
    if (filter !== undefined) for (const up of filter.upstream) this.link(up, output);
  }

  /** `filter` re-emitted records of `input`'s (Fluent Bit: the input is one of the emitter's senders). */
  through(input: InputSlot, filter: FilterSlot): void {
    if (filter.upstream.has(input)) return;
    filter.upstream.add(input);
    if (filter.emitter !== undefined) for (const o of filter.emitter.feeds) this.link(input, o);
  }

  /** The output's queue went over its limit, or came back under it. */
  outputFull(output: OutputSlot, full: boolean): void {
    if (full) {
      for (const input of output.feeders) this.pause(input);
      return;
    }
    for (const input of output.feeders) {
      let stillFull = false;
      for (const o of input.feeds) if (o.unit.full) stillFull = true;
      if (!stillFull) this.resume(input);
    }
  }

  private pause(input: InputSlot): void {
    if (input.paused) return;
    input.paused = true;
    this.pausedGauge.set({ name: input.name }, 1);
    input.input?.pause();
  }

  private resume(input: InputSlot): void {
    if (!input.paused) return;
    input.paused = false;
    this.pausedGauge.set({ name: input.name }, 0);
    if (this.running()) input.input?.resume();
  }
}
