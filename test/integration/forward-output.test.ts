/** The forward output into floki's own forward input, over real sockets: every mode, acks, unix socket, records kept as bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEvent } from '../../src/core/event.js';
import { NS_PER_SECOND } from '../../src/core/event.js';
import { waitFor } from '../helpers/wait.js';
import { assertDeliveredOnceInLokiTerms, entryKey, makeEvents, startReceiver, startSender, waitForEvents } from './forward-output-harness.js';

const MODES: [string, Record<string, unknown>][] = [
  ['Forward with v1.5 metadata (the default)', {}],
  ['Forward without metadata', { retain_metadata_in_forward_mode: false }],
  ['Forward with send_options and add_option', { send_options: true, add_option: ['source node-1'] }],
  ['CompressedPackedForward (compress gzip)', { compress: 'gzip' }],
  ['Message (a tag reading the record)', { tag: "$nested['ok'].$TAG" }],
];

for (const [mode, options] of MODES) {
  for (const acks of [false, true]) {
    test(`${mode}${acks ? ', with acks' : ''}: every event arrives with its exact nanosecond time, record and metadata`, async (t) => {
      const receiver = await startReceiver(t);
      const sender = await startSender(t, { port: receiver.port, require_ack_response: acks, ...options });
      const events = makeEvents(50);
      events[3]!.metadata = { otel: { trace_id: 'abc' } };
      const { settled } = await sender.send(events);
      await waitForEvents(receiver, 50);
      await waitFor(settled, 'the entries settled');
      const expectedTag = options.tag ? `true.app.one` : 'app.one';
      assert.deepEqual(
        receiver.events.map(entryKey),
        events.map((e) => entryKey({ ...e, tag: expectedTag })),
      );
      const withMetadata = receiver.events.find((e) => e.record.n === 3)!;
      // Message mode carries metadata in the option map, where floki's input does not read it.
      if (options.retain_metadata_in_forward_mode !== false && !options.tag) assert.deepEqual(withMetadata.metadata, { otel: { trace_id: 'abc' } });
      assert.equal(await receiver.metric('floki_input_acks_total'), acks ? (options.tag ? 50 : 1) : 0);
      assert.equal(await sender.metric('floki_output_proc_records_total'), 50);
      assert.equal(await sender.metric('floki_output_errors_total'), 0);
    });
  }
}

test('time_as_integer: whole seconds, as Fluentd v0.12 reads them', async (t) => {
  const receiver = await startReceiver(t);
  const sender = await startSender(t, { port: receiver.port, time_as_integer: true, require_ack_response: true });
  const events = makeEvents(10);
  await sender.send(events);
  await waitForEvents(receiver, 10);
  assert.deepEqual(
    receiver.events.map((e) => e.time),
    events.map((e) => (e.time / NS_PER_SECOND) * NS_PER_SECOND),
  );
});

test('several tags make several frames; batch_size splits a tag into several frames', async (t) => {
  const receiver = await startReceiver(t);
  const sender = await startSender(t, { port: receiver.port, batch_size: '1K', require_ack_response: true });
  const events = [...makeEvents(40, 'a'), ...makeEvents(40, 'b', 40)];
  const { settled } = await sender.send(events);
  await waitForEvents(receiver, 80);
  // Frames are counted once acked: the receiver has the events a moment before that.
  await waitFor(settled, 'every frame acked');
  assertDeliveredOnceInLokiTerms(events, receiver.events);
  const frames = await sender.metric('floki_output_batches_total');
  const bytes = await sender.metric('floki_output_proc_bytes_total');
  assert.ok(frames >= 4 && bytes / frames < 1300, `frames of about 1K each (${frames} frames, ${bytes} bytes)`);
  assert.equal(await receiver.metric('floki_input_acks_total'), await sender.metric('floki_output_batches_total'));
});

test('unix socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floki-fwd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'in.sock');
  const receiver = await startReceiver(t, { unix_path: path });
  const sender = await startSender(t, { unix_path: path, require_ack_response: true });
  const events = makeEvents(5);
  await sender.send(events);
  await waitForEvents(receiver, 5);
  assertDeliveredOnceInLokiTerms(events, receiver.events);
});

test('an aggregator hop: records a forward input kept as msgpack bytes are forwarded as they are', async (t) => {
  const last = await startReceiver(t);
  const sender = await startSender(t, { port: last.port, require_ack_response: true });
  // The first hop's events are the input's own (records still bytes): pass them straight on.
  const first = await startReceiver(t, {}, async (batch) => void (await sender.send(batch)));
  // PackedForward entries [time, map] are what the input keeps as bytes.
  const client = await startSender(t, { port: first.port, compress: 'gzip', retain_metadata_in_forward_mode: false });
  const events = makeEvents(20);
  await client.send(events);
  await waitForEvents(last, 20);
  const hopped = first.events.filter((e) => e.msgpack !== undefined);
  assert.ok(hopped.length > 0, 'the first hop handed on records as bytes');
  assertDeliveredOnceInLokiTerms(events, last.events);
});

/** A receiver that holds its first chunk's ack until released; `taken` counts the chunks it got. */
async function gatedReceiver(t: Parameters<typeof startReceiver>[0]): Promise<{ receiver: Awaited<ReturnType<typeof startReceiver>>; release: () => void; taken: () => number }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let taken = 0;
  const receiver = await startReceiver(t, {}, () => (++taken === 1 ? gate : Promise.resolve()));
  return { receiver, release, taken: () => taken };
}

test('a connection with room sends what is open at once; while every connection is full (here one frame in flight), entries gather into one frame', async (t) => {
  const { receiver, release, taken } = await gatedReceiver(t);
  // flush 60 s: nothing here may wait for it.
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, workers: 1 }, { flushMs: 60_000 }, { maxFramesPerConnection: 1 });
  const first = makeEvents(3);
  await sender.send(first);
  await waitFor(() => taken() === 1, 'the first frame sent without waiting for flush');
  const later = [...makeEvents(4, 'app.one', 3), ...makeEvents(5, 'app.one', 7)];
  await sender.send(later.slice(0, 4));
  await sender.send(later.slice(4));
  release();
  await waitForEvents(receiver, 12);
  assertDeliveredOnceInLokiTerms([...first, ...later], receiver.events);
  assert.equal(await sender.metric('floki_output_batches_total'), 2, 'what came while the connection was full went as one frame');
});

test('stop() sends what is open before it returns', async (t) => {
  const { receiver, release, taken } = await gatedReceiver(t);
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, workers: 1 }, { flushMs: 60_000 }, { maxFramesPerConnection: 1 });
  const first = makeEvents(2);
  const a = await sender.send(first);
  await waitFor(() => taken() === 1, 'the first frame waiting for its ack');
  // The only connection is full: these stay in an open frame until stop().
  const events = makeEvents(7, 'app.one', 2);
  const b = await sender.send(events);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(taken(), 1);
  const stopped = sender.output.stop(2000);
  release();
  await stopped;
  assert.equal(a.settled() && b.settled(), true);
  assertDeliveredOnceInLokiTerms([...first, ...events], receiver.events);
});

test('backpressure: over mem_buf_limit the output asks for a pause, and lifts it once delivered', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // The receiver does not take the events (so does not ack) until released.
  const receiver = await startReceiver(t, {}, () => gate);
  const sender = await startSender(t, { port: receiver.port, require_ack_response: true, mem_buf_limit: '4K' });
  const events: LogEvent[] = makeEvents(100);
  await sender.send(events);
  assert.deepEqual(sender.full, [true]);
  release();
  await waitFor(() => sender.full.length === 2, 'the pause lifted');
  assert.deepEqual(sender.full, [true, false]);
  assertDeliveredOnceInLokiTerms(events, receiver.events);
});
