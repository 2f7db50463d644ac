// What the runner reads of a process and of the machine: `node --test bench/test/`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { machineShare, machineTicks, threadCpu } from '../lib/measure.js';

test('machineShare: busy and stolen shares of the ticks between two readings', () => {
  const a = { busy: 100, idle: 300, steal: 0 };
  assert.deepEqual(machineShare(a, { busy: 250, idle: 340, steal: 10 }), { busy: 150 / 200, steal: 10 / 200 });
  assert.equal(machineShare(a, a), undefined);
  assert.equal(machineShare(undefined, a), undefined);
});

test('machineTicks reads /proc/stat and only grows', () => {
  const a = machineTicks();
  const b = machineTicks();
  assert.ok(a && b);
  for (const k of ['busy', 'idle', 'steal']) assert.ok(b[k] >= a[k], k);
});

test('threadCpu lists this process threads, the main one marked, busiest first', () => {
  let x = 0;
  for (const end = Date.now() + 120; Date.now() < end; ) x++;
  const threads = threadCpu(process.pid);
  assert.ok(x > 0);
  const main = threads.filter((t) => t.main);
  assert.equal(main.length, 1);
  assert.equal(main[0].tid, process.pid);
  assert.ok(main[0].cpuS > 0);
  for (let i = 1; i < threads.length; i++) assert.ok(threads[i - 1].cpuS >= threads[i].cpuS);
  assert.deepEqual(threadCpu(2 ** 30), []);
});
