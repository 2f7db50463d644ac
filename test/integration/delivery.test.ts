/**
 * An input that asks to hear about settlement (the tail input, to move its positions) is told only
 * once the Loki output has a final answer for every entry: delivered, or rejected for good.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import { Engine } from '../../src/core/engine.js';
import type { InputContext } from '../../src/core/plugin.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';

async function start(t: TestContext, outputs: string): Promise<{ ctx: InputContext; loki: LokiReceiver }> {
  const loki = await LokiReceiver.start();
  let ctx: InputContext | undefined;
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
  const registry: PluginRegistry = new Map([...PLUGINS, ['probe', probe]]);
  const text = `pipeline:\n  inputs:\n    - name: probe\n  filters:\n    - name: event_exporter\n      match: '*'\n  outputs:\n${outputs.replaceAll('LOKI_PORT', String(loki.port))}`;
  const engine = new Engine(parseConfig(text, 'floki.yaml', registry, {}), pino({ level: 'silent' }), new Metrics());
  await engine.start();
  t.after(async () => {
    await engine.stop(100);
    await loki.close();
  });
  return { ctx: ctx!, loki };
}

const LOKI = `    - name: loki\n      match: '*'\n      port: LOKI_PORT\n      batch_wait: 20ms\n      retry_min_backoff: 10ms\n      retry_max_backoff: 20ms\n`;
const events = (n: number, tag = 'a') => Array.from({ length: n }, (_, i) => ({ tag, time: 1764064800_000000000n + BigInt(i), record: { log: `line ${i}` } }));

test('settled only after Loki accepted every entry, not while it fails', async (t) => {
  const { ctx, loki } = await start(t, LOKI);
  loki.respond(503, 'stall');
  let settled = 0;
  await ctx.emit(events(5), () => settled++);
  await loki.waitForRequests(2);
  assert.equal(settled, 0, 'a 503 and a held request are not final');
  loki.release(204);
  await waitFor(() => settled === 1, 'settlement after the 204');
  assert.equal(loki.entries.length, 5);
});

test('entries Loki rejects for good (400) are settled: they will never be delivered', async (t) => {
  const { ctx, loki } = await start(t, LOKI);
  // Refused whichever request holds them (the output sends a refused batch again in halves).
  loki.rule = () => ({ status: 400 });
  let settled = 0;
  await ctx.emit(events(3), () => settled++);
  await waitFor(() => settled === 1, 'settlement after the 400');
  assert.equal(loki.entries.length, 0);
});

test('one emit split across tags and two outputs settles once, after both', async (t) => {
  const { ctx, loki } = await start(t, LOKI + LOKI.replace("match: '*'", "match: 'b'") + '      labels: job=second\n');
  loki.respond('stall', 'stall');
  let settled = 0;
  await ctx.emit([...events(2, 'a'), ...events(2, 'b')], () => settled++);
  await loki.waitForRequests(2);
  assert.equal(settled, 0);
  loki.release(204);
  await waitFor(() => settled === 1, 'one settlement');
  assert.equal(loki.entries.length, 6, 'four entries to the first output, two to the second');
});

test('events a filter drops, or that no output takes, settle at once', async (t) => {
  const { ctx } = await start(t, `    - name: loki\n      match: 'only-this'\n      port: LOKI_PORT\n`);
  let settled = 0;
  await ctx.emit(events(2, 'other'), () => settled++);
  await waitFor(() => settled === 1, 'settlement of unrouted events');
});

test('stop does not wait forever for an input whose emit an output never takes', { timeout: 10_000 }, async () => {
  let ctx: InputContext | undefined;
  let blocked: Promise<void> | undefined;
  const stuck: AnyPlugin = {
    kind: 'input',
    name: 'stuck',
    description: 'test input',
    options: [],
    create: (_o, c) => {
      ctx = c;
      // Its stop waits for its last emit, as a real input waits for the chunk it is handing over.
      return { start: async () => {}, pause() {}, resume() {}, stop: () => blocked ?? Promise.resolve() };
    },
  };
  let stopped = false;
  const neverTakes: AnyPlugin = {
    kind: 'output',
    name: 'never',
    description: 'test output',
    options: [],
    // Its writes resolve only once it is stopped, like a disk buffer full until the outputs drain.
    create: () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      return { start: async () => {}, write: () => gate, queuedBytes: () => 0, stop: async () => { stopped = true; release(); } };
    },
  };
  const registry: PluginRegistry = new Map<string, AnyPlugin>([['stuck', stuck], ['never', neverTakes]]);
  const engine = new Engine(parseConfig("pipeline:\n  inputs:\n    - name: stuck\n  outputs:\n    - name: never\n      match: '*'\n", 'floki.yaml', registry, {}), pino({ level: 'silent' }), new Metrics());
  await engine.start();
  blocked = ctx!.emit([{ tag: 't', time: 1n, record: {} }]);
  const started = Date.now();
  await engine.stop(400);
  assert.ok(stopped, 'the output was stopped');
  assert.ok(Date.now() - started < 5000);
  await blocked;
});
