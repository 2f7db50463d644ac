/**
 * Defense in depth: a record a filter throws on, or that cannot be copied for an output with
 * processors (nested some thousands of levels deep), is dropped alone and counted; the rest of its
 * batch goes on, and the emit neither fails nor stays unsettled (an input would resend it forever).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import type { Delivery } from '../../src/core/delivery.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { InputContext } from '../../src/core/plugin.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';

const deep = (levels: number): Record<string, unknown> => {
  let o: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) o = { a: o };
  return o;
};

async function start(t: TestContext, asyncFilter: boolean) {
  let ctx: InputContext | undefined;
  const outputs = new Map<string, LogEvent[]>();
  const plugins: [string, AnyPlugin][] = [
    [
      'probe',
      {
        kind: 'input',
        name: 'probe',
        description: 'test input',
        options: [],
        create: (_o, c) => {
          ctx = c;
          return { start: async () => {}, stop: async () => {}, pause() {}, resume() {} };
        },
      },
    ],
    [
      'poison_sensitive',
      {
        kind: 'filter',
        name: 'poison_sensitive',
        description: 'test filter: throws on a batch holding a record with a `poison` key',
        options: [],
        create: () => ({
          process: (events: LogEvent[]) => {
            const run = () => {
              for (const e of events) {
                if (Object.hasOwn(e.record, 'poison')) throw new TypeError('poisoned record');
                e.record.seen = ((e.record.seen as number | undefined) ?? 0) + 1;
              }
              return events;
            };
            return asyncFilter ? Promise.resolve().then(run) : run();
          },
        }),
      },
    ],
    [
      'keep',
      {
        kind: 'output',
        name: 'keep',
        description: 'test output: keeps what it is given, settles at once',
        options: [{ name: 'id', type: 'string', description: 'name' }],
        create: (o) => {
          const list: LogEvent[] = [];
          outputs.set(String(o.id), list);
          return {
            start: async () => {},
            stop: async () => {},
            queuedBytes: () => 0,
            write: (events: LogEvent[], delivery?: Delivery) => {
              list.push(...events);
              delivery?.settle(events.length);
            },
          };
        },
      },
    ],
  ];
  const registry: PluginRegistry = new Map([...PLUGINS, ...plugins]);
  const config = `pipeline:
  inputs:
    - name: probe
  filters:
    - name: poison_sensitive
      match: '*'
  outputs:
    - name: keep
      id: plain
      match: '*'
    - name: keep
      id: processed
      match: '*'
      processors:
        logs:
          - name: modify
            add: copied yes
`;
  const metrics = new Metrics();
  const engine = new Engine(parseConfig(config, 'floki.yaml', registry, {}), pino({ level: 'silent' }), metrics);
  await engine.start();
  t.after(() => engine.stop(100));
  return { ctx: ctx!, outputs, metrics };
}

for (const asyncFilter of [false, true]) {
  test(`a record a ${asyncFilter ? 'rejecting' : 'throwing'} filter fails on, and one too deep to copy, are dropped alone; the batch goes on and settles`, async (t) => {
    const { ctx, outputs, metrics } = await start(t, asyncFilter);
    const events: LogEvent[] = [
      { tag: 'a', time: 1n, record: { n: 1 } },
      { tag: 'a', time: 2n, record: { n: 2, poison: true } },
      { tag: 'a', time: 3n, record: { n: 3, deep: deep(5000) } },
      { tag: 'a', time: 4n, record: { n: 4 } },
    ];
    let settled = 0;
    await ctx.emit(events, () => settled++);
    assert.equal(settled, 1, 'the emit settled once, without the dropped records');
    assert.deepEqual(outputs.get('plain')!.map((e) => e.record.n), [1, 3, 4]);
    assert.deepEqual(outputs.get('processed')!.map((e) => [e.record.n, e.record.copied]), [[1, 'yes'], [4, 'yes']]);
    assert.equal(await metrics.value('floki_pipeline_failed_records_total', { name: 'poison_sensitive.0', reason: 'filter_threw' }), 1);
    assert.equal(await metrics.value('floki_pipeline_failed_records_total', { name: 'keep.1', reason: 'copy_failed' }), 1);
    // A filter run again on each event alone may have done part of its work twice (documented).
    assert.ok((outputs.get('plain')![0]!.record.seen as number) >= 1);
  });
}

test('a batch of one record the filter throws on: dropped and counted, the emit settles', async (t) => {
  const { ctx, outputs, metrics } = await start(t, false);
  let settled = 0;
  await ctx.emit([{ tag: 'a', time: 1n, record: { poison: 1 } }], () => settled++);
  assert.equal(settled, 1);
  assert.equal(outputs.get('plain')!.length, 0);
  assert.equal(await metrics.value('floki_pipeline_failed_records_total', { reason: 'filter_threw' }), 1);
});
