import type { Logger } from 'pino';
import type { FlokiConfig, PluginInstanceConfig } from './pipeline-config.js';
import type { Metrics } from '../observability/metrics.js';
import type { LogEvent } from './event.js';
import type { Filter, FilterContext, FilterFlow, Hold, Input, InputContext, Output, OutputContext, PluginContext } from './plugin.js';
import type { FilterPlugin, InputPlugin, OutputPlugin } from './registry-types.js';
import type { TagMatcher } from './tag-match.js';
import type { Counter } from 'prom-client';
import { Delivery } from './delivery.js';

interface InputSlot {
  name: string;
  input?: Input;
  paused: boolean;
  /** Filters of this input alone (`processors`), before routing. */
  processors: FilterSlot[];
  /** Outputs this input has routed to, so that a full output pauses exactly its feeders. */
  feeds: Set<OutputSlot>;
  routes: Map<string, Route>;
}

interface FilterSlot {
  name: string;
  /** Pipeline filters match tags; processors take every event of their input or output. */
  matcher: TagMatcher | undefined;
  filter: Filter;
  /** Where the filter sits, so that `pass()` continues after it. */
  stage: 'input' | 'pipeline' | 'output';
  index: number;
  owner: InputSlot | OutputSlot | undefined;
  /** The last unfinished asynchronous `process()`, so the next call waits for it (order is kept). */
  busy: Promise<unknown> | undefined;
  /** The input a filter's `emit()` (rewrite_tag) comes in as, made on first use. */
  emitter?: InputSlot;
}

interface OutputSlot {
  name: string;
  matcher: TagMatcher;
  output: Output;
  /** Filters of this output alone (`processors`), just before it takes the events. */
  processors: FilterSlot[];
  full: boolean;
  feeders: Set<InputSlot>;
}

interface Route {
  filters: FilterSlot[];
  outputs: OutputSlot[];
}

type Queued = Promise<void> | undefined;

const NO_WAIT: Promise<void> = Promise.resolve();

/** A hold on nothing: given when the emit did not ask to hear about settlement. */
const NO_HOLD: Hold = { release() {} };
const NO_FLOW: FilterFlow = { hold: () => NO_HOLD };

/** One held entry of an emit; released once. */
class DeliveryHold implements Hold {
  private open = true;
  constructor(private readonly delivery: Delivery) {}
  release(): void {
    if (!this.open) return;
    this.open = false;
    this.delivery.settle(1);
  }
}

/** An event with a record of its own (deep copy), for an output whose processors change it. */
function copyEvent(e: LogEvent): LogEvent {
  const copy: LogEvent = { tag: e.tag, time: e.time, record: structuredClone(e.record) };
  if (e.metadata) copy.metadata = structuredClone(e.metadata);
  if (e.labels) copy.labels = { ...e.labels };
  if (e.line !== undefined) copy.line = e.line;
  return copy;
}

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
  /** Routes of events that filters send on, by tag. */
  private readonly passRoutes = new Map<string, Route>();
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
      const slot: OutputSlot = { name: c.instanceName, matcher: c.matcher!, output: undefined as unknown as Output, processors: [], full: false, feeders: new Set() };
      slot.processors = this.processors(c, 'output', slot);
      const ctx: OutputContext = { ...this.context(c), setFull: (full) => this.setOutputFull(slot, full), inputStorageType };
      slot.output = (c.plugin as OutputPlugin).create(c.options, ctx);
      await slot.output.start();
      this.outputs.push(slot);
    }
    for (const [index, c] of this.config.filters.entries()) this.filters.push(this.filterSlot(c, 'pipeline', index, undefined));
    for (const c of this.config.inputs) {
      const slot: InputSlot = { name: c.instanceName, paused: false, processors: [], feeds: new Set(), routes: new Map() };
      slot.processors = this.processors(c, 'input', slot);
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
    // Filters in pipeline order, so what one sends on while stopping still passes the ones after it.
    const filters = [...this.inputs.flatMap((i) => i.processors), ...this.filters, ...this.outputs.flatMap((o) => o.processors)];
    for (const f of filters) {
      try {
        await f.filter.stop?.();
      } catch (err) {
        this.log.error({ filter: f.name, err: String(err) }, 'filter failed to stop cleanly');
      }
    }
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

  /** A plugin's context; its logger at the instance's own `log_level` when it sets one (`off` silences it). */
  private context(c: PluginInstanceConfig): PluginContext {
    const level = c.logLevel === undefined ? undefined : c.logLevel === 'off' ? 'silent' : c.logLevel;
    const log = this.log.child({ plugin: c.instanceName }, level === undefined ? undefined : { level });
    return { name: c.instanceName, log, metrics: this.metrics, service: this.config.service, parsers: this.config.parsers };
  }

  private processors(c: PluginInstanceConfig, stage: 'input' | 'output', owner: InputSlot | OutputSlot): FilterSlot[] {
    return (c.processors ?? []).map((p, index) => this.filterSlot(p, stage, index, owner));
  }

  private filterSlot(c: PluginInstanceConfig, stage: FilterSlot['stage'], index: number, owner: FilterSlot['owner']): FilterSlot {
    const slot: FilterSlot = { name: c.instanceName, matcher: stage === 'pipeline' ? c.matcher! : undefined, filter: undefined as unknown as Filter, stage, index, owner, busy: undefined };
    const ctx: FilterContext = {
      ...this.context(c),
      pass: (events, holds) => this.carry(holds, (delivery) => this.passOn(slot, events, delivery)),
      emit: (events, holds) => this.carry(holds, (delivery) => this.emitFrom(slot, events, delivery)),
    };
    slot.filter = (c.plugin as FilterPlugin).create(c.options, ctx);
    return slot;
  }

  private emit(input: InputSlot, events: LogEvent[], onSettled?: () => void): Promise<void> {
    if (events.length === 0) {
      if (onSettled) queueMicrotask(onSettled);
      return NO_WAIT;
    }
    this.recordsIn.inc({ name: input.name }, events.length);
    const delivery = onSettled ? new Delivery(onSettled) : undefined;
    try {
      return this.fromInput(input, events, delivery) ?? NO_WAIT;
    } finally {
      delivery?.routed();
    }
  }

  /** Sends events made from held ones on; the holds are released once those events settle. */
  private carry(holds: readonly Hold[], send: (delivery: Delivery | undefined) => Queued): Promise<void> {
    if (this.state === 'stopped') {
      for (const h of holds) h.release();
      return Promise.reject(new Error('floki has stopped'));
    }
    const open = holds.filter((h) => h !== NO_HOLD);
    const delivery = open.length ? new Delivery(() => open.forEach((h) => h.release())) : undefined;
    try {
      return send(delivery) ?? NO_WAIT;
    } finally {
      delivery?.routed();
    }
  }

  /** A filter's `emit()`: from the start of the pipeline, as that filter's emitter input. */
  private emitFrom(slot: FilterSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    if (events.length === 0) return undefined;
    slot.emitter ??= { name: `emitter_for_${slot.name}`, paused: false, processors: [], feeds: new Set(), routes: new Map() };
    this.recordsIn.inc({ name: slot.emitter.name }, events.length);
    return this.routeAll(slot.emitter, events, delivery);
  }

  /** A filter's `pass()`: on from just after it. */
  private passOn(slot: FilterSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    if (events.length === 0) return undefined;
    if (slot.stage === 'input') {
      const input = slot.owner as InputSlot;
      return this.runChain(input.processors, slot.index + 1, events, delivery, (out) => this.routeAll(input, out, delivery));
    }
    if (slot.stage === 'output') {
      const output = slot.owner as OutputSlot;
      return this.runChain(output.processors, slot.index + 1, events, delivery, (out) => this.write(output, out, delivery));
    }
    return this.byTag(events, (tag, list) => {
      const route = this.passRoute(tag);
      let from = 0;
      while (from < route.filters.length && route.filters[from]!.index <= slot.index) from++;
      return this.runChain(route.filters, from, list, delivery, (out) => this.toOutputs(route.outputs, out, delivery, undefined));
    });
  }

  private fromInput(input: InputSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    if (input.processors.length === 0) return this.routeAll(input, events, delivery);
    return this.runChain(input.processors, 0, events, delivery, (out) => this.routeAll(input, out, delivery));
  }

  private routeAll(input: InputSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    return this.byTag(events, (tag, list) => this.deliver(input, tag, list, delivery));
  }

  /** Calls `each` once per tag with that tag's events, in order of first appearance. */
  private byTag(events: LogEvent[], each: (tag: string, events: LogEvent[]) => Queued): Queued {
    const first = events[0]!.tag;
    let sameTag = true;
    for (let i = 1; i < events.length; i++) {
      if (events[i]!.tag !== first) {
        sameTag = false;
        break;
      }
    }
    if (sameTag) return each(first, events);
    const byTag = new Map<string, LogEvent[]>();
    for (const e of events) {
      const list = byTag.get(e.tag);
      if (list) list.push(e);
      else byTag.set(e.tag, [e]);
    }
    const waits: Promise<void>[] = [];
    for (const [tag, list] of byTag) {
      const w = each(tag, list);
      if (w) waits.push(w);
    }
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }

  private deliver(input: InputSlot, tag: string, events: LogEvent[], delivery: Delivery | undefined): Queued {
    const route = this.route(input, tag);
    if (route.filters.length === 0) return this.toOutputs(route.outputs, events, delivery, input);
    return this.runChain(route.filters, 0, events, delivery, (out) => this.toOutputs(route.outputs, out, delivery, input));
  }

  /**
   * Runs `chain[from..]` on the events, then `next` on what is left. Synchronous filters cost no
   * promise; an asynchronous one holds the emit open (one pending entry) until the rest has run.
   */
  private runChain(chain: FilterSlot[], from: number, events: LogEvent[], delivery: Delivery | undefined, next: (events: LogEvent[]) => Queued): Queued {
    for (let i = from; i < chain.length; i++) {
      const slot = chain[i]!;
      const result = this.runFilter(slot, events, delivery);
      if (Array.isArray(result)) {
        events = result;
        if (events.length === 0) return undefined;
        continue;
      }
      delivery?.add(1);
      return result.then(
        (out) => {
          try {
            return out.length ? this.runChain(chain, i + 1, out, delivery, next) : undefined;
          } finally {
            delivery?.settle(1);
          }
        },
        (err: unknown) => {
          delivery?.settle(1);
          throw err;
        },
      );
    }
    return next(events);
  }

  private runFilter(slot: FilterSlot, events: LogEvent[], delivery: Delivery | undefined): LogEvent[] | Promise<LogEvent[]> {
    const before = events.length;
    const flow: FilterFlow = delivery
      ? {
          hold: () => {
            delivery.add(1);
            return new DeliveryHold(delivery);
          },
        }
      : NO_FLOW;
    const count = (out: LogEvent[]): LogEvent[] => {
      if (out.length < before) this.filteredOut.inc({ name: slot.name }, before - out.length);
      return out;
    };
    if (slot.busy === undefined) {
      const out = slot.filter.process(events, flow);
      if (Array.isArray(out)) return count(out);
      return this.track(slot, out.then(count));
    }
    return this.track(slot, slot.busy.then(() => slot.filter.process(events, flow)).then(count));
  }

  /** Remembers a filter's unfinished call so that the next one waits for it. */
  private track(slot: FilterSlot, p: Promise<LogEvent[]>): Promise<LogEvent[]> {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    slot.busy = settled;
    void settled.then(() => {
      if (slot.busy === settled) slot.busy = undefined;
    });
    return p;
  }

  private toOutputs(outputs: OutputSlot[], events: LogEvent[], delivery: Delivery | undefined, input: InputSlot | undefined): Queued {
    if (outputs.length === 0) {
      if (input) this.unrouted.inc({ name: input.name }, events.length);
      return undefined;
    }
    if (outputs.length === 1) return this.write(outputs[0]!, events, delivery);
    const waits: Promise<void>[] = [];
    for (const o of outputs) {
      // An output's processors change events in place: give them a copy of their own.
      const w = this.write(o, o.processors.length ? events.map(copyEvent) : events, delivery);
      if (w) waits.push(w);
    }
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }

  private write(output: OutputSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    if (output.processors.length) return this.runChain(output.processors, 0, events, delivery, (out) => this.take(output, out, delivery));
    return this.take(output, events, delivery);
  }

  private take(output: OutputSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    delivery?.add(events.length);
    return output.output.write(events, delivery) ?? undefined;
  }

  private route(input: InputSlot, tag: string): Route {
    let route = input.routes.get(tag);
    if (route) return route;
    route = this.matching(tag);
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

  /** The route for events a filter sends on: no input to pause, so no feeds are recorded. */
  private passRoute(tag: string): Route {
    let route = this.passRoutes.get(tag);
    if (route) return route;
    route = this.matching(tag);
    if (this.passRoutes.size >= 10_000) this.passRoutes.clear();
    this.passRoutes.set(tag, route);
    return route;
  }

  private matching(tag: string): Route {
    return {
      filters: this.filters.filter((f) => f.matcher!.matches(tag)),
      outputs: this.outputs.filter((o) => o.matcher.matches(tag)),
    };
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
