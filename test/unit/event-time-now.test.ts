import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nowNs, secondsToNs } from '../../src/core/event.js';

test('nowNs never goes backwards and stays within a few ms of the wall clock', () => {
  let last = nowNs();
  for (let i = 0; i < 200_000; i++) {
    const t = nowNs();
    assert.ok(t >= last, `step back by ${last - t} ns at iteration ${i}`);
    last = t;
  }
  const drift = Number(nowNs() / 1_000_000n) - Date.now();
  assert.ok(Math.abs(drift) <= 100, `drift ${drift} ms`);
});

test('secondsToNs is exact for integers and rounds fractions to the nanosecond', () => {
  assert.equal(secondsToNs(1764064800), 1764064800_000000000n);
  assert.equal(secondsToNs(1.5), 1_500_000_000n);
});
