import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import type { LogEvent } from '../../src/core/event.js';
import { JsonDemand } from '../../src/inputs/forward/json-demand.js';
import { MsgpackEvent } from '../../src/inputs/forward/msgpack-event.js';

const packr = new Packr({ useRecords: false });

function chunk(n = 20): MsgpackEvent[] {
  const buf = packr.pack({ log: 'x' });
  return Array.from({ length: n }, () => new MsgpackEvent('t', 1n, buf, 0, buf.length));
}

function readJson(events: LogEvent[]): void {
  for (const e of events) void e.msgpack?.json;
}

test('JSON is printed ahead from the first chunk read, stops after 8 chunks in a row nobody read it from, and starts again at the next read', () => {
  const demand = new JsonDemand();
  // Off at first: a node agent, whose forward output passes the bytes on, never starts the thread.
  for (let i = 0; i < 20; i++) demand.observe(chunk());
  assert.equal(demand.wanted, false);
  const first = chunk();
  readJson(first);
  demand.observe(first);
  assert.equal(demand.wanted, true, 'on from the first chunk read');
  for (let i = 0; i < 7; i++) {
    demand.observe(chunk());
    assert.equal(demand.wanted, true, `still printing after ${i + 1} unread chunks`);
  }
  demand.observe(chunk());
  assert.equal(demand.wanted, false, 'a forward output passing the bytes on reads no JSON');
  // Off, a reader still asks (and prints on the main thread): that turns it on again.
  const read = chunk();
  readJson(read);
  demand.observe(read);
  assert.equal(demand.wanted, true);
  // A read resets the count.
  for (let i = 0; i < 7; i++) demand.observe(chunk());
  const again = chunk();
  readJson(again);
  demand.observe(again);
  for (let i = 0; i < 7; i++) demand.observe(chunk());
  assert.equal(demand.wanted, true);
});

test('a chunk whose records were decoded (no msgpack bytes left) or are plain objects says nothing', () => {
  const demand = new JsonDemand();
  const read = chunk();
  readJson(read);
  demand.observe(read);
  for (let i = 0; i < 20; i++) {
    const decoded = chunk();
    for (const e of decoded) void e.record;
    demand.observe(decoded);
    demand.observe([{ tag: 't', time: 1n, record: { log: 'x' } }]);
    demand.observe([]);
  }
  // Decoded MsgpackEvents still count as unread: a filter that reads the record never uses the JSON.
  assert.equal(demand.wanted, false);
  const plain = new JsonDemand();
  const once = chunk();
  readJson(once);
  plain.observe(once);
  for (let i = 0; i < 20; i++) plain.observe([{ tag: 't', time: 1n, record: { log: 'x' } }]);
  assert.equal(plain.wanted, true);
});

test('MsgpackEvent: reading json marks it wanted, printed or not; setting it does not', () => {
  const [e] = chunk(1);
  e!.json = '{"log":"x"}';
  assert.equal(e!.jsonWanted, false);
  assert.equal(e!.msgpack?.json, '{"log":"x"}');
  assert.equal(e!.jsonWanted, true);
});
