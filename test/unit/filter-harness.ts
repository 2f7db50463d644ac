/**
 * Runs a `pipeline.filters` section through floki's engine: a probe input emits the records, a
 * catch-all output collects what comes out, with tags. For the filter tests.
 */
import { pino } from 'pino';
import { stringify } from 'yaml';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import type { Delivery } from '../../src/core/delivery.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { InputContext } from '../../src/core/plugin.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';

export interface FilterPipeline {
  /** Emits records under `tag`; resolves when they are queued. `onSettled` as the engine's. */
  emit(tag: string, records: Array<Record<string, unknown>>, onSettled?: () => void): Promise<void>;
  /** Every event the output took, in order. */
  readonly out: LogEvent[];
  /** Every write with its delivery, to settle them. */
  readonly writes: Array<{ events: LogEvent[]; delivery: Delivery | undefined }>;
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

/** The registry floki ships, plus the probe input and collecting output. */
function registry(onInput: (ctx: InputContext) => void, onWrite: (events: LogEvent[], delivery: Delivery | undefined) => void): PluginRegistry {
  const probe: AnyPlugin = {
    kind: 'input',
    name: 'probe',
    description: 'test input',
    options: [],
    create: (_o, ctx) => {
      onInput(ctx);
      return { start: async () => {}, stop: async () => {}, pause() {}, resume() {} };
    },
  };
  const collect: AnyPlugin = {
    kind: 'output',
    name: 'collect',
    description: 'test output',
    options: [],
    create: () => ({ start: async () => {}, stop: async () => {}, queuedBytes: () => 0, write: onWrite }),
  };
  return new Map<string, AnyPlugin>([...PLUGINS, ['probe', probe], ['collect', collect]]);
}

/** Top-level sections beside the pipeline: the config's `parsers` and `multiline_parsers`. */
export interface ParserSections {
  parsers?: unknown[];
  multiline_parsers?: unknown[];
}

/** The config text for `filters`, as floki reads it (throws ConfigError as the loader does). */
export function pipelineConfig(filters: unknown[], sections: ParserSections = {}): string {
  return stringify({ ...sections, pipeline: { inputs: [{ name: 'probe' }], filters, outputs: [{ name: 'collect', match: '*' }] } });
}

export function checkFilters(filters: unknown[], sections: ParserSections = {}): void {
  parseConfig(pipelineConfig(filters, sections), 'floki.yaml', registry(() => {}, () => {}), {});
}

export async function startFilters(filters: unknown[], metrics = new Metrics(), sections: ParserSections = {}): Promise<FilterPipeline> {
  let input: InputContext | undefined;
  const out: LogEvent[] = [];
  const writes: FilterPipeline['writes'] = [];
  const reg = registry(
    (ctx) => (input = ctx),
    (events, delivery) => {
      out.push(...events);
      writes.push({ events, delivery });
    },
  );
  const config = parseConfig(pipelineConfig(filters, sections), 'floki.yaml', reg, {});
  const engine = new Engine(config, pino({ level: 'silent' }), metrics);
  await engine.start();
  let n = 0;
  return {
    out,
    writes,
    metrics,
    emit: (tag, records, onSettled) => input!.emit(records.map((record) => ({ tag, time: BigInt(++n), record })), onSettled),
    stop: () => engine.stop(100),
  };
}
