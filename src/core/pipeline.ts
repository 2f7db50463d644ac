/**
 * One pipeline: the inputs, filters and output slots of one config, and how events flow through them:
 * inputs → (input processors) → router (tags) → filters → (output processors) → outputs. The engine
 * builds one at start and one per reload; inputs and filters live and die with their pipeline, output
 * instances may be handed from one to the next (see slots.ts).
 */
import type { Counter, Gauge } from 'prom-client';
import type { PluginInstanceConfig } from './pipeline-config.js';
import type { LogEvent } from './event.js';
import type { FilterContext, FilterFlow, Hold, InputContext, PluginContext } from './plugin.js';
import type { FilterPlugin, InputPlugin } from './registry-types.js';
import type { FilterSlot, InputSlot, OutputSlot, OutputUnit, Route } from './slots.js';
import { Backpressure } from './backpressure.js';
import { Delivery } from './delivery.js';
import { RecordFailures } from './record-failures.js';
import { RouteCache } from './route-cache.js';

type Queued = Promise<void> | undefined;

const NO_WAIT: Promise<void> = Promise.resolve();

/**
 * A hold on nothing (the emit did not ask to hear about settlement), which still says where the
 * events came from: an input whose records a filter re-emits is paused with the emitter's outputs.
 */
class SourceHold implements Hold {
  constructor(readonly source: InputSlot | undefined) {}
  release(): void {}
}

const NO_SOURCE_FLOW: FilterFlow = { hold: () => new SourceHold(undefined) };

/** One held entry of an emit; released once. */
class DeliveryHold implements Hold {
  private open = true;
  constructor(
    private readonly delivery: Delivery,
    readonly source: InputSlot | undefined,
  ) {}
  release(): void {
    if (!this.open) return;
    this.open = false;
    this.delivery.settle(1);
  }
}

function sourceOf(hold: Hold | undefined): InputSlot | undefined {
  return hold instanceof DeliveryHold || hold instanceof SourceHold ? hold.source : undefined;
}

/** The flow given to filters with events of `source` whose emit does not wait for settlement: one per input. */
function flowOf(source: InputSlot | undefined): FilterFlow {
  if (source === undefined) return NO_SOURCE_FLOW;
  if (source.flow === undefined) {
    const hold = new SourceHold(source);
    source.flow = { hold: () => hold };
  }
  return source.flow;
}

/** What every pipeline shares: the process's metrics and the plugin contexts. */
export interface PipelineHost {
  /** A plugin's context (logger, metrics, service settings, parsers). */
  context(c: PluginInstanceConfig): PluginContext;
  readonly recordsIn: Counter<string>;
  readonly unrouted: Counter<string>;
  readonly filteredOut: Counter<string>;
  readonly pausedGauge: Gauge<string>;
}

/**
 * An event with a record of its own (deep copy), for an output whose processors change it. Throws for
 * a record structuredClone cannot copy (nested some thousands of levels deep).
 */
function copyEvent(e: LogEvent): LogEvent {
  const copy: LogEvent = { tag: e.tag, time: e.time, record: structuredClone(e.record) };
  if (e.metadata) copy.metadata = structuredClone(e.metadata);
  if (e.labels) copy.labels = { ...e.labels };
  if (e.line !== undefined) copy.line = e.line;
  return copy;
}

export class Pipeline {
  readonly inputs: InputSlot[] = [];
  readonly filters: FilterSlot[] = [];
  readonly outputs: OutputSlot[] = [];
  readonly backpressure: Backpressure;
  /** Routes of events that filters send on, by tag. */
  private readonly passRoutes = new RouteCache();
  /** The same for Fluentd's labels (route groups other than the default), by group. */
  private readonly groupRoutes = new Map<string, RouteCache>();
  /** While false, paused inputs are not resumed (they are stopping). */
  live = false;
  /** Once true, filters can no longer send on or emit (their pipeline is gone). */
  closed = false;
  /** Filters' pass() and emit() not queued yet, so that retiring outputs wait for them. */
  private carrying = 0;
  private carried: (() => void)[] = [];
  /** Per filter or output slot: records dropped alone because handling them threw. */
  private readonly failures = new WeakMap<FilterSlot | OutputSlot, RecordFailures>();

  constructor(private readonly host: PipelineHost) {
    this.backpressure = new Backpressure(host.pausedGauge, () => this.live);
  }

  /** Gives the pipeline an output instance, taking `c`'s match and processors. */
  addOutput(unit: OutputUnit, c: PluginInstanceConfig): OutputSlot {
    const slot: OutputSlot = { name: unit.name, unit, matcher: c.matcher!, processors: [], feeders: new Set(), backpressure: this.backpressure };
    if (c.routeGroup !== undefined) slot.group = c.routeGroup;
    if (c.relabel !== undefined) slot.relabel = c.relabel;
    slot.processors = (c.processors ?? []).map((p, index) => this.filterSlot(p, 'output', index, slot));
    if (slot.processors.length || slot.relabel !== undefined) this.failures.set(slot, new RecordFailures(this.host.context(c)));
    this.outputs.push(slot);
    return slot;
  }

  addFilter(c: PluginInstanceConfig, index: number): void {
    this.filters.push(this.filterSlot(c, 'pipeline', index, undefined));
  }

  /** Creates the input; `handedOver` is what the instance it replaces at a reload left (see Input.handOver). */
  addInput(c: PluginInstanceConfig, handedOver: unknown): InputSlot {
    const plugin = c.plugin as InputPlugin;
    const slot: InputSlot = { name: c.instanceName, plugin, paused: false, processors: [], feeds: new Set(), routes: new RouteCache() };
    if (c.routeGroup !== undefined) slot.group = c.routeGroup;
    slot.processors = (c.processors ?? []).map((p, index) => this.filterSlot(p, 'input', index, slot));
    const pipeline = this;
    const ctx: InputContext = {
      ...this.host.context(c),
      emit: (events, onSettled) => pipeline.emit(slot, events, onSettled),
      get paused() {
        return slot.paused;
      },
      handedOver,
    };
    slot.input = plugin.create(c.options, ctx);
    this.inputs.push(slot);
    return slot;
  }

  /** Every filter, in the order events pass them: input processors, pipeline filters, output processors. */
  allFilters(): FilterSlot[] {
    return [...this.inputs.flatMap((i) => i.processors), ...this.filters, ...this.outputs.flatMap((o) => o.processors)];
  }

  /** Resolves once no filter's pass() or emit() is on its way to the outputs. */
  whenCarried(): Promise<void> {
    if (this.carrying === 0) return NO_WAIT;
    return new Promise((resolve) => this.carried.push(resolve));
  }

  private filterSlot(c: PluginInstanceConfig, stage: FilterSlot['stage'], index: number, owner: FilterSlot['owner']): FilterSlot {
    const slot: FilterSlot = {
      name: c.instanceName,
      matcher: stage === 'pipeline' ? c.matcher! : undefined,
      filter: undefined as unknown as FilterSlot['filter'],
      stage,
      index,
      owner,
      busy: undefined,
      upstream: new Set(),
    };
    if (c.routeGroup !== undefined) slot.group = c.routeGroup;
    const ctx: FilterContext = {
      ...this.host.context(c),
      pass: (events, holds) => this.carry(holds, (delivery) => this.passOn(slot, events, delivery, sourceOf(holds[0]))),
      emit: (events, holds) => this.carry(holds, (delivery) => this.emitFrom(slot, events, delivery, holds)),
    };
    slot.filter = (c.plugin as FilterPlugin).create(c.options, ctx);
    this.failures.set(slot, new RecordFailures(ctx));
    return slot;
  }

  private emit(input: InputSlot, events: LogEvent[], onSettled?: () => void): Promise<void> {
    if (events.length === 0) {
      if (onSettled) queueMicrotask(onSettled);
      return NO_WAIT;
    }
    this.host.recordsIn.inc({ name: input.name }, events.length);
    const delivery = onSettled ? new Delivery(onSettled) : undefined;
    try {
      return this.fromInput(input, events, delivery) ?? NO_WAIT;
    } finally {
      delivery?.routed();
    }
  }

  /** Sends events made from held ones on; the holds are released once those events settle. */
  private carry(holds: readonly Hold[], send: (delivery: Delivery | undefined) => Queued): Promise<void> {
    if (this.closed) {
      for (const h of holds) h.release();
      return Promise.reject(new Error('this pipeline has stopped'));
    }
    // Any hold but a SourceHold (which holds nothing) waits: a filter may pass its own (the multiline
    // filter's hold over the entries it made), to be released once what it sent on settles.
    const open = holds.filter((h) => !(h instanceof SourceHold));
    const delivery = open.length ? new Delivery(() => open.forEach((h) => h.release())) : undefined;
    let queued: Queued;
    try {
      queued = send(delivery);
    } finally {
      delivery?.routed();
    }
    if (queued === undefined) return NO_WAIT;
    this.carrying++;
    const done = (): void => {
      if (--this.carrying === 0) for (const resolve of this.carried.splice(0)) resolve();
    };
    queued.then(done, done);
    return queued;
  }

  /**
   * A filter's `emit()`: from the start of the pipeline, as that filter's emitter input. The inputs
   * the events came from (the holds say) become the emitter's senders: a full output the emitter
   * feeds pauses them, as Fluent Bit's emitter pauses the inputs whose records it took.
   */
  private emitFrom(slot: FilterSlot, events: LogEvent[], delivery: Delivery | undefined, holds: readonly Hold[]): Queued {
    if (events.length === 0) return undefined;
    if (slot.emitter === undefined) {
      slot.emitter = { name: `emitter_for_${slot.name}`, paused: false, processors: [], feeds: new Set(), routes: new RouteCache(), emitterOf: slot };
      if (slot.group !== undefined) slot.emitter.group = slot.group;
    }
    for (const h of holds) {
      const source = sourceOf(h);
      if (source !== undefined) this.backpressure.through(source, slot);
    }
    this.host.recordsIn.inc({ name: slot.emitter.name }, events.length);
    return this.routeAll(slot.emitter, events, delivery);
  }

  /** A filter's `pass()`: on from just after it. */
  private passOn(slot: FilterSlot, events: LogEvent[], delivery: Delivery | undefined, source: InputSlot | undefined): Queued {
    if (events.length === 0) return undefined;
    if (slot.stage === 'input') {
      const input = slot.owner as InputSlot;
      return this.runChain(input.processors, slot.index + 1, events, delivery, input, (out) => this.routeAll(input, out, delivery));
    }
    if (slot.stage === 'output') {
      const output = slot.owner as OutputSlot;
      return this.runChain(output.processors, slot.index + 1, events, delivery, source, (out) => this.write(output, out, delivery, source));
    }
    return this.byTag(events, (tag, list) => {
      const route = this.passRoute(slot.group, tag);
      let from = 0;
      while (from < route.filters.length && route.filters[from]!.index <= slot.index) from++;
      return this.runChain(route.filters, from, list, delivery, source, (out) => this.toOutputs(route.outputs, out, delivery, undefined, source));
    });
  }

  private fromInput(input: InputSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    if (input.processors.length === 0) return this.routeAll(input, events, delivery);
    return this.runChain(input.processors, 0, events, delivery, input, (out) => this.routeAll(input, out, delivery));
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
    if (route.filters.length === 0) return this.toOutputs(route.outputs, events, delivery, input, input);
    return this.runChain(route.filters, 0, events, delivery, input, (out) => this.toOutputs(route.outputs, out, delivery, input, input));
  }

  /**
   * Runs `chain[from..]` on the events, then `next` on what is left. Synchronous filters cost no
   * promise; an asynchronous one holds the emit open (one pending entry) until the rest has run.
   */
  private runChain(chain: FilterSlot[], from: number, events: LogEvent[], delivery: Delivery | undefined, source: InputSlot | undefined, next: (events: LogEvent[]) => Queued): Queued {
    for (let i = from; i < chain.length; i++) {
      const slot = chain[i]!;
      const result = this.runFilter(slot, events, delivery, source);
      if (Array.isArray(result)) {
        events = result;
        if (events.length === 0) return undefined;
        continue;
      }
      delivery?.add(1);
      return result.then(
        (out) => {
          try {
            return out.length ? this.runChain(chain, i + 1, out, delivery, source, next) : undefined;
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

  private runFilter(slot: FilterSlot, events: LogEvent[], delivery: Delivery | undefined, source: InputSlot | undefined): LogEvent[] | Promise<LogEvent[]> {
    const before = events.length;
    const flow: FilterFlow = delivery
      ? {
          hold: () => {
            delivery.add(1);
            return new DeliveryHold(delivery, source);
          },
        }
      : flowOf(source);
    const count = (out: LogEvent[]): LogEvent[] => {
      if (out.length < before) this.host.filteredOut.inc({ name: slot.name }, before - out.length);
      return out;
    };
    if (slot.busy === undefined) {
      const out = this.processSafely(slot, events, flow);
      if (Array.isArray(out)) return count(out);
      return this.track(slot, out.then(count));
    }
    return this.track(slot, slot.busy.then(() => this.processSafely(slot, events, flow)).then(count));
  }

  /**
   * The filter's process(); if it throws (or rejects) on a batch, it runs again on each event alone
   * and only the events it still throws on are dropped and counted, so one record a filter cannot
   * handle never fails its batch (and the input resending that batch forever). The filter may then
   * have done part of its work twice on the events before the one it threw on.
   */
  private processSafely(slot: FilterSlot, events: LogEvent[], flow: FilterFlow): LogEvent[] | Promise<LogEvent[]> {
    let out: LogEvent[] | Promise<LogEvent[]>;
    try {
      out = slot.filter.process(events, flow);
    } catch (err) {
      return this.eachAlone(slot, events, flow, err);
    }
    if (Array.isArray(out)) return out;
    return out.catch((err: unknown) => this.eachAlone(slot, events, flow, err));
  }

  private eachAlone(slot: FilterSlot, events: LogEvent[], flow: FilterFlow, err: unknown, from = 0, kept: LogEvent[] = []): LogEvent[] | Promise<LogEvent[]> {
    const failures = this.failures.get(slot)!;
    if (events.length === 1) {
      failures.drop('filter_threw', err);
      return kept;
    }
    for (let i = from; i < events.length; i++) {
      let out: LogEvent[] | Promise<LogEvent[]>;
      try {
        out = slot.filter.process([events[i]!], flow);
      } catch (e) {
        failures.drop('filter_threw', e);
        continue;
      }
      if (Array.isArray(out)) {
        for (const e of out) kept.push(e);
        continue;
      }
      return out.then(
        (list) => {
          for (const e of list) kept.push(e);
          return this.eachAlone(slot, events, flow, err, i + 1, kept);
        },
        (e: unknown) => {
          failures.drop('filter_threw', e);
          return this.eachAlone(slot, events, flow, err, i + 1, kept);
        },
      );
    }
    return kept;
  }

  /** Copies of the events for an output with processors; an event that cannot be copied is dropped for it, counted. */
  private copiesFor(output: OutputSlot, events: LogEvent[]): LogEvent[] {
    const copies: LogEvent[] = [];
    for (const e of events) {
      try {
        copies.push(copyEvent(e));
      } catch (err) {
        this.failures.get(output)!.drop('copy_failed', err);
      }
    }
    return copies;
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

  private toOutputs(outputs: OutputSlot[], events: LogEvent[], delivery: Delivery | undefined, input: InputSlot | undefined, source: InputSlot | undefined): Queued {
    if (outputs.length === 0) {
      if (input) this.host.unrouted.inc({ name: input.name }, events.length);
      return undefined;
    }
    if (outputs.length === 1) return this.write(outputs[0]!, events, delivery, source);
    const waits: Promise<void>[] = [];
    for (const o of outputs) {
      // An output's processors change events in place: give them a copy of their own. A relabel's filters (Fluentd's `<label>`) do too.
      const list = o.processors.length || o.relabel !== undefined ? this.copiesFor(o, events) : events;
      if (list.length === 0) continue;
      const w = this.write(o, list, delivery, source);
      if (w) waits.push(w);
    }
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }

  private write(output: OutputSlot, events: LogEvent[], delivery: Delivery | undefined, source: InputSlot | undefined): Queued {
    if (output.relabel !== undefined) return this.relabel(output.relabel, events, delivery, source);
    if (output.processors.length) return this.runChain(output.processors, 0, events, delivery, source, (out) => this.take(output, out, delivery));
    return this.take(output, events, delivery);
  }

  /** Fluentd's `relabel`: the events go on through `group`'s filters to its outputs. */
  private relabel(group: string, events: LogEvent[], delivery: Delivery | undefined, source: InputSlot | undefined): Queued {
    return this.byTag(events, (tag, list) => {
      const route = this.passRoute(group, tag);
      return this.runChain(route.filters, 0, list, delivery, source, (out) => this.toOutputs(route.outputs, out, delivery, undefined, source));
    });
  }

  private take(output: OutputSlot, events: LogEvent[], delivery: Delivery | undefined): Queued {
    delivery?.add(events.length);
    return output.unit.output.write(events, delivery) ?? undefined;
  }

  private route(input: InputSlot, tag: string): Route {
    let route = input.routes.get(tag);
    if (route) return route;
    route = this.matching(input.group, tag);
    input.routes.set(tag, route);
    this.linkAll(input, route.outputs, tag, undefined);
    return route;
  }

  /** Links the input to the outputs it feeds, through `relabel`s to the outputs of their groups. */
  private linkAll(input: InputSlot, outputs: OutputSlot[], tag: string, seen: Set<string> | undefined): void {
    for (const o of outputs) {
      if (o.relabel === undefined) {
        this.backpressure.link(input, o);
        continue;
      }
      seen ??= new Set();
      if (seen.has(o.relabel)) continue;
      seen.add(o.relabel);
      this.linkAll(input, this.passRoute(o.relabel, tag).outputs, tag, seen);
    }
  }

  /** The route for events a filter sends on: no input to pause, so no feeds are recorded. */
  private passRoute(group: string | undefined, tag: string): Route {
    let cache = this.passRoutes;
    if (group !== undefined) {
      cache = this.groupRoutes.get(group) ?? new RouteCache();
      this.groupRoutes.set(group, cache);
    }
    let route = cache.get(tag);
    if (route) return route;
    route = this.matching(group, tag);
    cache.set(tag, route);
    return route;
  }

  /** The filters and outputs of `group` (undefined: Fluent Bit's one group) that take `tag`. */
  private matching(group: string | undefined, tag: string): Route {
    return {
      filters: this.filters.filter((f) => f.group === group && f.matcher!.matches(tag)),
      outputs: this.outputs.filter((o) => o.group === group && o.matcher.matches(tag)),
    };
  }
}
