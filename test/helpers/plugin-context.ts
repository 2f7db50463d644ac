/** Contexts for running one plugin outside the engine, as the engine would give them. */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { Filter, FilterContext, FilterFlow, Hold, PluginContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

export function pluginContext(name = 'x.0', metrics = new Metrics()): PluginContext {
  return { name, log: pino({ level: 'silent' }), metrics, service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry() };
}

/** A filter's context whose `pass` and `emit` collect what the filter sends on, with its holds. */
export function filterContext(name = 'x.0', metrics = new Metrics()): FilterContext & { passed: LogEvent[]; emitted: LogEvent[]; holds: Hold[] } {
  const ctx = {
    ...pluginContext(name, metrics),
    passed: [] as LogEvent[],
    emitted: [] as LogEvent[],
    holds: [] as Hold[],
    pass: async (events: LogEvent[], holds: readonly Hold[]) => {
      ctx.passed.push(...events);
      ctx.holds.push(...holds);
    },
    emit: async (events: LogEvent[], holds: readonly Hold[]) => {
      ctx.emitted.push(...events);
      ctx.holds.push(...holds);
    },
  };
  return ctx;
}

const NO_HOLD: Hold = { release() {} };
/** The flow of an emit that does not ask to hear about settlement. */
export const NO_FLOW: FilterFlow = { hold: () => NO_HOLD };

/** Runs a filter that answers synchronously. */
export function processSync(filter: Filter, events: LogEvent[], flow: FilterFlow = NO_FLOW): LogEvent[] {
  const out = filter.process(events, flow);
  assert.ok(Array.isArray(out), 'the filter answered synchronously');
  return out;
}
