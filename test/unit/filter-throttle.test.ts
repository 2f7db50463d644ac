/** throttle's window arithmetic on an injected clock (no sleeps); the Fluent Bit cases are in test/fixtures/filters/throttle. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import { ThrottleFilter, ThrottleWindow, intervalSeconds } from '../../src/filters/throttle/index.js';
import { pluginContext, processSync } from '../helpers/plugin-context.js';

const START = 1_700_000_000_000;
const batch = (n: number): LogEvent[] => Array.from({ length: n }, (_, i) => ({ tag: 't', time: BigInt(i), record: { i } }));

function throttle(options: Record<string, unknown>, clock: { now: number }, log = pino({ level: 'silent' })) {
  return new ThrottleFilter({ rate: '1', window: 5, interval: '1', print_status: false, ...options }, { ...pluginContext('throttle.0'), log }, () => clock.now);
}

test('rate 5 over 5 panes: a burst of 25, then nothing until the burst leaves the window', () => {
  const clock = { now: START };
  const f = throttle({ rate: '5', window: 5, interval: '1s' }, clock);
  assert.equal(processSync(f, batch(100)).length, 25, 'the average over 5 panes reaches 5 after 25');
  for (let s = 1; s <= 4; s++) {
    clock.now = START + s * 1000;
    assert.equal(processSync(f, batch(10)).length, 0, `second ${s}: the 25 are still in the window`);
  }
  clock.now = START + 5000;
  assert.equal(processSync(f, batch(100)).length, 25, 'the sixth pane overwrote the first');
});

test('a steady stream at the rate passes whole once the window is full of it', () => {
  const clock = { now: START };
  const f = throttle({ rate: '2', window: 3, interval: '1s' }, clock);
  const passed: number[] = [];
  for (let s = 0; s < 10; s++) {
    clock.now = START + s * 1000;
    passed.push(processSync(f, batch(2)).length);
  }
  assert.deepEqual(passed, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  clock.now = START + 10_000;
  assert.equal(processSync(f, batch(4)).length, 2, 'two over the rate are dropped');
});

test('the interval sets the pane length: within one interval, one pane', () => {
  const clock = { now: START };
  const f = throttle({ rate: '1', window: 2, interval: '1m' }, clock);
  assert.equal(processSync(f, batch(5)).length, 2);
  clock.now = START + 59_000;
  assert.equal(processSync(f, batch(5)).length, 0);
  clock.now = START + 60_000;
  assert.equal(processSync(f, batch(5)).length, 0, 'a second pane, but the 2 are still in the window');
  clock.now = START + 120_000;
  assert.equal(processSync(f, batch(5)).length, 2);
});

test('after a long quiet spell the window is empty again', () => {
  const clock = { now: START };
  const f = throttle({ rate: '3', window: 4 }, clock);
  assert.equal(processSync(f, batch(50)).length, 12);
  clock.now = START + 3_600_000;
  assert.equal(processSync(f, batch(50)).length, 12);
});

test('rate and window below Fluent Bit\'s minimums fall back to its defaults', () => {
  const clock = { now: START };
  assert.equal(processSync(throttle({ rate: '0.5', window: 1 }, clock), batch(20)).length, 5, 'rate 1 over 5 panes');
  assert.equal(processSync(throttle({ rate: '2.5', window: 2 }, clock), batch(20)).length, 5, 'a fractional rate: 5 / 2 >= 2.5');
});

test('intervals as Fluent Bit reads them: whole seconds, at least one', () => {
  assert.deepEqual(intervalSeconds('3s'), { seconds: 3, clean: true });
  assert.deepEqual(intervalSeconds('1.5m'), { seconds: 90, clean: true });
  assert.deepEqual(intervalSeconds('0.5h'), { seconds: 1800, clean: true });
  assert.deepEqual(intervalSeconds('2'), { seconds: 2, clean: true });
  assert.deepEqual(intervalSeconds('1.5'), { seconds: 1, clean: true });
  assert.deepEqual(intervalSeconds('0.2s'), { seconds: 1, clean: true });
  assert.deepEqual(intervalSeconds('500ms'), { seconds: 500, clean: false });
  assert.deepEqual(intervalSeconds('soon'), { seconds: 1, clean: false });
});

test('print_status logs the limit and rate each interval; stop ends the timer', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const lines: string[] = [];
  const clock = { now: START };
  const f = throttle({ rate: '5', window: 5, interval: '1s', print_status: true }, clock, pino({ level: 'info' }, { write: (l: string) => lines.push(l) }));
  processSync(f, batch(12));
  clock.now = START + 1000;
  t.mock.timers.tick(1000);
  assert.equal(lines.length, 1);
  assert.match(JSON.parse(lines[0]!).msg, /: limit is 5\.00 per 1s with window size of 5, current rate is: 2 per interval$/);
  await f.stop();
  t.mock.timers.tick(5000);
  assert.equal(lines.length, 1);
});

test('the window on its own: a tick in a second that has a pane adds none', () => {
  const w = new ThrottleWindow(2);
  w.tick(10);
  assert.equal(w.admit(1), true);
  w.tick(10);
  assert.equal(w.admit(1), true, 'still the same pane: 2 in it, average 1');
  assert.equal(w.admit(1), false);
  w.tick(11);
  w.tick(12);
  assert.equal(w.total, 0, 'the pane of second 10 was overwritten');
});
