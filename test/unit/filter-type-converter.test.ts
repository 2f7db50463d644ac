/** type_converter beyond the Fluent Bit cases (test/fixtures/filters/type_converter): C's conversions, batches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { TypeConverterFilter, typeConverterFilter } from '../../src/filters/type_converter/index.js';
import { castType, formatG16, typecast } from '../../src/filters/type_converter/typecast.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { pluginContext, processSync } from '../helpers/plugin-context.js';

test('%.16g as printf writes it', () => {
  const cases: Array<[number, string]> = [
    [2.5, '2.5'],
    [0.1, '0.1'],
    [1e-7, '1e-07'],
    [1.5e20, '1.5e+20'],
    [123456789.125, '123456789.125'],
    [1 / 3, '0.3333333333333333'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456'],
    [-0.00012, '-0.00012'],
    [0.00001, '1e-05'],
  ];
  for (const [x, want] of cases) assert.equal(formatG16(x), want, String(x));
});

test('strings convert as strtoimax, strtoumax and strtod read them', () => {
  assert.equal(typecast('42', 'string', 'int'), 42);
  assert.equal(typecast('\t+42 apples', 'string', 'int'), 42);
  assert.equal(typecast('0', 'string', 'int'), undefined, 'Fluent Bit takes 0 for a failure');
  assert.equal(typecast('-1', 'string', 'uint'), 2 ** 64 - 1);
  assert.equal(typecast('ff', 'string', 'hex'), 255);
  assert.equal(typecast('0Xff', 'string', 'hex'), 255);
  assert.equal(typecast('0x', 'string', 'hex'), undefined, '0x with no digit reads 0');
  assert.equal(typecast('0x1.8p1', 'string', 'float'), 3);
  assert.equal(typecast('.5e1x', 'string', 'float'), 5);
  assert.equal(typecast('nope', 'string', 'float'), 0, 'atof never fails');
  assert.equal(typecast('False!', 'string', 'bool'), false);
  assert.equal(typecast('yes', 'string', 'bool'), undefined);
  assert.equal(typecast('x', 'string', 'string'), undefined);
  assert.equal(typecast(5, 'string', 'int'), undefined, 'not a string');
});

test('numbers convert as C casts them', () => {
  assert.equal(typecast(-42, 'int', 'string'), '-42');
  assert.equal(typecast(2 ** 60, 'int', 'string'), '1152921504606846976');
  assert.equal(typecast(-1, 'uint', 'string'), '18446744073709551615');
  assert.equal(typecast(-1, 'uint', 'int'), -1);
  assert.equal(typecast(7, 'int', 'int'), undefined, 'int to int is not a conversion Fluent Bit has');
  assert.equal(typecast(1.5, 'int', 'string'), undefined, 'not an integer');
  assert.equal(typecast(-3.75, 'float', 'int'), -3);
  assert.equal(typecast(Number.MAX_VALUE, 'float', 'int'), -(2 ** 63));
  assert.equal(typecast(2 ** 63 + 4096, 'float', 'uint'), 2 ** 63 + 4096);
  assert.equal(typecast(-1e30, 'float', 'uint'), 2 ** 63);
  assert.equal(typecast(100, 'float', 'string'), '100.0', 'a whole float prints as %.1f');
  assert.equal(typecast(true, 'int', 'string'), undefined);
});

test('a type is named by any prefix of its name, in any case', () => {
  assert.equal(castType('s'), 'string');
  assert.equal(castType('STR'), 'string');
  assert.equal(castType('i'), 'int');
  assert.equal(castType('u'), 'uint');
  assert.equal(castType('h'), 'hex');
  assert.equal(castType('b'), 'bool');
  assert.equal(castType('integer'), undefined);
  assert.equal(castType(''), undefined);
});

const make = (options: Record<string, unknown>) => new TypeConverterFilter(options, pluginContext('type_converter.0'));
const ev = (record: Record<string, unknown>, line?: string): LogEvent => ({ tag: 't', time: 1n, record, ...(line ? { line } : {}) });

test('a batch in which nothing converts is left as it was; otherwise failures are appended as they were', () => {
  const f = make({ str_key: ['s n int'] });
  const nothing = [ev({ s: 'abc' }, 'kept')];
  processSync(f, nothing);
  assert.deepEqual(nothing[0]!.record, { s: 'abc' });
  assert.equal(nothing[0]!.line, 'kept');
  const mixed = [ev({ s: 'abc' }, 'a'), ev({ s: '12' }), ev({ s: 'x' })];
  processSync(f, mixed);
  assert.deepEqual(mixed.map((e) => e.record), [{ s: 'abc', n: 'abc' }, { s: '12', n: 12 }, { s: 'x', n: 'x' }]);
  assert.equal(mixed[0]!.line, undefined);
});

test("a failure waiting for the batch's first success keeps its place among the record's keys", () => {
  const f = make({ str_key: ['a a2 int', 'b b2 int'] });
  const events = [ev({ a: 'no', b: '5' })];
  processSync(f, events);
  assert.deepEqual(Object.keys(events[0]!.record), ['a', 'b', 'a2', 'b2']);
});

test('rules are config errors when they lack words or name an unknown type', () => {
  const check = (o: Record<string, unknown>) => typeConverterFilter.check!(o, { parsers: new ParserRegistry() });
  assert.throws(() => check({ int_key: ['a b'] }), /key 'int_key' \('a b'\): expected FROM TO TYPE/);
  assert.throws(() => check({ int_key: ['a b integer'] }), /unknown type 'integer'/);
  assert.throws(() => check({}), /no rules/);
  assert.throws(() => check({ int_key: ['a b c d'] }), /no rules/, 'a rule with four words is skipped, as in Fluent Bit');
});
