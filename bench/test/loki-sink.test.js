// The counting sink's JSON path (Fluent Bit's out_loki pushes): `node --test bench/test/`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { makeEvent } from '../lib/events.js';
import { startSink } from '../lib/loki-sink.js';

const EXPECTED = 10;
const ns = (seq) => String(1_795_600_800_000_000_000n + BigInt(seq));
const eventLine = (seq) => JSON.stringify(makeEvent(seq, 1, 'exporter-no-lookup').record);
const appLine = (seq, text = 'request handled') => JSON.stringify({ time: '2026-11-25T10:00:00Z', stream: 'stdout', _p: 'F', log: `seq=${seq.toString(16).padStart(16, '0')} msg="${text}"` });
/** As Fluent Bit sends them: one stream per record. */
const push = (lines) => ({ streams: lines.map(([seq, line]) => ({ stream: { job: 'fluent-bit', type: 'Normal' }, values: [[ns(seq), line]] })) });

let sink;
before(async () => {
  sink = await startSink({ expected: EXPECTED });
});
after(() => sink.close());

async function post(body, headers = {}) {
  const res = await fetch(`http://127.0.0.1:${sink.port}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  assert.equal(res.status, 204, await res.text());
}

/** Stats since the previous call. */
const KEYS = ['entries', 'streams', 'duplicates', 'unknown', 'badRequests'];
let last = Object.fromEntries(KEYS.map((k) => [k, 0]));
function delta() {
  const s = sink.stats();
  const d = Object.fromEntries(KEYS.map((k) => [k, s[k] - last[k]]));
  last = s;
  return d;
}

test('counts the entries of a compact push, one stream per record, and reads their sequence numbers', async () => {
  await post(JSON.stringify(push([0, 1, 2].map((s) => [s, eventLine(s)]))));
  assert.deepEqual(delta(), { entries: 3, streams: 3, duplicates: 0, unknown: 0, badRequests: 0 });
  assert.deepEqual(sink.missing(3), [3, 4, 5]);
});

test('text that looks like the push structure inside a line does not count as an entry', async () => {
  const tricky = appLine(3, 'x ["1","y"] "],[" {"stream":{ ]]} ["');
  await post(JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[ns(3), tricky], [ns(4), appLine(4)]] }] }));
  assert.deepEqual(delta(), { entries: 2, streams: 1, duplicates: 0, unknown: 0, badRequests: 0 });
});

test('a line sent twice is a duplicate; a line without a number does not borrow the next one', async () => {
  await post(JSON.stringify(push([[2, eventLine(2)], [9, JSON.stringify({ log: 'no number here' })], [5, appLine(5)]])));
  assert.deepEqual(delta(), { entries: 3, streams: 3, duplicates: 1, unknown: 1, badRequests: 0 });
});

test('gzip, and JSON laid out differently (parsed instead of scanned), count the same', async () => {
  await post(gzipSync(JSON.stringify(push([[6, eventLine(6)]]))), { 'content-encoding': 'gzip' });
  await post(JSON.stringify(push([[7, appLine(7)], [8, eventLine(8)]]), null, 2));
  assert.deepEqual(delta(), { entries: 3, streams: 3, duplicates: 0, unknown: 0, badRequests: 0 });
});

test('a compact body with brackets the scan does not expect is parsed, not miscounted', async () => {
  // An array inside an entry: `["` that opens no [ns, line] pair.
  await post(JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[ns(9), appLine(9), ['x']]] }] }));
  assert.deepEqual(delta(), { entries: 1, streams: 1, duplicates: 0, unknown: 0, badRequests: 0 });
  assert.deepEqual(sink.missing(), []);
});
