/**
 * Reading Loki's 400 texts (as Loki 2.8.0 printed them, by hand against the Loki 2.8.0 binary):
 * the reason a refused entry is counted under, and the time bounds that set many aside at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedTimes, rejectReason } from '../../src/outputs/loki/push-errors.js';

const S = 1_000_000_000n;

test('too old: every entry before the oldest time Loki takes is refused', () => {
  const text = "entry for stream '{job=\"u\"}' has timestamp too old: 2025-10-28T06:37:31Z, oldest acceptable timestamp is: 2025-12-02T06:37:31Z";
  assert.equal(rejectReason(400, text), 'too_old');
  assert.deepEqual(refusedTimes(text), { before: BigInt(Date.parse('2025-12-02T06:37:31Z') / 1000) * S, from: undefined });
});

test('too new: every entry from the second after the one Loki named is refused', () => {
  const text = "entry for stream '{job=\"t\"}' has timestamp too new: 2026-12-02T07:37:31Z";
  assert.equal(rejectReason(400, text), 'too_new');
  assert.deepEqual(refusedTimes(text), { before: undefined, from: (BigInt(Date.parse('2026-12-02T07:37:31Z') / 1000) + 1n) * S });
});

test('other texts name no time bound', () => {
  assert.equal(refusedTimes("Max entry size '256' bytes exceeded for stream '{job=\"b\"}'"), undefined);
  assert.equal(refusedTimes('has timestamp too new: not a time'), undefined);
  assert.equal(rejectReason(400, 'error at least one label pair is required per stream'), 'invalid_labels');
  assert.equal(rejectReason(413, 'too large'), 'http_413');
});
