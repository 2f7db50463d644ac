/** `log_level` on one plugin instance: its own log lines at that level, whatever the service's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { Engine } from '../../src/core/engine.js';
import type { AnyPlugin, PluginRegistry } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';

test('an instance log_level makes its logger more or less verbose than the service log level', async (t) => {
  const lines: Array<{ plugin: string; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const chatty: AnyPlugin = {
    kind: 'input',
    name: 'chatty',
    description: '',
    options: [],
    create: (_o, ctx) => {
      ctx.log.debug('debug line');
      ctx.log.warn('warn line');
      return { start: async () => {}, stop: async () => {}, pause() {}, resume() {} };
    },
  };
  const sinkOutput: AnyPlugin = { kind: 'output', name: 'sink', description: '', options: [], create: () => ({ start: async () => {}, stop: async () => {}, queuedBytes: () => 0, write: () => {} }) };
  const registry: PluginRegistry = new Map<string, AnyPlugin>([['chatty', chatty], ['sink', sinkOutput]]);
  const config = parseConfig(
    "service:\n  log_level: info\npipeline:\n  inputs:\n    - name: chatty\n      alias: verbose\n      log_level: debug\n    - name: chatty\n      alias: quiet\n      log_level: error\n    - name: chatty\n      alias: silent\n      log_level: 'off'\n    - name: chatty\n      alias: default\n  outputs:\n    - name: sink\n      match: '*'\n",
    'floki.yaml',
    registry,
    {},
  );
  const engine = new Engine(config, pino({ level: 'info' }, sink), new Metrics());
  await engine.start();
  t.after(() => engine.stop(0));
  const of = (plugin: string) => lines.filter((l) => l.plugin === plugin).map((l) => l.msg);
  assert.deepEqual(of('verbose'), ['debug line', 'warn line']);
  assert.deepEqual(of('quiet'), []);
  assert.deepEqual(of('silent'), []);
  assert.deepEqual(of('default'), ['warn line']);
});
