/**
 * Clients that hold resources without sending anything useful must not lock real clients out (issue
 * #11): idle connections at net.max_connections, slow frames (slowloris), and many connections each
 * holding part of a large frame. Each case: a real client still gets in and is acked, and what floki
 * closed is counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { arr, bin, cat, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { capturingLog, makeCertificates, RawClient, startServer } from './forward-harness.js';

const SEC = 1764064800;
const chunk = (id: string, n = 0): Buffer => cat(arr(4), str('real'), eventTime(SEC, n), rec({ id }), rec({ chunk: id }));

/** A PackedForward frame of about `bytes` bytes (one entry with a large field). */
function bigFrame(bytes: number, id: string): Buffer {
  const entry = cat(arr(2), eventTime(SEC, 0), rec({ id, pad: 'x'.repeat(bytes - 100) }));
  return cat(arr(3), str('big'), bin(entry), rec({ chunk: id }));
}

test('default net.max_connections (1024) full of idle connections: a real client gets in, the longest idle one makes room, counted', async (t) => {
  const { log, lines } = capturingLog();
  const h = await startServer(t, {}, undefined, log);
  const idle: RawClient[] = [];
  // The first two one at a time (idle[0] then idle[1] are the longest idle), then the rest in batches.
  while (idle.length < 1024) {
    const n = idle.length < 2 ? 1 : Math.min(64, 1024 - idle.length);
    idle.push(...(await Promise.all(Array.from({ length: n }, () => RawClient.connect(t, h.port)))));
    await waitFor(async () => (await h.metric('floki_input_connections_active')) === idle.length, `${idle.length} connections`, 20_000);
  }

  const real = await RawClient.connect(t, h.port);
  await real.write(chunk('r1'));
  assert.deepEqual(await real.waitReplies(1), [{ ack: 'r1' }]);
  assert.equal(real.closed, false);
  await idle[0]!.waitClosed();
  assert.equal(await h.metric('floki_input_connections_evicted_total', { reason: 'max_connections' }), 1);
  assert.equal(await h.metric('floki_input_connections_rejected_total'), 0);
  assert.equal(await h.metric('floki_input_connections_active'), 1024);

  // The next newcomer closes the next idle one that never sent a frame, not the client that did.
  const second = await RawClient.connect(t, h.port);
  await second.write(chunk('r2'));
  assert.deepEqual(await second.waitReplies(1), [{ ack: 'r2' }]);
  await idle[1]!.waitClosed();
  assert.equal(real.closed, false);
  assert.equal(idle.filter((c) => c.closed).length, 2);
  assert.equal(await h.metric('floki_input_connections_evicted_total', { reason: 'max_connections' }), 2);
  assert.equal(lines.filter((l) => String(l.msg).startsWith('forward: net.max_connections reached')).length, 1, 'logged once');
  assert.deepEqual(h.events.map((e) => e.record.id), ['r1', 'r2']);
});

test('at net.max_connections, connections that sent frames go after those that never did, the longest idle first', async (t) => {
  const h = await startServer(t, { 'net.max_connections': 3 });
  const early = await RawClient.connect(t, h.port);
  await early.write(chunk('early'));
  await early.waitReplies(1);
  const late = await RawClient.connect(t, h.port);
  await late.write(chunk('late'));
  await late.waitReplies(1);
  const silent = await RawClient.connect(t, h.port);
  await waitFor(async () => (await h.metric('floki_input_connections_active')) === 3, 'three connections');

  const a = await RawClient.connect(t, h.port);
  await silent.waitClosed();
  assert.equal(early.closed || late.closed, false, 'the silent one went first, though it is the newest');
  await waitFor(async () => (await h.metric('floki_input_connections_active')) === 3, 'a in');
  await a.write(chunk('a'));
  await a.waitReplies(1);
  const b = await RawClient.connect(t, h.port);
  await early.waitClosed();
  assert.equal(late.closed, false, 'of those that sent frames, the one whose last frame is oldest went');
  await b.write(chunk('b'));
  assert.deepEqual(await b.waitReplies(1), [{ ack: 'b' }]);
  assert.equal(await h.metric('floki_input_connections_evicted_total', { reason: 'max_connections' }), 2);
});

test('TLS: sockets that never start their handshake count toward net.max_connections and make room for a real client, without counting as auth failures', async (t) => {
  const certs = makeCertificates((fn) => t.after(fn));
  const h = await startServer(t, { 'net.max_connections': 3, tls: true, 'tls.crt_file': certs.serverCrt, 'tls.key_file': certs.serverKey });
  const silent = await Promise.all(
    Array.from({ length: 3 }, () =>
      new Promise<{ closed: boolean }>((resolve, reject) => {
        const state = { closed: false };
        const s = connect({ host: '127.0.0.1', port: h.port }, () => resolve(state));
        s.on('close', () => (state.closed = true)).on('error', reject);
        t.after(() => void s.destroy());
      }),
    ),
  );
  const real = await RawClient.connect(t, { port: h.port, tls: { ca: readFileSync(certs.caCrt) } });
  await real.write(chunk('tls'));
  assert.deepEqual(await real.waitReplies(1), [{ ack: 'tls' }]);
  await waitFor(() => silent.filter((s) => s.closed).length === 1, 'one silent socket closed');
  assert.equal(await h.metric('floki_input_connections_evicted_total', { reason: 'max_connections' }), 1);
  assert.equal(await h.metric('floki_input_auth_failures_total'), 0, 'closed by floki, not a failed handshake');
});

test('a connection whose chunk is in the pipeline is never evicted; when every one is, the newcomer is refused and counted', async (t) => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const h = await startServer(t, { 'net.max_connections': 2 }, async (batch, collected) => {
    await gate;
    collected.push(...batch);
  });
  const a = await RawClient.connect(t, h.port);
  const b = await RawClient.connect(t, h.port);
  await a.write(chunk('a'));
  await b.write(chunk('b'));
  await waitFor(async () => (await h.metric('floki_input_frames_total')) === 2, 'both chunks in the pipeline');
  const c = await RawClient.connect(t, h.port);
  await c.waitClosed();
  assert.equal(await h.metric('floki_input_connections_rejected_total'), 1);
  assert.equal(await h.metric('floki_input_connections_evicted_total'), 0);
  open();
  assert.deepEqual(await a.waitReplies(1), [{ ack: 'a' }]);
  assert.deepEqual(await b.waitReplies(1), [{ ack: 'b' }]);
});

test('net.frame_timeout closes a slowloris connection (a byte at a time, never a whole frame), counted; idle and real clients stay', async (t) => {
  const h = await startServer(t, { 'net.frame_timeout': 400 });
  const idle = await RawClient.connect(t, h.port);
  const real = await RawClient.connect(t, h.port);
  const slow = await RawClient.connect(t, h.port);
  const frame = chunk('never');
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < frame.length - 1) void slow.write(frame.subarray(sent, ++sent)).catch(() => {});
  }, 40);
  t.after(() => clearInterval(drip));
  const started = Date.now();
  let n = 0;
  // The real client keeps sending meanwhile, so the check covers the whole time the slow one is open.
  while (!slow.closed && Date.now() - started < 10_000) {
    await real.write(chunk(`r${n}`, n));
    await real.waitReplies(++n);
  }
  clearInterval(drip);
  assert.ok(slow.closed, 'the slow connection was closed within 10 s');
  assert.ok(Date.now() - started >= 400, 'not before the timeout');
  assert.equal(await h.metric('floki_input_connection_timeouts_total', { reason: 'frame_timeout' }), 1);
  // The timer that closed the slow one looked at the idle one too: sending nothing is not a frame in progress.
  assert.equal(idle.closed, false);
  assert.equal(real.closed, false);
  assert.ok(h.events.every((e) => e.record.id !== 'never'));
  assert.equal(h.events.length, n);
  assert.equal(await h.metric('floki_input_malformed_frames_total'), 0, 'a timeout is not the client cutting a frame short');
});

test('net.frame_timeout does not run while the input is paused by backpressure', async (t) => {
  const h = await startServer(t, { 'net.frame_timeout': 150 });
  const client = await RawClient.connect(t, h.port);
  const frame = chunk('paused');
  await client.write(frame.subarray(0, 5));
  await waitFor(async () => (await h.metric('floki_input_frame_buffer_bytes')) > 0, 'the partial frame held');
  h.server.pause();
  // Paused for several timeouts: the timer runs meanwhile and must leave the connection alone.
  const ticks = await h.metric('floki_input_connection_timeouts_total');
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(client.closed, false);
  assert.equal(await h.metric('floki_input_connection_timeouts_total'), ticks);
  h.server.resume();
  await client.write(frame.subarray(5));
  assert.deepEqual(await client.waitReplies(1), [{ ack: 'paused' }]);
});

test('buffer_total_limit_size: connections holding parts of large frames are closed oldest first; the bytes held never pass it; a real client is acked', async (t) => {
  const MiB = 1024 * 1024;
  const { log, lines } = capturingLog();
  const h = await startServer(t, { buffer_max_size: MiB, buffer_total_limit_size: 2 * MiB }, undefined, log);
  // Every change of the bytes held, after floki handled it: the budget must hold at each one, not at samples.
  let peak = 0;
  const holding = h.server.holding.bind(h.server);
  h.server.holding = (connection, delta) => {
    holding(connection, delta);
    peak = Math.max(peak, h.server.heldBytes);
  };
  const frame = bigFrame(900 * 1024, 'big');
  const half = Math.floor(frame.length / 2);
  const hoarders: RawClient[] = [];
  for (let i = 0; i < 6; i++) {
    const c = await RawClient.connect(t, h.port);
    hoarders.push(c);
    await c.write(frame.subarray(0, half));
    await waitFor(async () => (await h.metric('floki_input_bytes_total')) === (i + 1) * half, `hoarder ${i} read`);
  }
  // Each buffer is sized to its frame (~0.9 MiB + 64 KiB) on its header: two fit in 2 MiB, so four were closed, the oldest.
  await waitFor(() => hoarders.filter((c) => c.closed).length === 4, 'four hoarders closed');
  assert.deepEqual(hoarders.map((c) => c.closed), [true, true, true, true, false, false]);
  assert.equal(await h.metric('floki_input_connections_evicted_total', { reason: 'buffer_total_limit_size' }), 4);
  assert.ok(peak <= 2 * MiB, `held at most the budget (${peak} bytes)`);
  assert.ok(h.server.heldBytes <= 2 * MiB);
  assert.equal(await h.metric('floki_input_frame_buffer_bytes'), h.server.heldBytes);
  assert.equal(lines.filter((l) => String(l.msg).startsWith('forward: unfinished frames hold more than buffer_total_limit_size')).length, 1);

  const real = await RawClient.connect(t, h.port);
  await real.write(chunk('real'));
  assert.deepEqual(await real.waitReplies(1), [{ ack: 'real' }]);
  // A survivor finishes its frame: delivered and acked, and its buffer released.
  await hoarders[5]!.write(frame.subarray(half));
  assert.deepEqual(await hoarders[5]!.waitReplies(1), [{ ack: 'big' }]);
  assert.deepEqual(h.events.map((e) => e.record.id), ['real', 'big']);
  assert.equal(await h.metric('floki_input_malformed_frames_total'), 0);
  assert.ok(peak <= 2 * MiB, `held at most the budget (${peak} bytes)`);
});
