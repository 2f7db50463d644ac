import type { Logger } from 'pino';
import type { FlokiConfig, PluginInstanceConfig } from '../config/load.js';
import type { Metrics } from '../observability/metrics.js';
import type { LogEvent } from './event.js';
import type { Filter, Input, InputContext, Output, OutputContext, PluginContext } from './plugin.js';
import type { FilterPlugin, InputPlugin, OutputPlugin } from './registry-types.js';
import type { TagMatcher } from './tag-match.js';
import type { Counter } from 'prom-client';
import { Delivery } from './delivery.js';

interface InputSlot {
  name: string;
  input?: Input;
  paused: boolean;
  /** Outputs this input has routed to, so that a full output pauses exactly its feeders. */
  feeds: Set<OutputSlot>;
  routes: Map<string, Route>;
}

interface FilterSlot {
  name: string;
  matcher: TagMatcher;
  filter: Filter;
}

interface OutputSlot {
  name: string;
  matcher: TagMatcher;
  output: Output;
  full: boolean;
  feeders: Set<InputSlot>;
}

interface Route {
  filters: FilterSlot[];
  outputs: OutputSlot[];
}

const NO_WAIT: Promise<void> = Promise.resolve();

/**
 * Wires the pipeline: inputs → router (tags) → filters → output queues, and owns lifecycle and
 * backpressure. Components know nothing of each other; a full output pauses the inputs that feed it.
 */
export class Engine {
  private readonly inputs: InputSlot[] = [];
  private readonly filters: FilterSlot[] = [];
  private readonly outputs: OutputSlot[] = [];
  private readonly recordsIn: Counter<string>;
  private readonly unrouted: Counter<string>;
  private readonly filteredOut: Counter<string>;
  private readonly pauses: Counter<string>;
  private readonly lastPauseLog = new Map<string, number>();
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(
    private readonly config: FlokiConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.recordsIn = metrics.counter('floki_input_records_total', 'Records an input handed to the pipeline.');
    this.unrouted = metrics.counter('floki_router_unmatched_records_total', 'Records whose tag matched no output, by input.');
    this.filteredOut = metrics.counter('floki_filter_dropped_records_total', 'Records a filter removed.');
    this.pauses = metrics.counter('floki_output_backpressure_total', 'Times an output went over its limit and paused the inputs feeding it.');
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Outputs first, then filters, inputs last, so nothing is emitted before it can be taken. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('engine already started');
    const inputStorageType = this.config.inputs.some((c) => c.storageType === 'filesystem') ? 'filesystem' : 'memory';
    for (const c of this.config.outputs) {
      const slot: OutputSlot = { name: c.instanceName, matcher: c.matcher!, output: undefined as unknown as Output, full: false, feeders: new Set() };
      const ctx: OutputContext = { ...this.context(c), setFull: (full) => this.setOutputFull(slot, full), inputStorageType };
      slot.output = (c.plugin as OutputPlugin).create(c.options, ctx);
      await slot.output.start();
      this.outputs.push(slot);
    }
    for (const c of this.config.filters) {
      this.filters.push({ name: c.instanceName, matcher: c.matcher!, filter: (c.plugin as FilterPlugin).create(c.options, this.context(c)) });
    }
    for (const c of this.config.inputs) {
      const slot: InputSlot = { name: c.instanceName, paused: false, feeds: new Set(), routes: new Map() };
      const engine = this;
      const ctx: InputContext = {
        ...this.context(c),
        emit: (events, onSettled) => engine.emit(slot, events, onSettled),
        get paused() {
          return slot.paused;
        },
      };
      slot.input = (c.plugin as InputPlugin).create(c.options, ctx);
      this.inputs.push(slot);
    }
    this.state = 'running';
    for (const slot of this.inputs) await slot.input!.start();
    this.log.info({ inputs: this.inputs.map((i) => i.name), filters: this.filters.map((f) => f.name), outputs: this.outputs.map((o) => o.name) }, 'floki started');
  }

  /** Inputs first (nothing new comes in), then outputs send what they hold for at most `graceMs`. */
  async stop(graceMs = this.config.service.graceMs): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    const deadline = Date.now() + graceMs;
    // An input may be waiting on an output (an emit blocked by a full disk buffer) that only gives way
    // once the outputs stop: wait for the inputs for at most half the grace period, then stop outputs.
    const inputsStopped = Promise.allSettled(this.inputs.map((i) => i.input!.stop()));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      inputsStopped.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, Math.max(0, graceMs / 2), true))),
    ]);
    clearTimeout(timer);
    if (late) this.log.warn({ waited_ms: Math.round(graceMs / 2) }, 'inputs still stopping (an emit is blocked on a full output): stopping the outputs now');
    await Promise.allSettled(this.filters.map((f) => f.filter.stop?.()));
    const results = await Promise.allSettled(this.outputs.map((o) => o.output.stop(Math.max(0, deadline - Date.now()))));
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') this.log.error({ output: this.outputs[i]!.name, err: String(r.reason) }, 'output failed to stop cleanly');
    }
    this.state = 'stopped';
    this.log.info('floki stopped');
  }

  /** Queued bytes per output instance, for health and tests. */
  queuedBytes(): Record<string, number> {
    return Object.fromEntries(this.outputs.map((o) => [o.name, o.output.queuedBytes()]));
  }

  private context(c: PluginInstanceConfig): PluginContext {
    return { name: c.instanceName, log: this.log.child({ plugin: c.instanceName }), metrics: this.metrics, service: this.config.service };
  }

  private emit(input: InputSlot, events: LogEvent[], onSettled?: () => void): Promise<void> {
    if (events.length === 0) {
      if (onSettled) queueMicrotask(onSettled);
      return NO_WAIT;
    }
    this.recordsIn.inc({ name: input.name }, events.length);
    const delivery = onSettled ? new Delivery(onSettled) : undefined;
    try {
      return this.routeAll(input, events, delivery);
    } finally {
      delivery?.routed();
    }
  }

  private routeAll(input: InputSlot, events: LogEvent[], delivery: Delivery | undefined): Promise<void> {
    const first = events[0]!.tag;
    let sameTag = true;
    for (let i = 1; i < events.length; i++) {
      if (events[i]!.tag !== first) {
        sameTag = false;
        break;
      }
    }
    if (sameTag) return this.deliver(input, first, events, delivery);
    const byTag = new Map<string, LogEvent[]>();
    for (const e of events) {
      const list = byTag.get(e.tag);
      if (list) list.push(e);
      else byTag.set(e.tag, [e]);
    }
    const waits: Promise<void>[] = [];
    for (const [tag, list] of byTag) waits.push(this.deliver(input, tag, list, delivery));
    return Promise.all(waits).then(() => undefined);
  }

  private deliver(input: InputSlot, tag: string, events: LogEvent[], delivery: Delivery | undefined): Promise<void> {
    const route = this.route(input, tag);
    for (const f of route.filters) {
      const before = events.length;
      events = f.filter.process(events);
      if (events.length !== before) this.filteredOut.inc({ name: f.name }, before - events.length);
      if (events.length === 0) return NO_WAIT;
    }
    if (route.outputs.length === 0) {
      this.unrouted.inc({ name: input.name }, events.length);
      return NO_WAIT;
    }
    delivery?.add(events.length * route.outputs.length);
    if (route.outputs.length === 1) return route.outputs[0]!.output.write(events, delivery) ?? NO_WAIT;
    const waits: Promise<void>[] = [];
    for (const o of route.outputs) {
      const w = o.output.write(events, delivery);
      if (w) waits.push(w);
    }
    return waits.length ? Promise.all(waits).then(() => undefined) : NO_WAIT;
  }

  private route(input: InputSlot, tag: string): Route {
    let route = input.routes.get(tag);
    if (route) return route;
    route = {
      filters: this.filters.filter((f) => f.matcher.matches(tag)),
      outputs: this.outputs.filter((o) => o.matcher.matches(tag)),
    };
    // Tags come from the wire: bound the cache so a sender inventing tags cannot grow it forever.
    if (input.routes.size >= 10_000) input.routes.clear();
    input.routes.set(tag, route);
    for (const o of route.outputs) {
      if (!input.feeds.has(o)) {
        input.feeds.add(o);
        o.feeders.add(input);
        if (o.full) this.pauseInput(input);
      }
    }
    return route;
  }

  private setOutputFull(output: OutputSlot, full: boolean): void {
    if (output.full === full) return;
    output.full = full;
    if (full) {
      this.pauses.inc({ name: output.name });
      // Under sustained load this flips many times a second: log it once per minute per output, count every time.
      const now = Date.now();
      if (now - (this.lastPauseLog.get(output.name) ?? 0) >= 60_000) {
        this.lastPauseLog.set(output.name, now);
        this.log.warn({ output: output.name, queued_bytes: output.output.queuedBytes() }, 'output queue full: pausing the inputs that feed it (logged once a minute; see floki_output_backpressure_total)');
      }
      for (const input of output.feeders) this.pauseInput(input);
    } else {
      for (const input of output.feeders) {
        let stillFull = false;
        for (const o of input.feeds) if (o.full) stillFull = true;
        if (!stillFull) this.resumeInput(input);
      }
    }
  }

  private pauseInput(input: InputSlot): void {
    if (input.paused) return;
    input.paused = true;
    this.pausedGauge.set({ name: input.name }, 1);
    input.input?.pause();
  }

  private resumeInput(input: InputSlot): void {
    if (!input.paused) return;
    input.paused = false;
    this.pausedGauge.set({ name: input.name }, 0);
    if (this.state === 'running') input.input?.resume();
  }

  private get pausedGauge() {
    return this.metrics.gauge('floki_input_ingestion_paused', 'Whether an input is paused by backpressure (1) or reading (0).');
  }
}
