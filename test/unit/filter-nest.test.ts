/** nest beyond the Fluent Bit cases (test/fixtures/filters/nest). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import { NestFilter, nestFilter } from '../../src/filters/nest/index.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { pluginContext, processSync } from '../helpers/plugin-context.js';

const check = (options: Record<string, unknown>) => nestFilter.check!(options, { parsers: new ParserRegistry() });

test('a nest or lift without the key it needs, or with both prefixes, is a config error', () => {
  assert.throws(() => check({ operation: 'nest', wildcard: ['a*'] }), /operation nest needs nest_under/);
  assert.throws(() => check({ operation: 'nest', nest_under: 'n' }), /operation nest needs a wildcard/);
  assert.throws(() => check({ operation: 'lift' }), /operation lift needs nested_under/);
  assert.throws(() => check({ operation: 'lift', nested_under: 'n', add_prefix: 'a', remove_prefix: 'b' }), /not both/);
  assert.doesNotThrow(() => check({ operation: 'lift', nest_under: 'n' }), 'Fluent Bit keeps one key for both names');
});

test('a nested or lifted record loses its fixed line; a record left alone keeps it', () => {
  const f = new NestFilter({ operation: 'nest', wildcard: ['k8s_*'], nest_under: 'k8s', remove_prefix: 'k8s_' }, pluginContext('nest.0'));
  const moved: LogEvent = { tag: 't', time: 1n, record: { log: 'x', k8s_pod: 'p' }, line: 'a' };
  const alone: LogEvent = { tag: 't', time: 2n, record: { log: 'y' }, line: 'b' };
  processSync(f, [moved, alone]);
  assert.deepEqual(moved.record, { log: 'x', k8s: { pod: 'p' } });
  assert.equal(moved.line, undefined);
  assert.equal(alone.line, 'b');
});

test('lifting from a value that is not a map warns once, not per record', () => {
  const warnings: string[] = [];
  const ctx = { ...pluginContext('nest.0'), log: pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }) };
  const f = new NestFilter({ operation: 'lift', nested_under: 'x' }, ctx);
  const events: LogEvent[] = [1, 2, 3].map((n) => ({ tag: 't', time: BigInt(n), record: { x: [n] } }));
  processSync(f, events);
  assert.deepEqual(events.map((e) => e.record), [{ x: [1] }, { x: [2] }, { x: [3] }]);
  assert.equal(warnings.length, 1);
});
