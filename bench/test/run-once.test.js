// When a run of a process allowed to cut lines counts as finished without every number:
// `node --test bench/test/`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stalledWithCuts } from '../lib/run-once.js';

/** A sink whose stats follow `script` (one entry per poll, the last one repeated). */
function scriptedSink(script) {
  let i = 0;
  return { stats: async () => script[Math.min(i++, script.length - 1)] };
}
const stats = (entries, unique, unknown, lastAt = '123') => ({ entries, unique, unknown, lastAt });
const settled = (p, ms) => Promise.race([p.then((v) => ({ v })), new Promise((r) => setTimeout(() => r(undefined), ms).unref())]);

test('a stall with as many pieces without a number as numbers missing finishes at the last push', async () => {
  const sink = scriptedSink([stats(90, 90, 0), stats(101, 99, 2, '456')]);
  const stall = stalledWithCuts(sink, 100, { stallMs: 30, pollMs: 5 });
  const out = await settled(stall.finished, 2000);
  stall.cancel();
  assert.ok(out, 'finished');
  assert.equal(out.v.doneAt, '456');
  assert.equal(out.v.unique, 99);
});

test('numbers missing beyond the pieces without one never finish the run (the deadline fails it)', async () => {
  const stall = stalledWithCuts(scriptedSink([stats(98, 97, 1)]), 100, { stallMs: 20, pollMs: 5 });
  const out = await settled(stall.finished, 300);
  stall.cancel();
  assert.equal(out, undefined);
});

test('entries still arriving are not a stall', async () => {
  let n = 0;
  const sink = { stats: async () => stats(++n, 99, 5) };
  const stall = stalledWithCuts(sink, 100, { stallMs: 40, pollMs: 5 });
  const out = await settled(stall.finished, 300);
  stall.cancel();
  assert.equal(out, undefined);
});
