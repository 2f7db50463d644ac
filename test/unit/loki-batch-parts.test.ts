import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countEntries, halve, isolationBudget, partition } from '../../src/outputs/loki/batch-parts.js';
import type { LokiEntry } from '../../src/outputs/loki/encoder.js';

const entries = (n: number, from = 0): LokiEntry[] => Array.from({ length: n }, (_, i) => ({ ts: BigInt(from + i), line: `${from + i}` }));

test('halve: whole streams while there are several, both halves non-empty and about even', () => {
  const streams = new Map([['{a="1"}', entries(5)], ['{a="2"}', entries(1)], ['{a="3"}', entries(3)], ['{a="4"}', entries(1)]]);
  const [a, b] = halve(streams);
  assert.ok(a.size > 0 && b.size > 0);
  assert.equal(countEntries(a) + countEntries(b), 10);
  for (const [labels, list] of [...a, ...b]) assert.equal(list, streams.get(labels), 'streams are not cut');
  assert.deepEqual([...a.keys()], ['{a="1"}']);
  const [x, y] = halve(new Map([['{a="1"}', entries(9)], ['{a="2"}', entries(1)]]));
  assert.deepEqual([countEntries(x), countEntries(y)], [9, 1]);
});

test('halve: one stream is cut in time order, the earlier half first', () => {
  const [a, b] = halve(new Map([['{a="1"}', entries(5)]]));
  assert.deepEqual(a.get('{a="1"}')!.map((e) => e.line), ['0', '1']);
  assert.deepEqual(b.get('{a="1"}')!.map((e) => e.line), ['2', '3', '4']);
});

test('partition: the entries a bound refuses, and the others, by stream; empty streams left out', () => {
  const [yes, no] = partition(new Map([['{a="1"}', entries(4)], ['{a="2"}', entries(2, 10)]]), (e) => e.ts < 2n);
  assert.deepEqual([...yes].map(([l, es]) => [l, es.map((e) => e.line)]), [['{a="1"}', ['0', '1']]]);
  assert.deepEqual([...no].map(([l, es]) => [l, es.map((e) => e.line)]), [['{a="1"}', ['2', '3']], ['{a="2"}', ['10', '11']]]);
});

test('isolation budget: 8 requests per level of halving', () => {
  assert.equal(isolationBudget(2), 8);
  assert.equal(isolationBudget(951), 80);
  assert.equal(isolationBudget(1024), 80);
});
