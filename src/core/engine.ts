import type { Logger } from 'pino';
import type { FlokiConfig, PluginInstanceConfig } from './pipeline-config.js';
import type { Metrics } from '../observability/metrics.js';
import type { OutputContext, PluginContext } from './plugin.js';
import type { InputPlugin, OutputPlugin } from './registry-types.js';
import type { InputSlot, OutputUnit } from './slots.js';
import { Pipeline, type PipelineHost } from './pipeline.js';
import { inputStorageTypeOf, keepsQueueOnDisk, sameOutput, type OutputDefinition } from './output-reuse.js';

/**
 * How long an output a reload replaced may go on sending what it holds (memory queue): long enough for
 * its retry_limit to run its course, so a reload during a Loki outage loses nothing the outputs would
 * not have lost anyway. At exit it gets what is left of the grace period like any output.
 */
export const RETIRING_OUTPUT_DEADLINE_MS = 60 * 60 * 1000;

/** The new pipeline of a reload could not start; the engine runs the previous config again (`restored`) or has stopped. */
export class ReloadError extends Error {
  constructor(
    message: string,
    readonly restored: boolean,
  ) {
    super(message);
    this.name = 'ReloadError';
  }
}

/** What a stopped input left for the input replacing it: only taken by the same plugin. */
interface HandOver {
  plugin: InputPlugin;
  state: unknown;
}

/** Waits for `p` for at most `ms`: 'timeout' if it took longer. */
async function within(p: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([p.then(() => 'done' as const), new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), 'timeout')))]);
  clearTimeout(timer);
  return outcome;
}

/**
 * Runs the pipeline a config describes and owns its lifecycle: start, reload, stop. Events flow in
 * a Pipeline (pipeline.ts); backpressure pauses inputs whose outputs are full (backpressure.ts). A
 * reload stops the inputs at a clean point, lets filters send on what they hold, keeps the outputs
 * whose definition did not change (output-reuse.ts) and retires the others, then starts the new
 * pipeline with what the old inputs handed over (tail positions, ...).
 */
export class Engine {
  private pipeline: Pipeline | undefined;
  /** Output instances of the running pipeline, by name. */
  private readonly units = new Map<string, OutputUnit>();
  /** Outputs a reload replaced, still sending what they held. */
  private readonly retiring = new Set<Promise<void>>();
  private readonly lastPauseLog = new Map<string, number>();
  private state: 'new' | 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped' = 'new';
  private reloadDone: Promise<void> = Promise.resolve();
  private readonly counters: Omit<PipelineHost, 'context'>;

  constructor(
    private config_: FlokiConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.counters = {
      recordsIn: metrics.counter('floki_input_records_total', 'Records an input handed to the pipeline.'),
      unrouted: metrics.counter('floki_router_unmatched_records_total', 'Records whose tag matched no output, by input.'),
      filteredOut: metrics.counter('floki_filter_dropped_records_total', 'Records a filter removed.'),
      pausedGauge: metrics.gauge('floki_input_ingestion_paused', 'Whether an input is paused by backpressure (1) or reading (0).'),
    };
  }

  /** The config running now. */
  get config(): FlokiConfig {
    return this.config_;
  }

  /** True from start until stop (also while a reload swaps the pipeline). */
  get running(): boolean {
    return this.state === 'running' || this.state === 'reloading';
  }

  /** Outputs first, then filters, inputs last, so nothing is emitted before it can be taken. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('engine already started');
    this.state = 'starting';
    try {
      this.pipeline = await this.build(this.config_, new Map());
    } catch (err) {
      this.state = 'stopped';
      throw err;
    }
    this.state = 'running';
    const p = this.pipeline;
    this.log.info({ inputs: p.inputs.map((i) => i.name), filters: p.filters.map((f) => f.name), outputs: p.outputs.map((o) => o.name) }, 'floki started');
  }

  /**
   * Replaces the running pipeline with `next`'s, losing and repeating nothing (see the README's "Hot
   * reload"). Throws ReloadError when the new pipeline cannot start: the previous config is then
   * started again (`restored`), or, if that fails too, the engine has stopped.
   */
  async reload(next: FlokiConfig): Promise<void> {
    if (this.state !== 'running') throw new Error(`cannot reload: the engine is ${this.state}`);
    this.state = 'reloading';
    const swap = this.swap(next);
    this.reloadDone = swap.then(
      () => undefined,
      () => undefined,
    );
    try {
      await swap;
    } finally {
      if (this.state === 'reloading') this.state = 'running';
    }
  }

  /**
   * Inputs first (nothing new comes in), then filters send on what they hold, then outputs send what
   * they hold; all within `graceMs`. An input may wait for what it emitted to settle (the tail input's
   * last positions): outputs keep running for the first half of the grace period, or until every input
   * has stopped, and an input that stops within the grace period is always waited for.
   */
  async stop(graceMs = this.config_.service.graceMs): Promise<void> {
    if (this.state === 'reloading') await this.reloadDone;
    if (this.state !== 'running') return;
    this.state = 'stopping';
    const deadline = Date.now() + graceMs;
    const pipeline = this.pipeline!;
    // Inputs stay resumable while they stop: one paused by a full output finishes its chunk once it drains.
    const inputsStopped = this.stopInputs(pipeline.inputs).finally(() => (pipeline.live = false));
    // An input may be waiting on an output (an emit blocked by a full disk buffer) that only gives way
    // once the outputs stop: wait for the inputs for at most half the grace period, then stop outputs.
    const late = (await within(inputsStopped, graceMs / 2)) === 'timeout';
    if (late) this.log.warn({ waited_ms: Math.round(graceMs / 2) }, 'inputs still stopping (an emit is blocked on a full output, or lines wait to settle): stopping the outputs now');
    await this.stopFilters(pipeline);
    await within(pipeline.whenCarried(), deadline - Date.now());
    const units = [...this.units.values()];
    const results = await Promise.allSettled(units.map((u) => u.output.stop(Math.max(0, deadline - Date.now()))));
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') this.log.error({ output: units[i]!.name, err: String(r.reason) }, 'output failed to stop cleanly');
    }
    pipeline.closed = true;
    if (this.retiring.size > 0) await within(Promise.allSettled([...this.retiring]), deadline - Date.now());
    // The outputs have given up what they could not send: an input still finishing (its last positions) gets the rest of the grace.
    if (late && (await within(inputsStopped, deadline - Date.now())) === 'timeout') {
      this.log.warn({ grace_ms: graceMs }, 'an input did not stop within the grace period');
    }
    this.state = 'stopped';
    this.log.info('floki stopped');
  }

  /** Queued bytes per output instance, for health and tests. */
  queuedBytes(): Record<string, number> {
    return Object.fromEntries([...this.units.values()].map((u) => [u.name, u.output.queuedBytes()]));
  }

  private async swap(next: FlokiConfig): Promise<void> {
    const old = this.pipeline!;
    const previous = this.config_;
    const graceMs = previous.service.graceMs;
    const started = Date.now();
    this.log.info({ grace_ms: graceMs }, 'reload: stopping the inputs');
    // Inputs stop at a clean point while the outputs run on and settle what they emitted; one paused by
    // a full output is still resumed, to finish what it took in.
    if ((await within(this.stopInputs(old.inputs), graceMs)) === 'timeout') {
      this.log.warn({ waited_ms: graceMs }, 'reload: an input did not stop within the grace period; starting the new pipeline all the same');
    }
    old.live = false;
    const handed = this.handOvers(old.inputs);
    await this.stopFilters(old);
    await within(old.whenCarried(), graceMs);
    old.closed = true;
    const kept = this.retireChanged(next, graceMs);
    await this.disksClosed(graceMs);
    await this.forgetGauges([...old.inputs.map((i) => i.name), ...old.allFilters().flatMap((f) => [f.name, ...(f.emitter ? [f.emitter.name] : [])])]);
    try {
      this.pipeline = await this.build(next, handed);
      this.config_ = next;
    } catch (err) {
      const reason = (err as Error).message;
      this.log.error({ err: reason }, 'reload: the new pipeline could not start; starting the previous one again');
      this.retireChanged(previous, graceMs);
      await this.disksClosed(graceMs);
      try {
        this.pipeline = await this.build(previous, handed);
      } catch (again) {
        this.state = 'stopped';
        for (const u of [...this.units.values()]) this.retire(u, graceMs);
        throw new ReloadError(`the new pipeline could not start (${reason}), nor could the previous one (${(again as Error).message})`, false);
      }
      throw new ReloadError(`the new pipeline could not start: ${reason}`, true);
    }
    this.log.info({ kept_outputs: kept, took_ms: Date.now() - started, inputs: this.pipeline.inputs.map((i) => i.name), outputs: this.pipeline.outputs.map((o) => o.name) }, 'reload: the new pipeline runs');
  }

  /**
   * Builds and starts `config`'s pipeline around the output instances kept in `units`: outputs first,
   * then filters, inputs last. On failure, what it started is stopped again (the inputs' hand-overs
   * go back into `handed`) and the error is thrown.
   */
  private async build(config: FlokiConfig, handed: Map<string, HandOver>): Promise<Pipeline> {
    const host: PipelineHost = { ...this.counters, context: (c) => this.context(c, config) };
    const pipeline = new Pipeline(host);
    const made: OutputUnit[] = [];
    const startedInputs: InputSlot[] = [];
    const inputStorageType = inputStorageTypeOf(config);
    try {
      for (const c of config.outputs) {
        let unit = this.units.get(c.instanceName);
        if (unit === undefined) {
          unit = this.createOutput({ config: c, service: config.service, inputStorageType }, config);
          made.push(unit);
          this.units.set(unit.name, unit);
          await unit.output.start();
        }
        unit.slot = pipeline.addOutput(unit, c);
      }
      for (const [index, c] of config.filters.entries()) pipeline.addFilter(c, index);
      for (const c of config.inputs) {
        const h = handed.get(c.instanceName);
        pipeline.addInput(c, h !== undefined && h.plugin === c.plugin ? h.state : undefined);
      }
      pipeline.live = true;
      this.pipeline = pipeline;
      for (const slot of pipeline.inputs) {
        await slot.input!.start();
        startedInputs.push(slot);
      }
      return pipeline;
    } catch (err) {
      pipeline.live = false;
      const grace = config.service.graceMs;
      await within(this.stopInputs(startedInputs), grace);
      for (const [name, h] of this.handOvers(startedInputs)) handed.set(name, h);
      await this.stopFilters(pipeline);
      pipeline.closed = true;
      // Outputs nothing was emitted into stop at once; others send what the inputs that started gave them.
      const stopping = made.map((u) => this.retire(u, grace, startedInputs.length === 0 ? 0 : RETIRING_OUTPUT_DEADLINE_MS));
      if (startedInputs.length === 0) await Promise.allSettled(stopping);
      throw err;
    }
  }

  private createOutput(definition: OutputDefinition, config: FlokiConfig): OutputUnit {
    const c = definition.config;
    const unit: OutputUnit = { name: c.instanceName, definition, output: undefined as unknown as OutputUnit['output'], full: false, slot: undefined };
    const ctx: OutputContext = { ...this.context(c, config), setFull: (full) => this.setOutputFull(unit, full), inputStorageType: definition.inputStorageType };
    unit.output = (c.plugin as OutputPlugin).create(c.options, ctx);
    return unit;
  }

  /** Retires the running outputs `next` does not keep as they are; returns the names of those kept. */
  private retireChanged(next: FlokiConfig, graceMs: number): string[] {
    const inputStorageType = inputStorageTypeOf(next);
    const keep = new Set<string>();
    for (const c of next.outputs) {
      const unit = this.units.get(c.instanceName);
      if (unit !== undefined && sameOutput(unit.definition, { config: c, service: next.service, inputStorageType })) keep.add(unit.name);
    }
    for (const unit of [...this.units.values()]) {
      if (keep.has(unit.name)) unit.slot = undefined;
      else void this.retire(unit, graceMs);
    }
    return [...keep];
  }

  /** Outputs being retired that keep their queue on disk, by name: a new instance opens their files only once they are closed. */
  private readonly diskRetiring = new Map<string, Promise<void>>();

  /**
   * Stops an output that is no longer part of the pipeline. One with a disk buffer sends for at most
   * the grace period and leaves the rest on disk for the next instance of its name; one with a memory
   * queue goes on sending in the background (RETIRING_OUTPUT_DEADLINE_MS).
   */
  private retire(unit: OutputUnit, graceMs: number, memoryDeadlineMs = RETIRING_OUTPUT_DEADLINE_MS): Promise<void> {
    this.units.delete(unit.name);
    unit.slot = undefined;
    const onDisk = keepsQueueOnDisk(unit.definition);
    const stopped = unit.output.stop(onDisk ? Math.min(graceMs, memoryDeadlineMs) : memoryDeadlineMs).then(
      () => this.forgotten(unit.name),
      (err: unknown) => this.log.error({ output: unit.name, err: String(err) }, 'output failed to stop cleanly'),
    );
    this.retiring.add(stopped);
    void stopped.finally(() => this.retiring.delete(stopped));
    if (onDisk) {
      this.diskRetiring.set(unit.name, stopped);
      void stopped.finally(() => {
        if (this.diskRetiring.get(unit.name) === stopped) this.diskRetiring.delete(unit.name);
      });
    }
    this.log.info({ output: unit.name, queued_bytes: unit.output.queuedBytes(), disk: onDisk }, onDisk ? 'reload: output replaced; what it holds stays on disk for the next one' : 'reload: output replaced; it sends what it holds in the background');
    return stopped;
  }

  /** Never two instances on one disk buffer: waits for as long as it takes (an output's stop keeps to its deadline). */
  private async disksClosed(graceMs: number): Promise<void> {
    if (this.diskRetiring.size === 0) return;
    const closed = Promise.allSettled([...this.diskRetiring.values()]);
    if ((await within(closed, graceMs + 1000)) === 'done') return;
    this.log.warn({ outputs: [...this.diskRetiring.keys()] }, 'reload: still waiting for a disk-buffered output to close its files before the next one opens them');
    await closed;
  }

  /** A retired output's gauges go once it has stopped, unless an output of its name runs again. */
  private async forgotten(name: string): Promise<void> {
    if (!this.units.has(name)) await this.forgetGauges([name]);
  }

  private async forgetGauges(names: string[]): Promise<void> {
    try {
      await this.metrics.forgetInstances(names);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'reload: could not remove the metrics of stopped instances');
    }
  }

  /** Stops the inputs; resolves when all have (each failure logged). */
  private async stopInputs(slots: InputSlot[]): Promise<void> {
    const results = await Promise.allSettled(slots.map((i) => i.input!.stop()));
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') this.log.error({ input: slots[i]!.name, err: String(r.reason) }, 'input failed to stop cleanly');
    }
  }

  /** What each stopped input leaves for its successor (Input.handOver), by name. */
  private handOvers(slots: InputSlot[]): Map<string, HandOver> {
    const handed = new Map<string, HandOver>();
    for (const slot of slots) {
      const plugin = slot.plugin;
      if (plugin === undefined || slot.input?.handOver === undefined) continue;
      try {
        const state = slot.input.handOver();
        if (state !== undefined) handed.set(slot.name, { plugin, state });
      } catch (err) {
        this.log.warn({ input: slot.name, err: String(err) }, 'reload: an input could not hand over its state; its successor starts afresh');
      }
    }
    return handed;
  }

  /** Filters in pipeline order, so what one sends on while stopping still passes the ones after it. */
  private async stopFilters(pipeline: Pipeline): Promise<void> {
    for (const f of pipeline.allFilters()) {
      try {
        await f.filter.stop?.();
      } catch (err) {
        this.log.error({ filter: f.name, err: String(err) }, 'filter failed to stop cleanly');
      }
    }
  }

  /** A plugin's context; its logger at the instance's own `log_level` when it sets one (`off` silences it). */
  private context(c: PluginInstanceConfig, config: FlokiConfig): PluginContext {
    const level = c.logLevel === undefined ? undefined : c.logLevel === 'off' ? 'silent' : c.logLevel;
    const log = this.log.child({ plugin: c.instanceName }, level === undefined ? undefined : { level });
    return { name: c.instanceName, log, metrics: this.metrics, service: config.service, parsers: config.parsers };
  }

  private setOutputFull(unit: OutputUnit, full: boolean): void {
    if (unit.full === full) return;
    unit.full = full;
    if (full) {
      this.pauses.inc({ name: unit.name });
      // Under sustained load this flips many times a second: log it once per minute per output, count every time.
      const now = Date.now();
      if (now - (this.lastPauseLog.get(unit.name) ?? 0) >= 60_000) {
        this.lastPauseLog.set(unit.name, now);
        this.log.warn({ output: unit.name, queued_bytes: unit.output.queuedBytes() }, 'output queue full: pausing the inputs that feed it (logged once a minute; see floki_output_backpressure_total)');
      }
    }
    const slot = unit.slot;
    if (slot !== undefined) slot.backpressure.outputFull(slot, full);
  }

  private get pauses() {
    return this.metrics.counter('floki_output_backpressure_total', 'Times an output went over its limit and paused the inputs feeding it.');
  }
}
