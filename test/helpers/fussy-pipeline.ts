/**
 * A pipeline run in this process whose output `fussy` throws a plain Error (not backpressure) on any
 * batch holding a record with the word `poison` in it, and keeps and settles every other batch: for
 * what an input does when the pipeline fails on its records for a reason other than a full output.
 */
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import type { Delivery } from '../../src/core/delivery.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';

export interface FussyPipeline {
  engine: Engine;
  metrics: Metrics;
  /** Records the fussy output kept. */
  events: LogEvent[];
  /** Batches it threw on. */
  thrown: number;
  /** What floki logged (pino JSON lines), at warn and above. */
  logs: string[];
  /** The address of the pipeline's first input, if it listens (the http input). */
  port(): number;
}

export async function startFussyPipeline(t: TestContext, config: string): Promise<FussyPipeline> {
  const state: FussyPipeline = { engine: undefined as unknown as Engine, metrics: new Metrics(), events: [], thrown: 0, logs: [], port: () => 0 };
  const fussy: AnyPlugin = {
    kind: 'output',
    name: 'fussy',
    description: 'test output that throws on poisoned records',
    options: [],
    create: () => ({
      start: async () => {},
      stop: async () => {},
      queuedBytes: () => 0,
      write: (events: LogEvent[], delivery?: Delivery) => {
        if (events.some((e) => JSON.stringify(e.record).includes('poison'))) {
          state.thrown++;
          throw new Error('fussy: cannot take a poisoned record');
        }
        state.events.push(...events);
        delivery?.settle(events.length);
      },
    }),
  };
  const registry: PluginRegistry = new Map([...PLUGINS, ['fussy', fussy]]);
  const engine = new Engine(parseConfig(config, 'floki.yaml', registry, {}), pino({ level: 'warn' }, { write: (line: string) => void state.logs.push(line) }), state.metrics);
  state.engine = engine;
  await engine.start();
  t.after(() => engine.stop(500));
  state.port = () => {
    const pipeline = (engine as unknown as { pipeline: { inputs: { input: { address(): { port: number } | undefined } }[] } }).pipeline;
    return pipeline.inputs[0]!.input.address()!.port;
  };
  return state;
}
