/**
 * The forward input's limits over real sockets: idle timeout, frames cut short, other signals than
 * logs, JSON connections; and that backpressure never closes anything. The connection limit, frame
 * timeout and frame budget against hostile clients: forward-hostile-clients.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arr, bin, cat, entry, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { capturingLog, RawClient, startServer } from './forward-harness.js';

const SEC = 1764064800;
const message = (n: number, option?: Record<string, unknown>): Buffer =>
  option ? cat(arr(4), str('lim'), eventTime(SEC, n), rec({ n }), rec(option)) : cat(arr(3), str('lim'), eventTime(SEC, n), rec({ n }));

test('net.io_timeout closes a silent connection, counted; an active one stays', async (t) => {
  const h = await startServer(t, { 'net.io_timeout': 300 });
  const silent = await RawClient.connect(t, h.port);
  const active = await RawClient.connect(t, h.port);
  const started = Date.now();
  let n = 0;
  const keepAlive = setInterval(() => void active.write(message(++n)).catch(() => {}), 50);
  t.after(() => clearInterval(keepAlive));
  await silent.waitClosed(5000);
  assert.ok(Date.now() - started >= 280, 'not before the timeout');
  assert.equal(active.closed, false);
  clearInterval(keepAlive);
  assert.equal(await h.metric('floki_input_connection_timeouts_total'), 1);
});

test('net.io_timeout does not close a connection paused by backpressure', async (t) => {
  const h = await startServer(t, { 'net.io_timeout': 150 });
  const client = await RawClient.connect(t, h.port);
  h.server.pause();
  await client.write(message(1));
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(client.closed, false);
  h.server.resume();
  await waitFor(() => h.events.length === 1, 'the event after resume');
  assert.equal(await h.metric('floki_input_connection_timeouts_total'), 0);
});

test('a client closing in the middle of a frame: the partial frame is dropped and counted', async (t) => {
  const { log, lines } = capturingLog();
  const h = await startServer(t, {}, undefined, log);
  const client = await RawClient.connect(t, h.port);
  const frame = message(1);
  client.socket.end(cat(message(0), frame.subarray(0, frame.length - 3)));
  await client.waitClosed();
  await waitFor(async () => (await h.metric('floki_input_malformed_frames_total')) === 1, 'the truncated frame counted');
  assert.deepEqual(h.events.map((e) => e.record.n), [0]);
  assert.ok(lines.some((l) => String(l.msg).includes('in the middle of a frame')));
});

test('fluent_signal metrics and traces: dropped, counted by signal, logged once, acked', async (t) => {
  const { log, lines } = capturingLog();
  const h = await startServer(t, {}, undefined, log);
  const client = await RawClient.connect(t, h.port);
  const metricsChunk = (id: string): Buffer => cat(arr(3), str('fb.metrics'), bin(rec({ meta: {}, metrics: [] })), rec({ fluent_signal: 1, chunk: id }));
  const tracesChunk = cat(arr(3), str('fb.traces'), bin(rec({ resourceSpans: [] })), rec({ fluent_signal: 2, chunk: 't1' }));
  const logs = cat(arr(3), str('fb.logs'), bin(entry(eventTime(SEC, 9), { log: 'real' })), rec({ fluent_signal: 0, chunk: 'l1' }));
  await client.write(cat(metricsChunk('m1'), metricsChunk('m2'), tracesChunk, logs));
  assert.deepEqual(await client.waitReplies(4), [{ ack: 'm1' }, { ack: 'm2' }, { ack: 't1' }, { ack: 'l1' }]);
  assert.deepEqual(h.events.map((e) => e.record.log), ['real']);
  assert.equal(await h.metric('floki_input_dropped_signal_chunks_total', { signal: 'metrics' }), 2);
  assert.equal(await h.metric('floki_input_dropped_signal_chunks_total', { signal: 'traces' }), 1);
  assert.equal(lines.filter((l) => String(l.msg).startsWith('forward: dropped a chunk that is not logs')).length, 2);
  assert.equal(await h.metric('floki_input_malformed_frames_total'), 0);
});

test('a JSON connection: Message and Forward frames, acks in JSON', async (t) => {
  const h = await startServer(t);
  const client = await RawClient.connect(t, h.port);
  await client.write(Buffer.from(`["json.a",${SEC}.5,{"log":"one"},{"chunk":"j1"}]\n["json.b",[[${SEC},{"log":"two"}],[${SEC + 1},{"log":"three"}]],{"size":2,"chunk":"j2"}]\n`));
  await waitFor(() => client.bytes().toString().includes('j2'), 'both acks');
  assert.equal(client.bytes().toString(), '{"ack":"j1"}{"ack":"j2"}');
  assert.deepEqual(
    h.events.map((e) => [e.tag, e.time, e.record.log]),
    [
      ['json.a', BigInt(SEC) * 1_000_000_000n + 500_000_000n, 'one'],
      ['json.b', BigInt(SEC) * 1_000_000_000n, 'two'],
      ['json.b', BigInt(SEC + 1) * 1_000_000_000n, 'three'],
    ],
  );
});
