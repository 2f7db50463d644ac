/**
 * MsgpackEvent's time: kept as the EventTime's parts it arrived with (no bigint made per event) until
 * something reads or sets it; an output may write those parts back only while the time is unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packValue } from '../../src/forward/record-packer.js';
import { MsgpackEvent } from '../../src/inputs/forward/msgpack-event.js';

const record = packValue({ a: 1 });

test('a time from its parts: read as nanoseconds, the parts kept while it is only read', () => {
  const e = new MsgpackEvent('t', undefined, record, 0, record.length, 1_796_193_609, 123_456_789);
  assert.equal(e.msgpack?.wireSeconds, 1_796_193_609);
  assert.equal(e.msgpack?.wireNanos, 123_456_789);
  assert.equal(e.time, 1_796_193_609_123_456_789n);
  assert.equal(e.time, 1_796_193_609_123_456_789n);
  assert.equal(e.wireSeconds, 1_796_193_609, 'reading the time leaves the parts valid');
  const whole = new MsgpackEvent('t', undefined, record, 0, record.length, 1_796_193_610, 0);
  assert.equal(whole.time, 1_796_193_610_000_000_000n);
  // The same second again, then another: each time exact (the second's bigint is cached).
  assert.equal(new MsgpackEvent('t', undefined, record, 0, record.length, 1_796_193_610, 5).time, 1_796_193_610_000_000_005n);
  assert.equal(new MsgpackEvent('t', undefined, record, 0, record.length, 1_796_193_609, 5).time, 1_796_193_609_000_000_005n);
});

test('setting the time drops the parts: an output then writes the new time', () => {
  const e = new MsgpackEvent('t', undefined, record, 0, record.length, 1_796_193_609, 123_456_789);
  e.time = 42n;
  assert.equal(e.time, 42n);
  assert.equal(e.wireSeconds, -1);
  assert.equal(e.msgpack?.wireSeconds, -1);
});

test('an event made from a bigint has no parts', () => {
  const e = new MsgpackEvent('t', 7n, record, 0, record.length);
  assert.equal(e.time, 7n);
  assert.equal(e.wireSeconds, -1);
  assert.deepEqual(e.toJSON(), { tag: 't', time: 7n, record: { a: 1 }, metadata: undefined, labels: undefined, line: undefined });
});
