import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { arr, bin, cat, entry, eventTime, NS, rec, str, uint32 } from '../helpers/msgpack-wire.js';
import { pino } from 'pino';
import fluentLogger from 'fluent-logger';
import type { InputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { forwardInput } from '../../src/inputs/forward/index.js';
import { waitFor } from '../helpers/wait.js';
import { RawClient, startServer } from './forward-harness.js';
import { plainEvent } from '../helpers/plain-event.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

const SEC = 1764064800;

test('receives Message, Forward and PackedForward frames over TCP', async (t) => {
  const h = await startServer(t);
  const client = await RawClient.connect(t, h.port);
  const message = cat(arr(3), str('app.message'), eventTime(SEC, 123456), rec({ log: 'message mode' }));
  const forward = cat(arr(2), str('app.forward'), arr(2), entry(uint32(SEC), { log: 'f1' }), entry(eventTime(SEC, 7), { log: 'f2' }));
  const packed = cat(arr(2), str('app.packed'), bin(cat(entry(eventTime(SEC, 8), { log: 'p1' }), entry(eventTime(SEC + 1, 9), { log: 'p2' }))));
  await client.write(cat(message, forward));
  await client.write(packed);
  await waitFor(() => h.events.length === 5, 'five events');
  assert.deepEqual(h.events.map(plainEvent), [
    { tag: 'app.message', time: NS(SEC, 123456), record: { log: 'message mode' } },
    { tag: 'app.forward', time: NS(SEC), record: { log: 'f1' } },
    { tag: 'app.forward', time: NS(SEC, 7), record: { log: 'f2' } },
    { tag: 'app.packed', time: NS(SEC, 8), record: { log: 'p1' } },
    { tag: 'app.packed', time: NS(SEC + 1, 9), record: { log: 'p2' } },
  ]);
  assert.equal(await h.metric('floki_input_frames_total'), 3);
  assert.equal(await h.metric('floki_input_bytes_total'), message.length + forward.length + packed.length);
  assert.equal(await h.metric('floki_input_connections_total'), 1);
  assert.equal(await h.metric('floki_input_connections_active'), 1);
  client.socket.destroy();
  await waitFor(async () => (await h.metric('floki_input_connections_active')) === 0, 'the connection to be gone');
});

test('tag and tag_prefix options', async (t) => {
  const prefixed = await startServer(t, { tag_prefix: 'fw.' });
  const overridden = await startServer(t, { tag: 'fixed', tag_prefix: 'ignored.' });
  for (const h of [prefixed, overridden]) {
    const client = await RawClient.connect(t, h.port);
    await client.write(cat(arr(3), str('app'), uint32(SEC), rec({ a: 1 })));
    await waitFor(() => h.events.length === 1, 'one event');
  }
  assert.equal(prefixed.events[0]!.tag, 'fw.app');
  assert.equal(overridden.events[0]!.tag, 'fixed');
});

test('a chunk is acked only after emit resolved, in order', async (t) => {
  const pending: (() => void)[] = [];
  const h = await startServer(t, {}, (batch, collected) => {
    collected.push(...batch);
    return new Promise<void>((resolve) => pending.push(resolve));
  });
  const client = await RawClient.connect(t, h.port);
  const chunk = (id: string, n: number): Buffer => cat(arr(3), str('acked'), arr(1), entry(uint32(SEC), { n }), rec({ chunk: id, size: 1 }));
  await client.write(cat(chunk('Y2h1bmstMQ==', 1), chunk('Y2h1bmstMg==', 2)));
  await waitFor(() => pending.length === 1, 'the first emit');
  // The second frame waits for the first emit: frames of a connection are handled one at a time.
  assert.equal(h.events.length, 1);
  assert.deepEqual(client.replies(), []);
  pending[0]!();
  await waitFor(() => client.replies().length === 1, 'the first ack');
  assert.deepEqual(client.replies(), [{ ack: 'Y2h1bmstMQ==' }]);
  await waitFor(() => pending.length === 2, 'the second emit');
  pending[1]!();
  await waitFor(() => client.replies().length === 2, 'the second ack');
  assert.deepEqual(client.replies()[1], { ack: 'Y2h1bmstMg==' });
  assert.equal(await h.metric('floki_input_acks_total'), 2);
});

/**
 * Sends `count` PackedForward frames of `records` ~1 KB records to a pipeline whose emits wait, and
 * returns how many bytes floki read past the two frames it holds (one emitting, one queued) once it
 * stopped reading; then lets the pipeline go and checks every record arrives, in order.
 */
async function readAheadOf(t: TestContext, records: number, count: number): Promise<{ ahead: number; size: number }> {
  const pending: (() => void)[] = [];
  const h = await startServer(t, { threaded: true }, (batch, collected) => {
    collected.push(...batch);
    return new Promise<void>((resolve) => pending.push(resolve));
  });
  const client = await RawClient.connect(t, h.port);
  const frame = (f: number): Buffer => {
    const entries: Buffer[] = [];
    for (let i = 0; i < records; i++) entries.push(entry(eventTime(SEC, i), { f, i, log: 'x'.repeat(1000) }));
    return cat(arr(2), str('ahead'), bin(cat(...entries)));
  };
  const frames = Array.from({ length: count }, (_, f) => frame(f));
  const size = frames[0]!.length;
  void client.write(cat(...frames)).catch(() => undefined);
  await waitFor(() => pending.length === 1, 'the first emit');
  let last = -1;
  await waitFor(
    async () => {
      const read = await h.metric('floki_input_bytes_total');
      const settled = read === last && read > 2 * size;
      last = read;
      return settled;
    },
    'reading to stop',
    10_000,
    200,
  );
  assert.equal(pending.length, 1, 'one emit at a time');
  await waitFor(
    () => {
      for (const resolve of pending.splice(0)) resolve();
      return h.events.length === count * records;
    },
    'every record',
    20_000,
  );
  assert.deepEqual(
    h.events.filter((_, n) => n % records === 0).map((e) => e.record.f),
    frames.map((_, f) => f),
  );
  return { ahead: last - 2 * size, size };
}

test('while a chunk waits, a connection reads the next one ahead, whole or its first 1 MiB, then holds the client back', async (t) => {
  const READ = 64 * 1024; // a socket read
  // Small frames: exactly one more frame is read (and the rest of the read it ends in), not 1 MiB of frames.
  const small = await readAheadOf(t, 300, 30);
  assert.ok(small.ahead >= small.size && small.ahead <= small.size + 3 * READ, `read ${small.ahead} bytes ahead with ${small.size}-byte frames`);
  // Large frames: 1 MiB of the next one.
  const large = await readAheadOf(t, 1500, 8);
  assert.ok(large.ahead >= 1024 * 1024 - READ && large.ahead <= 1024 * 1024 + 3 * READ, `read ${large.ahead} bytes ahead with ${large.size}-byte frames`);
});

test('reading ahead stops at buffer_max_size: a frame over it is refused without being read whole', async (t) => {
  const pending: (() => void)[] = [];
  const h = await startServer(t, { threaded: true, buffer_max_size: 256 * 1024 }, (batch, collected) => {
    collected.push(...batch);
    return new Promise<void>((resolve) => pending.push(resolve));
  });
  const client = await RawClient.connect(t, h.port);
  const frame = (records: number): Buffer => {
    const entries: Buffer[] = [];
    for (let i = 0; i < records; i++) entries.push(entry(eventTime(SEC, i), { i, log: 'x'.repeat(1000) }));
    return cat(arr(2), str('max'), bin(cat(...entries)));
  };
  const good = frame(100);
  const huge = frame(4000); // 4 MB, over buffer_max_size
  void client.write(cat(good, good, huge)).catch(() => undefined);
  await waitFor(() => pending.length === 1, 'the first emit');
  let last = -1;
  await waitFor(
    async () => {
      const read = await h.metric('floki_input_bytes_total');
      const settled = read === last && read > 2 * good.length;
      last = read;
      return settled;
    },
    'reading to stop',
    10_000,
    200,
  );
  assert.ok(last - 2 * good.length <= 256 * 1024 + 3 * 64 * 1024, `read ${last - 2 * good.length} bytes of the oversized frame`);
  await waitFor(
    async () => {
      for (const resolve of pending.splice(0)) resolve();
      return (await h.metric('floki_input_malformed_frames_total')) === 1;
    },
    'the oversized frame to be refused',
  );
  assert.equal(h.events.length, 200, 'the good frames before it were delivered');
});

test('a chunk whose emit is rejected is not acked; the connection carries on', async (t) => {
  let calls = 0;
  const h = await startServer(t, {}, async (batch, collected) => {
    calls += 1;
    if (calls === 1) throw new Error('disk full');
    collected.push(...batch);
  });
  const client = await RawClient.connect(t, h.port);
  const chunk = (id: string): Buffer => cat(arr(4), str('r'), uint32(SEC), rec({ id }), rec({ chunk: id }));
  await client.write(cat(chunk('first'), chunk('second')));
  await waitFor(() => client.replies().length === 1, 'an ack');
  assert.deepEqual(client.replies(), [{ ack: 'second' }]);
  assert.deepEqual(
    h.events.map((e) => e.record.id),
    ['second'],
  );
  assert.equal(client.closed, false);
  assert.equal(await h.metric('floki_input_rejected_records_total'), 1);
});

test('an emit that throws (a filter that cannot take a record) is a refused chunk: not acked, nothing crashes', async (t) => {
  let calls = 0;
  const h = await startServer(t, {}, (batch, collected) => {
    calls += 1;
    if (calls === 1) throw new Error('a filter bug'); // synchronously, not a rejected promise
    collected.push(...batch);
    return Promise.resolve();
  });
  const client = await RawClient.connect(t, h.port);
  const chunk = (id: string): Buffer => cat(arr(4), str('r'), uint32(SEC), rec({ id }), rec({ chunk: id }));
  await client.write(cat(chunk('first'), chunk('second')));
  await waitFor(() => client.replies().length === 1, 'an ack');
  assert.deepEqual(client.replies(), [{ ack: 'second' }]);
  assert.deepEqual(h.events.map((e) => e.record.id), ['second']);
  assert.equal(client.closed, false);
  assert.equal(await h.metric('floki_input_rejected_records_total'), 1);
});

test('a packed record msgpackr would refuse (an array as a map key) closes the connection as before; one nested too deeply is skipped, counted, and the rest acked', async (t) => {
  const h = await startServer(t);
  const arrayKey = Buffer.from([0x81, 0x91, 0x01, 0x02]); // {[1]: 2}
  const keyed = await RawClient.connect(t, h.port);
  await keyed.write(cat(arr(2), str('bad'), bin(cat(entry(eventTime(SEC, 1), { fine: true }), cat(arr(2), eventTime(SEC, 2), arrayKey)))));
  await waitFor(() => keyed.closed, 'the connection closed');
  assert.equal(await h.metric('floki_input_malformed_frames_total'), 1);
  assert.equal(h.events.length, 0, 'a refused frame delivers none of its entries');

  // 20,000 levels used to overflow msgpackr's stack and close the connection; now only the record is refused.
  const deep = Buffer.from([0x81, 0xa1, 0x61, ...Array(20000).fill(0x91), 0x01]); // {a: [[[…1…]]]}
  const client = await RawClient.connect(t, h.port);
  const packed = cat(entry(eventTime(SEC, 1), { fine: true }), cat(arr(2), eventTime(SEC, 2), deep), entry(eventTime(SEC, 3), { after: true }));
  await client.write(cat(arr(3), str('deep'), bin(packed), rec({ size: 3, chunk: 'd1' })));
  assert.deepEqual(await client.waitReplies(1), [{ ack: 'd1' }]);
  assert.deepEqual(h.events.map((e) => e.record), [{ fine: true }, { after: true }]);
  assert.equal(await h.metric('floki_input_skipped_records_total', { reason: 'too_deep' }), 1);
  assert.equal(await h.metric('floki_input_malformed_frames_total'), 1, 'no new malformed frame');
  assert.equal(client.closed, false);
});

for (const threaded of [true, false]) {
  test(`malformed data after good frames (threaded ${threaded}): the good ones are emitted and acked first, then the connection closes`, async (t) => {
    const h = await startServer(t, { threaded }, async (batch, collected) => {
      await new Promise((resolve) => setTimeout(resolve, 100)); // a slow pipeline: frames queue up meanwhile
      collected.push(...batch);
    });
    const client = await RawClient.connect(t, h.port);
    const chunk = (id: string): Buffer => cat(arr(4), str('r'), uint32(SEC), rec({ id }), rec({ chunk: id }));
    await client.write(cat(chunk('A'), chunk('B'), arr(1), str('bad')));
    await waitFor(() => client.closed, 'the connection closed');
    assert.deepEqual(h.events.map((e) => e.record.id), ['A', 'B']);
    assert.deepEqual(client.replies(), [{ ack: 'A' }, { ack: 'B' }]);
    assert.equal(await h.metric('floki_input_malformed_frames_total'), 1);
  });
}

for (const threaded of [true, false]) {
  test(`frames received whole before the client resets the connection are still delivered (threaded ${threaded}); a cut one is counted`, async (t) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = await startServer(t, { threaded }, async (batch, collected) => {
      await gate;
      collected.push(...batch);
    });
    const client = await RawClient.connect(t, h.port);
    const chunk = (id: string): Buffer => cat(arr(3), str('r'), uint32(SEC), rec({ id }));
    const cut = chunk('D').subarray(0, 5);
    const bytes = cat(chunk('A'), chunk('B'), chunk('C'), cut);
    await client.write(bytes);
    // A is in the pipeline, B and C wait behind it (or in the read-ahead) when the client goes away.
    await waitFor(async () => (await h.metric('floki_input_bytes_total')) === bytes.length, 'every byte read');
    client.socket.resetAndDestroy();
    await waitFor(async () => (await h.metric('floki_input_connections_active')) === 0, 'the reset seen');
    release();
    await waitFor(() => h.events.length === 3, 'all three frames delivered');
    assert.deepEqual(h.events.map((e) => e.record.id), ['A', 'B', 'C']);
    assert.equal(await h.metric('floki_input_malformed_frames_total'), 1, 'the frame cut short');
  });
}

test('a client that sends good frames then garbage and resets at once: the good frames arrive, the garbage is counted', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const h = await startServer(t, {}, async (batch, collected) => {
    await gate;
    collected.push(...batch);
  });
  const client = await RawClient.connect(t, h.port);
  const chunk = (id: string): Buffer => cat(arr(3), str('r'), uint32(SEC), rec({ id }));
  const bytes = cat(chunk('A'), chunk('B'), arr(1), str('bad'));
  await client.write(bytes);
  // A in the pipeline, B queued, the error held back.
  await waitFor(async () => (await h.metric('floki_input_bytes_total')) === bytes.length, 'every byte read');
  client.socket.resetAndDestroy();
  await waitFor(async () => (await h.metric('floki_input_connections_active')) === 0, 'the reset seen');
  release();
  await waitFor(() => h.events.length === 2, 'both good frames delivered');
  assert.deepEqual(h.events.map((e) => e.record.id), ['A', 'B']);
  assert.equal(await h.metric('floki_input_malformed_frames_total'), 1);
});

test('a garbage connection is closed and counted; a good connection still delivers', async (t) => {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const h = await startServer(t, {}, undefined, log);
  const good = await RawClient.connect(t, h.port);
  const bad = await RawClient.connect(t, h.port);
  await good.write(cat(arr(3), str('good'), uint32(SEC), rec({ n: 1 })));
  await bad.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await waitFor(() => bad.closed, 'the garbage connection to be closed');
  await good.write(cat(arr(3), str('good'), uint32(SEC), rec({ n: 2 })));
  await waitFor(() => h.events.length === 2, 'both good events');
  assert.deepEqual(
    h.events.map((e) => e.record.n),
    [1, 2],
  );
  assert.equal(good.closed, false);
  assert.equal(await h.metric('floki_input_malformed_frames_total'), 1);
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!) as { remote: string; reason: string; msg: string };
  assert.match(line.remote, /^127\.0\.0\.1:\d+$/);
  assert.match(line.reason, /must be an array/);
});

test('pause stops reading without closing connections; resume delivers', async (t) => {
  const h = await startServer(t);
  const first = await RawClient.connect(t, h.port);
  h.server.pause();
  await first.write(cat(arr(3), str('bp'), uint32(SEC), rec({ n: 1 })));
  // Connections are still accepted while paused, and start paused.
  const second = await RawClient.connect(t, h.port);
  await waitFor(async () => (await h.metric('floki_input_connections_total')) === 2, 'the second connection');
  await second.write(cat(arr(3), str('bp'), uint32(SEC), rec({ n: 2 })));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.events.length, 0);
  assert.equal(await h.metric('floki_input_bytes_total'), 0);
  h.server.resume();
  await waitFor(() => h.events.length === 2, 'both events after resume');
  assert.equal(first.closed || second.closed, false);
  assert.equal(await h.metric('floki_input_connections_active'), 2);
});

test('a client that half-closes after its chunk still gets the ack', async (t) => {
  const h = await startServer(t);
  const client = await RawClient.connect(t, h.port);
  client.socket.end(cat(arr(4), str('hc'), uint32(SEC), rec({ a: 1 }), rec({ chunk: 'last' })));
  await waitFor(() => client.closed, 'the server to close its side');
  assert.deepEqual(client.replies(), [{ ack: 'last' }]);
  assert.equal(h.events.length, 1);
});

test('stop closes the listener and every connection', async (t) => {
  const h = await startServer(t);
  const client = await RawClient.connect(t, h.port);
  await waitFor(async () => (await h.metric('floki_input_connections_active')) === 1, 'the connection');
  await h.server.stop();
  await waitFor(() => client.closed, 'the client to see the close');
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: h.port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    }),
  );
});

test('start fails with a clear error when the port is taken', async (t) => {
  const h = await startServer(t);
  const ctx: InputContext = {
    name: 'forward.taken',
    log: pino({ level: 'silent' }),
    metrics: new Metrics(),
    service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(),
    paused: false,
    emit: async () => {},
  };
  const input = forwardInput.create({ listen: '127.0.0.1', port: h.port }, ctx);
  t.after(() => input.stop());
  await assert.rejects(input.start(), /forward input forward\.taken: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
});

// fluent-logger (the Node.js client) v3: Message, PackedForward and CompressedPackedForward modes.
type Sender = ReturnType<typeof fluentLogger.createFluentSender<Record<string, unknown>>>;
// Its typings declare EventTime as an instance rather than the class it is.
const EventTime = fluentLogger.EventTime as unknown as new (epoch: number, nano: number) => object;
const quiet = { info: () => {}, error: () => {} };

function sender(t: TestContext, port: number, options: Record<string, unknown>): Sender {
  const s = fluentLogger.createFluentSender<Record<string, unknown>>('fl', {
    host: '127.0.0.1',
    port,
    requireAckResponse: true,
    ackResponseTimeout: 10_000,
    flushInterval: 5,
    internalLogger: quiet,
    ...options,
  });
  t.after(() => new Promise<void>((resolve) => s.end(null as unknown as string, null as unknown as Record<string, unknown>, () => resolve())));
  return s;
}

function emitWithAck(s: Sender, label: string, record: Record<string, unknown>, time?: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => (err ? reject(err) : resolve());
    if (time === undefined) s.emit(label, record, done);
    else s.emit(label, record, time as number, done);
  });
}

for (const eventMode of ['Message', 'PackedForward', 'CompressedPackedForward']) {
  test(`fluent-logger ${eventMode} mode with requireAckResponse and EventTime`, async (t) => {
    const h = await startServer(t);
    const s = sender(t, h.port, { eventMode });
    const time = new EventTime(SEC, 987654321);
    // Callbacks run once the ack arrived (the sender checks it matches the chunk id).
    await emitWithAck(s, 'exact', { log: 'with EventTime', n: 1 }, time);
    const before = BigInt(Math.floor(Date.now() / 1000));
    await emitWithAck(s, 'seconds', { log: 'integer seconds', n: 2 });
    const after = BigInt(Math.ceil(Date.now() / 1000));
    await waitFor(() => h.events.length === 2, 'two events');
    assert.deepEqual(plainEvent(h.events[0]!), { tag: 'fl.exact', time: NS(SEC, 987654321), record: { log: 'with EventTime', n: 1 } });
    assert.equal(h.events[1]!.tag, 'fl.seconds');
    assert.deepEqual(h.events[1]!.record, { log: 'integer seconds', n: 2 });
    const t1 = h.events[1]!.time;
    assert.equal(t1 % 1_000_000_000n, 0n);
    assert.ok(t1 >= before * 1_000_000_000n && t1 <= after * 1_000_000_000n);
    assert.equal(await h.metric('floki_input_acks_total'), 2);
    assert.equal(await h.metric('floki_input_malformed_frames_total'), 0);
  });
}

test('fluent-logger PackedForward batches several records into one acked chunk', async (t) => {
  const h = await startServer(t);
  const s = sender(t, h.port, { eventMode: 'PackedForward', flushInterval: 50 });
  await Promise.all(
    [0, 1, 2, 3, 4].map((i) => emitWithAck(s, 'batch', { i }, new EventTime(SEC + i, i))),
  );
  await waitFor(() => h.events.length === 5, 'five events');
  assert.deepEqual(
    h.events.map((e) => [e.tag, e.time, e.record.i]),
    [0, 1, 2, 3, 4].map((i) => ['fl.batch', NS(SEC + i, i), i]),
  );
});

test('threaded: records are printed ahead only while the pipeline reads their JSON (a forward output passing bytes on does not)', async (t) => {
  let reading = false;
  const h = await startServer(t, { threaded: true }, (batch, collected) => {
    if (reading) for (const e of batch) void e.msgpack?.json;
    collected.push(...batch);
    return Promise.resolve();
  });
  const client = await RawClient.connect(t, h.port);
  const frame = (f: number): Buffer => cat(arr(2), str('json'), bin(cat(...Array.from({ length: 50 }, (_, i) => entry(eventTime(SEC, i), { f, i, log: 'x'.repeat(100) })))));
  let sent = 0;
  const send = async (frames: number): Promise<void> => {
    for (let i = 0; i < frames; i++) {
      await client.write(frame(sent++));
      await waitFor(() => h.events.length === sent * 50, `frame ${sent} emitted`);
    }
  };
  const printed = (): Promise<number> => h.metric('floki_input_thread_printed_records_total');
  // Nobody reads the JSON (a node agent): the thread is never started.
  await send(12);
  assert.equal(await printed(), 0, 'nothing printed before a chunk was read');
  assert.equal((h.server as unknown as { transcoder: { threadRunning: boolean } }).transcoder.threadRunning, false, 'no thread started');
  // The first chunk read is printed on the main thread; the ones after it on the thread.
  reading = true;
  await send(4);
  const first = await printed();
  assert.ok(first >= 3 * 50 && first <= 4 * 50, `printed ahead once read (${first} records)`);
  reading = false;
  await send(12);
  const stopped = await printed();
  assert.ok(stopped - first >= 8 * 50 && stopped - first <= 10 * 50, `printed ahead until 8 chunks went unread (${stopped - first} records)`);
  await send(6);
  assert.equal(await printed(), stopped, 'nothing printed while nobody reads it');
  reading = true;
  await send(6);
  assert.ok((await printed()) >= stopped + 4 * 50, 'printing again once read');
  assert.equal(new Set(h.events.map((e) => e.record.log)).size, 1);
});

test('threaded: the next frame goes to the print thread while the one before is still being emitted', async (t) => {
  const printed = (): Promise<number> => h.metric('floki_input_thread_printed_records_total');
  let hold: ((batch: readonly unknown[]) => Promise<void>) | undefined;
  const h = await startServer(t, { threaded: true }, (batch, collected) => {
    for (const e of batch) void e.msgpack?.json;
    collected.push(...batch);
    return hold ? hold(batch) : Promise.resolve();
  });
  const client = await RawClient.connect(t, h.port);
  const frame = (f: number): Buffer => cat(arr(2), str('overlap'), bin(cat(...Array.from({ length: 50 }, (_, i) => entry(eventTime(SEC, i), { f, i, log: 'y'.repeat(100) })))));
  // Warm up: the JSON is read, so frames after the first are printed on the thread.
  for (let f = 0; f < 3; f++) {
    await client.write(frame(f));
    await waitFor(() => h.events.length === (f + 1) * 50, `frame ${f} emitted`);
  }
  const before = await printed();
  assert.ok(before >= 50, `the thread printed (${before} records)`);
  // Two frames in one write: the first one's emit waits until the thread has printed the second
  // (or 3 s pass). Decoded only after that emit, the second would not be printed meanwhile.
  let overlapped = false;
  hold = (batch) => {
    hold = undefined;
    assert.equal((batch[0] as { record: { f: number } }).record.f, 3);
    return waitFor(async () => (await printed()) >= before + 100, 'the next frame printed during the emit', 3000).then(
      () => void (overlapped = true),
      () => undefined,
    );
  };
  await client.write(Buffer.concat([frame(3), frame(4)]));
  await waitFor(() => h.events.length === 5 * 50, 'both frames emitted');
  assert.ok(overlapped, 'the second frame was printed while the first was being emitted');
  assert.deepEqual(
    h.events.slice(150).map((e) => e.record.f),
    [...Array(50).fill(3), ...Array(50).fill(4)],
    'in order',
  );
});
