/**
 * toJson never throws: what JSON.stringify prints when it can, the same text from a loop when it
 * cannot (issue #11: a record 100,000 levels deep was acked, then the Loki line formatter overflowed
 * the stack and dropped it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iterativeJson, toJson } from '../../src/labels/json-text.js';
import { LineFormatter } from '../../src/labels/line-formatter.js';
import { StructuredMetadataExtractor } from '../../src/labels/structured-metadata.js';
import { lineOf } from '../../src/outputs/stdout/format.js';
import { deepRecord } from '../helpers/loki-harness.js';

function deepText(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{"a":"bottom"}' + '}'.repeat(depth - 1);
}

test('the loop writes what JSON.stringify writes, value for value', () => {
  const values: unknown[] = [
    { log: 'hi "there"\n\u0001', n: -0, f: 1.5e300, nan: NaN, inf: -Infinity, t: true, nil: null },
    { skipped: undefined, fn: () => 1, sym: Symbol('s'), kept: 1 },
    [undefined, () => 1, Symbol('s'), null, 'x', [], {}, [[1], { a: [2] }]],
    { date: new Date(0), buf: Buffer.from('ab'), boxed: [new Number(3), new String('s'), new Boolean(false)], map: new Map([[1, 2]]) },
    { nested: { toJSON: (key: string) => `key was ${key}` } },
    'plain',
    42,
    null,
    { '': 'empty key', 'ünï': 'cødé ✓', '\ud800': 'lone surrogate key' },
  ];
  for (const v of values) assert.equal(iterativeJson(v), JSON.stringify(v));
  assert.equal(iterativeJson(undefined), 'null');
});

test('a record nested 100,000 deep becomes its JSON, where JSON.stringify throws', () => {
  const record = deepRecord(100_000);
  assert.throws(() => JSON.stringify(record), RangeError);
  assert.equal(toJson(record), deepText(100_000));
});

test('bigints print as strings, a cycle as "[Circular]", at any depth', () => {
  assert.equal(toJson({ big: 12345678901234567890n, list: [1n] }), '{"big":"12345678901234567890","list":["1"]}');
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  cyclic['list'] = [cyclic, { ok: true }];
  assert.equal(toJson(cyclic), '{"a":1,"self":"[Circular]","list":["[Circular]",{"ok":true}]}');
  // The same object twice, side by side, is not a cycle.
  const shared = { s: 1 };
  assert.equal(iterativeJson({ x: shared, y: shared, z: 5n }), '{"x":{"s":1},"y":{"s":1},"z":"5"}');
});

test('the loop stops at maxChars', () => {
  const text = iterativeJson({ a: 'x'.repeat(1000), b: deepRecord(10) }, 100);
  assert.equal(text.length, 100);
  assert.ok(text.startsWith('{"a":"xxx'));
  assert.ok(iterativeJson(deepRecord(50_000), 1000).length <= 1000);
});

test('the Loki line formatter, structured metadata and stdout print a 100,000-deep record', () => {
  const record = { log: 'hello', deep: deepRecord(100_000) };
  const json = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: [['gone']] });
  assert.equal(json.format(record), `{"log":"hello","deep":${deepText(100_000)}}`);
  const kv = new LineFormatter({ format: 'key_value', dropSingleKey: 'off', removePaths: [] });
  assert.equal(kv.format(record), `log="hello" deep=${JSON.stringify(deepText(100_000))}`);
  const capped = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: [['gone']], maxChars: 1001 });
  assert.equal(capped.format(record).length, 1001);
  const sm = new StructuredMetadataExtractor(['$deep']).extract({ tag: 't', time: 0n, record });
  assert.equal(sm?.['deep'], deepText(100_000));
  assert.equal(lineOf({ tag: 't', time: 0n, record }), `{"log":"hello","deep":${deepText(100_000)}}`);
});
