/**
 * Several frames in flight on one connection: the forward output writes the next frames without
 * waiting for the acks of those before them, up to a number of frames and of bytes per connection;
 * each frame is settled by its own ack, in whatever order acks come; a connection that fails (dropped,
 * or one frame's ack late) sends every frame still unacked on it again, in order, with the same chunk
 * ids, and none is lost.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { Packr, unpackMultiple } from 'msgpackr';
import type { LogEvent } from '../../src/core/event.js';
import { waitFor } from '../helpers/wait.js';
import { assertDeliveredOnceInLokiTerms, makeEvents, startReceiver, startSender, waitForEvents } from './forward-output-harness.js';

const packr = new Packr({ useRecords: false });

interface ScriptedFrame {
  /** Which connection it came on, from 1. */
  connection: number;
  tag: string;
  entries: number;
  chunk: string;
  ack(): void;
}

/**
 * A forward receiver that acks only when told: every Forward frame received is recorded with an
 * ack() to call; `drop(n)` closes connection n.
 */
async function scriptedReceiver(t: TestContext): Promise<{ port: number; frames: ScriptedFrame[]; drop(connection: number): void; connections: () => number }> {
  const frames: ScriptedFrame[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const connection = sockets.length;
    let pending = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      let consumed = 0;
      try {
        unpackMultiple(pending, (value: unknown, _start?: number, end?: number) => {
          consumed = end!;
          const [tag, entries, options] = value as [string, unknown[], { chunk: string }];
          frames.push({ connection, tag, entries: entries.length, chunk: options.chunk, ack: () => void socket.write(packr.pack({ ack: options.chunk })) });
        });
      } catch {
        // the last frame is not whole yet
      }
      pending = pending.subarray(consumed);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    port: (server.address() as { port: number }).port,
    frames,
    drop: (n) => sockets[n - 1]?.destroy(),
    connections: () => sockets.length,
  };
}

/** `n` tags of `per` events each, every tag written by its own send() in one turn: one frame per tag, each with its own Delivery. */
async function sendTags(sender: Awaited<ReturnType<typeof startSender>>, n: number, per: number, filler = ''): Promise<{ events: LogEvent[]; settled: (() => boolean)[] }> {
  const events: LogEvent[] = [];
  const sends: Promise<{ settled: () => boolean }>[] = [];
  for (let i = 0; i < n; i++) {
    const batch = makeEvents(per, `app.${i}`, i * per).map((e) => (filler === '' ? e : { ...e, record: { ...e.record, filler } }));
    events.push(...batch);
    sends.push(sender.send(batch));
  }
  const done = await Promise.all(sends);
  return { events, settled: done.map((d) => d.settled) };
}

test('several frames in flight on one connection; acks in reverse order settle each frame by its own chunk id', async (t) => {
  const receiver = await scriptedReceiver(t);
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, send_options: true });
  const { settled } = await sendTags(sender, 4, 5);
  await waitFor(() => receiver.frames.length === 4, 'four frames written before any ack');
  assert.deepEqual(
    receiver.frames.map((f) => f.connection),
    [1, 1, 1, 1],
    'all on one connection',
  );
  // Only the last frame's ack: only its entries are settled.
  receiver.frames[3]!.ack();
  await waitFor(() => settled[3]!(), 'the last frame settled by its own ack');
  assert.deepEqual(
    settled.map((s) => s()),
    [false, false, false, true],
  );
  for (const f of receiver.frames.slice(0, 3).reverse()) f.ack();
  await waitFor(() => settled.every((s) => s()), 'every frame settled');
  assert.equal(await sender.metric('floki_output_batches_total'), 4);
  assert.equal(await sender.metric('floki_output_errors_total'), 0);
  assert.equal(await sender.metric('floki_output_retries_total'), 0);
  assert.equal(receiver.connections(), 1);
});

test('acks for only some frames: the one never acked times out, and every unacked frame of that connection is sent again, in order, with its chunk id', async (t) => {
  const receiver = await scriptedReceiver(t);
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, send_options: true, ack_response_timeout: '1s', retry_min_backoff: '10ms' });
  const { settled } = await sendTags(sender, 4, 3);
  await waitFor(() => receiver.frames.length === 4, 'four frames in flight');
  const first = receiver.frames.slice();
  first[0]!.ack();
  first[2]!.ack();
  await waitFor(() => receiver.frames.length === 6, 'the two frames not acked sent again on a new connection');
  const again = receiver.frames.slice(4);
  assert.deepEqual(
    again.map((f) => [f.connection, f.chunk]),
    [
      [2, first[1]!.chunk],
      [2, first[3]!.chunk],
    ],
  );
  assert.deepEqual(
    settled.map((s) => s()),
    [true, false, true, false],
    'the frames acked on the first connection were settled and not sent again',
  );
  for (const f of again) f.ack();
  await waitFor(() => settled.every((s) => s()), 'all settled');
  assert.equal(await sender.metric('floki_output_ack_timeouts_total'), 1, 'one timeout: the connection failed once');
  assert.equal(await sender.metric('floki_output_errors_total'), 1);
  assert.equal(await sender.metric('floki_output_retries_total'), 2, 'two frames sent again');
  assert.equal(await sender.metric('floki_output_proc_records_total'), 12);
  assert.equal(await sender.metric('floki_output_dropped_records_total'), 0);
});

test('an ack for a chunk not in flight on the connection fails it; its frames are sent again', async (t) => {
  const receiver = await scriptedReceiver(t);
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, send_options: true, retry_min_backoff: '10ms' });
  const { settled } = await sendTags(sender, 2, 2);
  await waitFor(() => receiver.frames.length === 2, 'two frames in flight');
  const stray = receiver.frames[0]!;
  stray.ack();
  // The same ack again: its chunk is no longer in flight.
  stray.ack();
  await waitFor(() => receiver.frames.length === 3, 'the unacked frame sent again');
  assert.equal(receiver.frames[2]!.chunk, receiver.frames[1]!.chunk);
  receiver.frames[2]!.ack();
  await waitFor(() => settled.every((s) => s()), 'both settled');
  assert.match(String(sender.logs.find((l) => l.level === 40)?.reason), /ack for chunk '.+', which is not in flight on this connection/);
});

/**
 * A TCP proxy to a floki receiver that passes the first `acks` acks on, then closes both sides of the
 * connection (the next acks are lost); later connections pass everything. Records each connection's
 * chunk ids.
 */
async function ackDroppingProxy(t: TestContext, targetPort: number, acks: number): Promise<{ port: number; chunks: string[][] }> {
  const chunks: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const mine: string[] = [];
    chunks.push(mine);
    const first = chunks.length === 1;
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    let sent = Buffer.alloc(0);
    client.on('data', (data: Buffer) => {
      sent = Buffer.concat([sent, data]);
      let consumed = 0;
      try {
        unpackMultiple(sent, (value: unknown, _start?: number, end?: number) => {
          consumed = end!;
          const option = (value as unknown[])[2] as { chunk?: string } | undefined;
          if (typeof option?.chunk === 'string') mine.push(option.chunk);
        });
      } catch {
        // a frame cut in two: the rest comes with the next data
      }
      sent = sent.subarray(consumed);
      upstream.write(data);
    });
    let passed = 0;
    let replies = Buffer.alloc(0);
    upstream.on('data', (data: Buffer) => {
      if (!first) return void client.write(data);
      replies = Buffer.concat([replies, data]);
      let consumed = 0;
      try {
        unpackMultiple(replies, (_value: unknown, start?: number, end?: number) => {
          consumed = end!;
          if (passed < acks) {
            passed++;
            client.write(replies.subarray(start, end));
            return true;
          }
          closeBoth();
          return false;
        });
      } catch {
        // an ack cut in two
      }
      replies = replies.subarray(consumed);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as { port: number }).port, chunks };
}

test('a floki receiver whose connection drops with several frames unacked: all of them sent again, none lost, delivered once in Loki terms', async (t) => {
  // The receiver holds the first frame until every frame is written, so that four are in flight.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let emits = 0;
  const receiver = await startReceiver(t, {}, () => (++emits === 1 ? gate : Promise.resolve()));
  const proxy = await ackDroppingProxy(t, receiver.port, 1);
  const sender = await startSender(t, { port: proxy.port, require_ack_response: true, send_options: true, retry_min_backoff: '10ms' });
  const { events, settled } = await sendTags(sender, 4, 10);
  await waitFor(() => proxy.chunks[0]?.length === 4, 'four frames written on the first connection');
  release();
  await waitFor(() => settled.every((s) => s()), 'every frame settled after the second connection');
  const [firstConnection, secondConnection] = proxy.chunks;
  assert.deepEqual(secondConnection, firstConnection!.slice(1), 'the three frames not acked sent again, in order, with their chunk ids');
  assertDeliveredOnceInLokiTerms(events, receiver.events);
  assert.ok(receiver.events.length >= 40 + 10, `the receiver took at least the second frame twice (${receiver.events.length})`);
  assert.equal(await sender.metric('floki_output_errors_total'), 1);
  assert.equal(await sender.metric('floki_output_retries_total'), 3);
  assert.equal(await sender.metric('floki_output_proc_records_total'), 40);
  assert.equal(await sender.metric('floki_output_dropped_records_total'), 0);
});

test('the bounds per connection: at most so many frames and so many bytes unacked; another connection only while the first is full (workers 2)', async (t) => {
  const receiver = await scriptedReceiver(t);
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, send_options: true }, {}, { maxFramesPerConnection: 3 });
  const { settled } = await sendTags(sender, 5, 2);
  await waitFor(() => receiver.frames.length === 3, 'three frames in flight');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(receiver.frames.length, 3, 'no fourth frame before an ack');
  receiver.frames[1]!.ack();
  await waitFor(() => receiver.frames.length === 4, 'a fourth frame once one is acked');
  for (let acked = 0; !settled.every((s) => s()); ) {
    for (const f of receiver.frames) if (f !== receiver.frames[1]) f.ack();
    acked++;
    assert.ok(acked < 200, 'settled in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  // Bytes: frames of some 1.1 KB (one event each) against a bound of 3 KB: two at a time; a frame larger than the bound goes alone.
  const bytes = await scriptedReceiver(t);
  const bounded = await startSender(t, { port: bytes.port, require_ack_response: true, send_options: true }, {}, { maxBytesPerConnection: 3000 });
  const small = await sendTags(bounded, 4, 1, 'x'.repeat(1000));
  await waitFor(() => bytes.frames.length === 2, 'two frames in flight');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(bytes.frames.length, 2, 'a third would pass the byte bound');
  bytes.frames[0]!.ack();
  await waitFor(() => bytes.frames.length === 3, 'the third once the first is acked');
  for (const f of bytes.frames.slice(1)) f.ack();
  await waitFor(() => bytes.frames.length === 4, 'the fourth');
  bytes.frames[3]!.ack();
  await waitFor(() => small.settled.every((s) => s()), 'settled');
  const big = await sendTags(bounded, 2, 4, 'x'.repeat(1000));
  await waitFor(() => bytes.frames.length === 5, 'a frame larger than the bound, alone');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(bytes.frames.length, 5);
  bytes.frames[4]!.ack();
  await waitFor(() => bytes.frames.length === 6, 'the next after it');
  bytes.frames[5]!.ack();
  await waitFor(() => big.settled.every((s) => s()), 'settled');
  assert.equal(bytes.connections(), 1);

  // workers 2: a second connection opens only while the first has its two frames in flight.
  const two = await scriptedReceiver(t);
  const parallel = await startSender(t, { port: two.port, require_ack_response: true, send_options: true, workers: 2 }, {}, { maxFramesPerConnection: 2 });
  const four = await sendTags(parallel, 5, 2);
  await waitFor(() => two.frames.length === 4, 'four frames in flight');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(
    two.frames.map((f) => f.connection),
    [1, 1, 2, 2],
  );
  for (const f of two.frames) f.ack();
  await waitFor(() => two.frames.length === 5, 'the fifth once there is room');
  two.frames[4]!.ack();
  await waitFor(() => four.settled.every((s) => s()), 'settled');
});

for (const [mode, options] of [
  ['Forward', {}],
  ['CompressedPackedForward', { compress: 'gzip' }],
] as const) {
  test(`${mode}, large frames (pooled buffers${mode === 'Forward' ? ', the header written in front of the entries' : ', given back once gzipped'}): exact records across many frames, several in flight`, async (t) => {
    const receiver = await startReceiver(t);
    const sender = await startSender(t, { port: receiver.port, require_ack_response: true, batch_size: '200K', ...options });
    const sent: LogEvent[] = [];
    const filler = 'x'.repeat(1500);
    for (let round = 0; round < 5; round++) {
      const events = makeEvents(600, `app.${round % 2}`, round * 600).map((e) => ({ ...e, record: { ...e.record, filler: `${round}${filler}` } }));
      sent.push(...events);
      const { settled } = await sender.send(events);
      // Every other round waits: frames are then built in buffers given back by delivered ones.
      if (round % 2 === 0) await waitFor(settled, `round ${round} settled`);
    }
    await waitForEvents(receiver, sent.length);
    assertDeliveredOnceInLokiTerms(sent, receiver.events);
    assert.equal(receiver.events.length, sent.length, 'each once');
    assert.ok((await sender.metric('floki_output_batches_total')) >= 15, 'frames of about 200K each');
  });
}
