/**
 * Plugins for engine tests: a probe input the test drives through its context, and an output that
 * records what it takes and can be made full. Instances register under their names, so a test (and a
 * reload) can reach the one running now.
 */
import { pino } from 'pino';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import type { Delivery } from '../../src/core/delivery.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { InputContext, OutputContext } from '../../src/core/plugin.js';
import { PLUGIN_LIST } from '../../src/plugins.js';
import { pluginRegistry, type AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';

export interface Probe {
  ctx: InputContext;
  pauses: number;
  resumes: number;
  started: boolean;
  stopped: boolean;
  /** What stop() waits for (a test sets it before stopping). */
  stopWork?: () => Promise<void>;
  /** What handOver() returns. */
  state?: unknown;
}

export interface Collected {
  ctx: OutputContext;
  events: LogEvent[];
  deliveries: (Delivery | undefined)[];
  /** Settle what was written (as a delivered batch would). */
  settleAll(): void;
  stopped: boolean;
  stopDeadlines: number[];
}

export interface EngineHarness {
  engine: Engine;
  metrics: Metrics;
  registry: PluginRegistry;
  /** The probe inputs running now, by instance name (a reload replaces them). */
  probes: Map<string, Probe>;
  /** Every probe ever made, in order. */
  allProbes: Probe[];
  /** Collect outputs by instance name: the latest instance of each name. */
  outputs: Map<string, Collected>;
  allOutputs: Collected[];
  config(text: string): ReturnType<typeof parseConfig>;
}

export function engineHarness(text: string, extra: AnyPlugin[] = []): EngineHarness {
  const probes = new Map<string, Probe>();
  const allProbes: Probe[] = [];
  const outputs = new Map<string, Collected>();
  const allOutputs: Collected[] = [];
  const probe: AnyPlugin = {
    kind: 'input',
    name: 'probe',
    description: 'test input',
    options: [],
    create: (_o, ctx) => {
      const p: Probe = { ctx, pauses: 0, resumes: 0, started: false, stopped: false };
      probes.set(ctx.name, p);
      allProbes.push(p);
      return {
        start: async () => {
          p.started = true;
        },
        pause: () => void p.pauses++,
        resume: () => void p.resumes++,
        stop: async () => {
          await p.stopWork?.();
          p.stopped = true;
        },
        handOver: () => p.state,
      };
    },
  };
  const collect: AnyPlugin = {
    kind: 'output',
    name: 'collect',
    description: 'test output',
    options: [
      { name: 'note', type: 'string', description: 'changes the definition' },
      { name: 'delay', type: 'int', default: 0, description: 'ms before a write resolves (as a disk buffer takes time)' },
      { name: 'settle', type: 'bool', default: false, description: 'settle what it takes at once (as delivered); else the test settles' },
    ],
    create: (o, ctx) => {
      const delay = Number(o.delay ?? 0);
      const settle = o.settle === true;
      const c: Collected = {
        ctx,
        events: [],
        deliveries: [],
        stopped: false,
        stopDeadlines: [],
        settleAll() {
          for (const d of c.deliveries.splice(0)) d?.settle(1);
        },
      };
      outputs.set(ctx.name, c);
      allOutputs.push(c);
      return {
        start: async () => {},
        queuedBytes: () => 0,
        write: (events, delivery) => {
          const take = () => {
            for (const e of events) {
              c.events.push(e);
              if (settle) delivery?.settle(1);
              else c.deliveries.push(delivery);
            }
          };
          if (delay === 0) return take();
          return new Promise<void>((resolve) => setTimeout(resolve, delay)).then(take);
        },
        stop: async (deadline) => {
          c.stopDeadlines.push(deadline);
          c.stopped = true;
        },
      };
    },
  };
  const registry = pluginRegistry([probe, collect, ...extra, ...PLUGIN_LIST]);
  const config = (t: string) => parseConfig(t, 'floki.yaml', registry, {});
  const metrics = new Metrics();
  const engine = new Engine(config(text), pino({ level: process.env.FLOKI_TEST_LOG ?? 'silent' }), metrics);
  return { engine, metrics, registry, probes, allProbes, outputs, allOutputs, config };
}

export function event(tag: string, record: Record<string, unknown> = {}): LogEvent {
  return { tag, time: 1n, record };
}
