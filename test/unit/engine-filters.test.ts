/**
 * The engine's filter stage: asynchronous filters keep order, held events keep their emit open until
 * what is made of them settles, a filter's emit re-enters the pipeline by tag, and processors run on
 * one input's or one output's events alone.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfig, type PluginInstanceConfig, type PluginRegistry } from '../../src/config/load.js';
import type { Delivery } from '../../src/core/delivery.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { Filter, FilterContext, FilterFlow, Hold, InputContext } from '../../src/core/plugin.js';
import type { AnyPlugin, FilterPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { waitFor } from '../helpers/wait.js';

interface Written {
  output: string;
  events: LogEvent[];
  delivery: Delivery | undefined;
}

interface Harness {
  ctx: InputContext;
  written: Written[];
  filters: Map<string, { ctx: FilterContext; filter: Filter }>;
  engine: Engine;
  metrics: Metrics;
}

function filterPlugin(name: string, make: (ctx: FilterContext) => Filter): FilterPlugin {
  return { kind: 'filter', name, description: 'test filter', options: [], create: (_o, ctx) => make(ctx) };
}

async function start(t: TestContext, pipeline: string, filters: FilterPlugin[], processors: { input?: string[]; output?: Record<string, string[]> } = {}): Promise<Harness> {
  const written: Written[] = [];
  let ctx: InputContext | undefined;
  const made = new Map<string, { ctx: FilterContext; filter: Filter }>();
  const probe: AnyPlugin = {
    kind: 'input',
    name: 'probe',
    description: 'test input',
    options: [],
    create: (_o, c) => {
      ctx = c;
      return { start: async () => {}, stop: async () => {}, pause() {}, resume() {} };
    },
  };
  const collect: AnyPlugin = {
    kind: 'output',
    name: 'collect',
    description: 'test output',
    options: [],
    create: (_o, c) => ({
      start: async () => {},
      stop: async () => {},
      queuedBytes: () => 0,
      write: (events, delivery) => {
        written.push({ output: c.name, events, delivery });
      },
    }),
  };
  const wrapped = filters.map((f): FilterPlugin => ({
    ...f,
    create: (o, c) => {
      const filter = f.create(o, c);
      made.set(c.name, { ctx: c, filter });
      return filter;
    },
  }));
  const registry: PluginRegistry = new Map<string, AnyPlugin>([['probe', probe], ['collect', collect], ...wrapped.map((f) => [f.name, f] as [string, AnyPlugin])]);
  const config = parseConfig(pipeline, 'floki.yaml', registry, {});
  const instance = (name: string, i: number): PluginInstanceConfig => ({ section: 'filters', index: i, plugin: registry.get(name)!, instanceName: `${name}.p${i}`, options: {}, line: 0 });
  if (processors.input) config.inputs[0]!.processors = processors.input.map(instance);
  for (const [output, names] of Object.entries(processors.output ?? {})) config.outputs.find((o) => o.instanceName === output)!.processors = names.map(instance);
  const metrics = new Metrics();
  const engine = new Engine(config, pino({ level: 'silent' }), metrics);
  await engine.start();
  t.after(() => engine.stop(100));
  return { ctx: ctx!, written, filters: made, engine, metrics };
}

const ev = (tag: string, n: number, text = `line ${n}`): LogEvent => ({ tag, time: BigInt(n), record: { log: text } });
const settleAll = (w: Written) => w.delivery?.settle(w.events.length);
const lines = (w: Written[]) => w.flatMap((x) => x.events.map((e) => e.record.log));

test('an asynchronous filter keeps the order of emits, and the emit settles only once its events do', async (t) => {
  const waits: Array<() => void> = [];
  const slow = filterPlugin('slow', () => ({
    process: (events) => new Promise<LogEvent[]>((resolve) => waits.push(() => resolve(events))),
  }));
  const h = await start(t, "pipeline:\n  inputs:\n    - name: probe\n  filters:\n    - name: slow\n      match: '*'\n  outputs:\n    - name: collect\n      match: '*'\n", [slow]);
  let settled = 0;
  const first = h.ctx.emit([ev('a', 1)], () => settled++);
  const second = h.ctx.emit([ev('a', 2)], () => settled++);
  await waitFor(() => waits.length === 1, 'the first call is under way');
  await new Promise((r) => setImmediate(r));
  assert.equal(waits.length, 1, 'the second call waits for the first to finish');
  assert.equal(settled, 0);
  waits[0]!();
  await first;
  await waitFor(() => waits.length === 2, 'the second call starts after the first');
  waits[1]!();
  await second;
  assert.deepEqual(lines(h.written), ['line 1', 'line 2']);
  assert.equal(settled, 0, 'nothing settles before the output settles it');
  h.written.forEach(settleAll);
  assert.equal(settled, 2);
});

test('held events keep their emit open until what is passed on from them settles downstream', async (t) => {
  // Joins pairs: the first of a pair is held, the second passes both on (after the next filter).
  let held: { event: LogEvent; hold: Hold } | undefined;
  const pairs = filterPlugin('pairs', (ctx) => ({
    process: (events: LogEvent[], flow: FilterFlow) => {
      for (const e of events) {
        if (!held) held = { event: e, hold: flow.hold() };
        else {
          const joined = { ...held.event, record: { log: `${held.event.record.log}+${e.record.log}` } };
          const holds = [held.hold, flow.hold()];
          held = undefined;
          void ctx.pass([joined], holds);
        }
      }
      return [];
    },
  }));
  const mark = filterPlugin('mark', () => ({
    process: (events: LogEvent[]) => {
      for (const e of events) e.record.marked = true;
      return events;
    },
  }));
  const h = await start(t, "pipeline:\n  inputs:\n    - name: probe\n  filters:\n    - name: pairs\n      match: '*'\n    - name: mark\n      match: '*'\n  outputs:\n    - name: collect\n      match: '*'\n", [pairs, mark]);
  let firstSettled = 0;
  let secondSettled = 0;
  await h.ctx.emit([ev('a', 1)], () => firstSettled++);
  assert.equal(h.written.length, 0);
  assert.equal(firstSettled, 0, 'a held event keeps its emit open');
  await h.ctx.emit([ev('a', 2)], () => secondSettled++);
  await waitFor(() => h.written.length === 1, 'the joined event reaches the output');
  assert.deepEqual(h.written[0]!.events[0]!.record, { log: 'line 1+line 2', marked: true }, 'passed on through the filters after the one that held it');
  assert.equal(firstSettled + secondSettled, 0);
  settleAll(h.written[0]!);
  assert.equal(firstSettled, 1);
  assert.equal(secondSettled, 1);
  assert.equal(await h.metrics.registry.getSingleMetric('floki_filter_dropped_records_total')!.get().then((m) => m.values.find((v) => v.labels.name === 'pairs.0')?.value), 2);
});

test("a filter's own Hold passed with ctx.pass is released once what was sent on settles", async (t) => {
  // The multiline filter passes a hold of its own over the entries it made, not an engine hold.
  let released = 0;
  const own: Hold = { release: () => released++ };
  let ctxOf: FilterContext | undefined;
  const later = filterPlugin('later', (ctx) => ((ctxOf = ctx), { process: () => [] }));
  const h = await start(t, "pipeline:\n  inputs:\n    - name: probe\n  filters:\n    - name: later\n      match: '*'\n  outputs:\n    - name: collect\n      match: '*'\n", [later]);
  await ctxOf!.pass([ev('a', 1)], [own]);
  assert.equal(h.written.length, 1);
  assert.equal(released, 0, 'not before the output settles');
  settleAll(h.written[0]!);
  assert.equal(released, 1);
});

test('a released hold settles its emit: a dropped event counts as delivered', async (t) => {
  const dropper = filterPlugin('dropper', () => ({
    process: (events: LogEvent[], flow: FilterFlow) => {
      const hold = flow.hold();
      setImmediate(() => {
        hold.release();
        hold.release();
      });
      return events.slice(1);
    },
  }));
  const h = await start(t, "pipeline:\n  inputs:\n    - name: probe\n  filters:\n    - name: dropper\n      match: '*'\n  outputs:\n    - name: collect\n      match: '*'\n", [dropper]);
  let settled = 0;
  await h.ctx.emit([ev('a', 1), ev('a', 2)], () => settled++);
  settleAll(h.written[0]!);
  assert.equal(settled, 0, 'the hold is still open');
  await waitFor(() => settled === 1, 'settled once the hold is released');
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, 1, 'releasing twice settles once');
});

test("a filter's emit re-enters the pipeline by the events' own tags, as its emitter input", async (t) => {
  const retag = filterPlugin('retag', (ctx) => ({
    process: (events: LogEvent[], flow: FilterFlow) => {
      const keep: LogEvent[] = [];
      for (const e of events) {
        if (e.tag === 'in') void ctx.emit([{ ...e, tag: 'out' }], [flow.hold()]);
        else keep.push(e);
      }
      return keep;
    },
  }));
  const h = await start(
    t,
    "pipeline:\n  inputs:\n    - name: probe\n  filters:\n    - name: retag\n      match: '*'\n  outputs:\n    - name: collect\n      alias: in\n      match: in\n    - name: collect\n      alias: out\n      match: out\n",
    [retag],
  );
  let settled = 0;
  await h.ctx.emit([ev('in', 1)], () => settled++);
  await waitFor(() => h.written.length === 1, 're-emitted');
  assert.equal(h.written[0]!.output, 'out');
  assert.equal(h.written[0]!.events[0]!.tag, 'out');
  assert.equal(settled, 0);
  settleAll(h.written[0]!);
  assert.equal(settled, 1, 'the original emit settles when the re-emitted event does');
  const inputs = await h.metrics.registry.getSingleMetric('floki_input_records_total')!.get();
  assert.equal(inputs.values.find((v) => v.labels.name === 'emitter_for_retag.0')?.value, 1);
});

test("processors: an input's run before routing, an output's on its own copy of the events", async (t) => {
  const tagger = (name: string, key: string) =>
    filterPlugin(name, () => ({
      process: (events: LogEvent[]) => {
        for (const e of events) e.record[key] = true;
        return events;
      },
    }));
  const h = await start(
    t,
    "pipeline:\n  inputs:\n    - name: probe\n  outputs:\n    - name: collect\n      alias: plain\n      match: '*'\n    - name: collect\n      alias: special\n      match: '*'\n",
    [tagger('in_proc', 'from_input'), tagger('out_proc', 'from_output')],
    { input: ['in_proc'], output: { special: ['out_proc'] } },
  );
  let settled = 0;
  await h.ctx.emit([ev('a', 1)], () => settled++);
  const byOutput = Object.fromEntries(h.written.map((w) => [w.output, w.events[0]!.record]));
  assert.deepEqual(byOutput, { plain: { log: 'line 1', from_input: true }, special: { log: 'line 1', from_input: true, from_output: true } });
  h.written.forEach(settleAll);
  assert.equal(settled, 1);
});
