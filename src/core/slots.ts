/**
 * The engine's bookkeeping for each plugin instance of a pipeline. Inputs and filters belong to one
 * pipeline (one config); an output instance (OutputUnit) may outlive it: a reload that leaves its
 * definition unchanged hands it, queue and all, to the next pipeline, which gives it a new slot.
 */
import type { Backpressure } from './backpressure.js';
import type { OutputDefinition } from './output-reuse.js';
import type { Filter, FilterFlow, Input, Output } from './plugin.js';
import type { InputPlugin } from './registry-types.js';
import type { RouteCache } from './route-cache.js';
import type { TagMatcher } from './tag-match.js';

export interface InputSlot {
  name: string;
  /** Undefined for a filter's emitter (rewrite_tag's re-emitted records), which has no Input to pause. */
  input?: Input;
  plugin?: InputPlugin;
  paused: boolean;
  /** Filters of this input alone (`processors`), before routing. */
  processors: FilterSlot[];
  /** Outputs this input's records reach (also as records a filter re-emits), so that a full one pauses exactly its feeders. */
  feeds: Set<OutputSlot>;
  routes: RouteCache;
  /** For an emitter: the filter whose `emit()` it stands for. */
  emitterOf?: FilterSlot;
  /** The flow given to filters with this input's events when the emit does not wait for settlement (made on first use). */
  flow?: FilterFlow;
  /** The route group its events enter (Fluentd's `@label`); undefined for Fluent Bit configs. */
  group?: string;
}

export interface FilterSlot {
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
  /** Inputs whose records this filter re-emitted: what its emitter feeds pauses them too. */
  upstream: Set<InputSlot>;
  /** The route group it belongs to (Fluentd's `<label>`). */
  group?: string;
}

/** An output instance, for as long as it runs (across reloads that keep it). */
export interface OutputUnit {
  name: string;
  definition: OutputDefinition;
  output: Output;
  full: boolean;
  /** Its slot in the pipeline running now; undefined once the output is being retired. */
  slot: OutputSlot | undefined;
}

export interface OutputSlot {
  name: string;
  unit: OutputUnit;
  matcher: TagMatcher;
  /** Filters of this output alone (`processors`), just before it takes the events. */
  processors: FilterSlot[];
  feeders: Set<InputSlot>;
  /** Its pipeline's, which pauses the feeders when the output is full. */
  backpressure: Backpressure;
  /** The route group it belongs to (Fluentd's `<label>`). */
  group?: string;
  /** Fluentd's `relabel`: the events go on into this route group instead of the output. */
  relabel?: string;
}

export interface Route {
  filters: FilterSlot[];
  outputs: OutputSlot[];
}
