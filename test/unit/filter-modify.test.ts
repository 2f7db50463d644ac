/** modify beyond the Fluent Bit cases (test/fixtures/filters/modify): floki's own concerns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { pino } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import { MsgpackEvent } from '../../src/inputs/forward/msgpack-event.js';
import { ModifyFilter } from '../../src/filters/modify/index.js';
import { modifyFilter } from '../../src/filters/modify/index.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { pluginContext, processSync } from '../helpers/plugin-context.js';

const make = (options: Record<string, unknown>) => new ModifyFilter(options, pluginContext('modify.0'));
const check = (options: Record<string, unknown>) => modifyFilter.check!(options, { parsers: new ParserRegistry() });

test('a changed record loses the line a filter before fixed; an untouched one keeps it', () => {
  const f = make({ add: ['a x'] });
  const changed: LogEvent = { tag: 't', time: 1n, record: { b: 1 }, line: '{"b":1}' };
  const untouched: LogEvent = { tag: 't', time: 2n, record: { a: 1 }, line: '{"a":1}' };
  processSync(f, [changed, untouched]);
  assert.equal(changed.line, undefined);
  assert.deepEqual(changed.record, { b: 1, a: 'x' });
  assert.equal(untouched.line, '{"a":1}');
});

test('a record still in its msgpack bytes (forward input) is decoded, changed and kept as the new record', () => {
  const buf = pack({ log: 'x', level: 'info' });
  const event = new MsgpackEvent('t', 1n, buf, 0, buf.length);
  processSync(make({ rename: ['level severity'] }), [event]);
  assert.equal(event.msgpack, undefined, 'the bytes no longer say the record');
  assert.deepEqual(event.record, { log: 'x', severity: 'info' });
});

test('copies do not share maps with their source', () => {
  const e: LogEvent = { tag: 't', time: 1n, record: { k: { a: 1 } } };
  processSync(make({ copy: ['k k2'] }), [e]);
  (e.record.k as Record<string, number>).a = 2;
  assert.deepEqual(e.record.k2, { a: 1 });
});

test('conditions with no rules leave every record alone', () => {
  const e: LogEvent = { tag: 't', time: 1n, record: { a: 1 }, line: 'x' };
  processSync(make({ condition: ['key_exists a'] }), [e]);
  assert.deepEqual(e.record, { a: 1 });
  assert.equal(e.line, 'x');
});

test('mistakes in rules are config errors that name the key and value', () => {
  assert.throws(() => check({ set: ['a "open'] }), /key 'set' \('a "open'\): a quote is not closed/);
  assert.throws(() => check({ rename: ['a'] }), /key 'rename' \('a'\): rename takes two words/);
  assert.throws(() => check({ remove: ['a b'] }), /remove takes one word/);
  assert.throws(() => check({ condition: ['key_value_equals a'] }), /key_value_equals needs a value/);
  assert.throws(() => check({ condition: ['key_is_there a'] }), /unknown condition 'key_is_there'/);
  assert.throws(() => check({ condition: ['key_exists $a['] }), /invalid record accessor/);
  assert.throws(() => check({ remove_regex: ['(a+)+\\1'] }), /could backtrack for ever/);
  assert.throws(() => check({ set: ['a b c d'] }), /at most three words/);
  // A single YAML string is split on commas by the config reader: say so when a rule lost its words.
  assert.throws(() => check({ set: ['msg hello', 'world'] }), /written as a YAML list item/);
});

test("a three-word rule is a rename, as in Fluent Bit, with a warning at start", () => {
  const lines: string[] = [];
  const ctx = { ...pluginContext('modify.0'), log: pino({ level: 'warn' }, { write: (l: string) => lines.push(l) }) };
  const f = new ModifyFilter({ set: ['a hello world'] }, ctx);
  const e: LogEvent = { tag: 't', time: 1n, record: { a: 1, b: 2 } };
  processSync(f, [e]);
  assert.deepEqual(e.record, { world: 1, b: 2 });
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /treats it as 'rename a world'/);
});

test('rule names and conditions are case-insensitive, as the config keys are', () => {
  const e: LogEvent = { tag: 't', time: 1n, record: { a: 'x' } };
  processSync(make({ condition: ['KEY_VALUE_EQUALS a x'], set: ['b 1'] }), [e]);
  assert.deepEqual(e.record, { a: 'x', b: '1' });
});
