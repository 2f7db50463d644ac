/**
 * The frames the forward output writes, against the frames Fluent Bit 5.1.1's out_forward wrote for
 * the same record, time and keys (test/fixtures/forward-output/, see its README). Where Fluent Bit's
 * msgpack headers are the shortest form the bytes must be identical; where it writes map32/array32
 * headers (its option map, transcoded entries) the decoded frames must be equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { unpack } from 'msgpackr';
import { EventTime } from '../../src/forward/event-time.js';
import { packValue } from '../../src/forward/record-packer.js';
import { registerForwardExtensions } from '../../src/forward/msgpack-extensions.js';
import { FrameBatcher, type Frame, type FrameFormat } from '../../src/outputs/forward/frame-batcher.js';
import { TagTemplate } from '../../src/outputs/forward/tag-template.js';

registerForwardExtensions();

interface Fixture {
  keys: string;
  hex: string;
}
const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/forward-output/fluent-bit-5.1.1-frames.json', import.meta.url), 'utf8')) as { frames: Record<string, Fixture> }).frames;
const RECORD = { msg: 'hello', n: 1, k: { ns: 'prod' } };

const FORWARD: FrameFormat = { messages: false, timeAsInteger: false, retainMetadata: true, compress: false, sendOptions: false, requireAck: false, extraOptions: [] };

/** Fluent Bit's frame, decoded, and the event time it carries, in ns. */
function fluentBit(name: string): { bytes: Buffer; frame: unknown[]; ns: bigint } {
  const bytes = Buffer.from(fixtures[name]!.hex, 'hex');
  const frame = unpack(bytes) as unknown[];
  let entry: unknown;
  if (typeof frame[1] === 'object' && Array.isArray(frame[1])) entry = (frame[1] as unknown[][])[0]![0];
  else if (Buffer.isBuffer(frame[1])) entry = (unpack(gunzipSync(frame[1])) as unknown[])[0];
  else entry = frame[1];
  const time = Array.isArray(entry) ? entry[0] : entry;
  const ns = time instanceof EventTime ? BigInt(time.seconds) * 1_000_000_000n + BigInt(time.nanoseconds) : BigInt(time as number) * 1_000_000_000n;
  return { bytes, frame, ns };
}

async function floki(format: Partial<FrameFormat>, tag: string, ns: bigint): Promise<Frame> {
  let closed: Promise<Frame> | undefined;
  const batcher = new FrameBatcher({ format: { ...FORWARD, ...format }, batchSizeBytes: 1 << 20, flushMs: 60_000, onClose: (f) => (closed = f) });
  const record = packValue(RECORD);
  batcher.add(tag, ns, record, 0, record.length, undefined, undefined);
  batcher.close();
  assert.ok(closed, 'the frame was closed');
  return closed;
}

test('Forward mode with v1.5 metadata, the default: the same bytes as Fluent Bit', async () => {
  const fb = fluentBit('default');
  const frame = await floki({}, 'app.one', fb.ns);
  assert.equal(frame.bytes.toString('hex'), fb.bytes.toString('hex'));
  assert.deepEqual(frame.chunks, []);
});

test('time_as_integer: integer seconds, no metadata, the same bytes as Fluent Bit', async () => {
  const fb = fluentBit('int');
  const frame = await floki({ timeAsInteger: true }, 'app.one', fb.ns);
  assert.equal(frame.bytes.toString('hex'), fb.bytes.toString('hex'));
});

test('a static tag template ($TAG) keeps Forward mode, the same bytes as Fluent Bit', async () => {
  const fb = fluentBit('statictag');
  const template = TagTemplate.compile('new.$TAG');
  assert.equal(template.static, true);
  const frame = await floki({}, template.render('app.one', undefined), fb.ns);
  assert.equal(frame.bytes.toString('hex'), fb.bytes.toString('hex'));
});

test('retain_metadata_in_forward_mode off: [time, record] entries, as Fluent Bit', async () => {
  const fb = fluentBit('nometa');
  const frame = await floki({ retainMetadata: false }, 'app.one', fb.ns);
  assert.deepEqual(unpack(frame.bytes), fb.frame);
});

test('send_options and add_option: the option map Fluent Bit sends, in its order', async () => {
  for (const [name, format] of [
    ['opts', { sendOptions: true }],
    ['addopt', { sendOptions: true, extraOptions: [['foo', 'bar'], ['x', 'z']] as const }],
  ] as const) {
    const fb = fluentBit(name);
    const frame = await floki(format, 'app.one', fb.ns);
    const ours = unpack(frame.bytes) as unknown[];
    assert.deepEqual(ours, fb.frame, name);
    assert.deepEqual(Object.keys(ours[2] as object), Object.keys(fb.frame[2] as object), `${name}: key order`);
  }
});

test('require_ack_response: the frame Fluent Bit sends, with a chunk id of its own (16 bytes, Base64)', async () => {
  const fb = fluentBit('ack');
  const frame = await floki({ sendOptions: true, requireAck: true }, 'app.one', fb.ns);
  const ours = unpack(frame.bytes) as [string, unknown, { chunk: string }];
  const theirs = fb.frame as [string, unknown, { chunk: string }];
  // Fluent Bit hashes the entries (SHA-512); floki numbers its chunks (frame-options.ts newChunkId).
  assert.equal(theirs[2].chunk, 'qCuJCLV7IqELsulkDe7KKQ==');
  assert.match(ours[2].chunk, /^[A-Za-z0-9+/]{22}==$/);
  assert.deepEqual(frame.chunks, [ours[2].chunk]);
  assert.deepEqual(ours, [theirs[0], theirs[1], { ...theirs[2], chunk: ours[2].chunk }]);
  assert.deepEqual(Object.keys(ours[2]), Object.keys(theirs[2]));
  const again = await floki({ sendOptions: true, requireAck: true }, 'app.one', fb.ns);
  assert.notEqual(again.chunks[0], ours[2].chunk, 'each frame has its own id');
});

test('compress gzip: CompressedPackedForward, the same entries once gunzipped, the same options', async () => {
  const fb = fluentBit('gzip');
  const frame = await floki({ sendOptions: true, compress: true }, 'app.one', fb.ns);
  const ours = unpack(frame.bytes) as [string, Buffer, Record<string, unknown>];
  const theirs = fb.frame as [string, Buffer, Record<string, unknown>];
  assert.equal(ours[0], theirs[0]);
  assert.ok(Buffer.isBuffer(ours[1]), 'entries are a bin');
  assert.equal(gunzipSync(ours[1]).toString('hex'), gunzipSync(theirs[1]).toString('hex'));
  assert.deepEqual(ours[2], theirs[2]);
  assert.deepEqual(Object.keys(ours[2]), ['size', 'compressed', 'fluent_signal']);
});

test('a tag that reads the record: Message mode, each event with its own tag and chunk, as Fluent Bit', async () => {
  const fb = fluentBit('msg');
  const template = TagTemplate.compile("$k['ns'].$TAG[1]");
  assert.equal(template.static, false);
  const frame = await floki({ messages: true, requireAck: true }, template.render('app.one', RECORD), fb.ns);
  const ours = unpack(frame.bytes) as unknown[];
  const theirs = fb.frame;
  assert.equal(ours.length, 4);
  assert.deepEqual(ours.slice(0, 3), theirs.slice(0, 3));
  // Fluent Bit hashes its internal record (with its metadata wrapper); floki numbers its chunks:
  // both are 16-byte Base64 ids.
  const [o, t] = [ours[3], theirs[3]] as { chunk: string; fluent_signal: number }[];
  assert.deepEqual(Object.keys(o!), Object.keys(t!));
  assert.match(o!.chunk, /^[A-Za-z0-9+/]{22}==$/);
  assert.equal(o!.fluent_signal, 0);
  assert.deepEqual(frame.chunks, [o!.chunk]);
});

test('a frame closes at batch_size, and every closed frame holds whole entries', async () => {
  const frames: Promise<Frame>[] = [];
  const batcher = new FrameBatcher({ format: FORWARD, batchSizeBytes: 200, flushMs: 60_000, onClose: (f) => void frames.push(f) });
  const record = packValue(RECORD);
  for (let i = 0; i < 20; i++) batcher.add('t', BigInt(i), record, 0, record.length, undefined, undefined);
  batcher.close();
  const decoded = (await Promise.all(frames)).map((f) => unpack(f.bytes) as [string, unknown[]]);
  assert.ok(decoded.length > 1, 'more than one frame');
  assert.equal(decoded.reduce((n, [, entries]) => n + entries.length, 0), 20);
  for (const f of await Promise.all(frames)) assert.ok(f.bytes.length < 200 + 60, 'a frame stops growing once over batch_size');
});

test('one frame per tag; entry metadata rides in [[time, metadata], record]', async () => {
  const frames: Promise<Frame>[] = [];
  const batcher = new FrameBatcher({ format: FORWARD, batchSizeBytes: 1 << 20, flushMs: 60_000, onClose: (f) => void frames.push(f) });
  const record = packValue({ a: 1 });
  const metadata = Buffer.from(packValue({ otel: { id: 7 } }));
  batcher.add('x', 1_000_000_001n, record, 0, record.length, metadata, undefined);
  batcher.add('y', 2_000_000_002n, record, 0, record.length, undefined, undefined);
  batcher.add('x', 3_000_000_003n, record, 0, record.length, undefined, undefined);
  batcher.close();
  const decoded = (await Promise.all(frames)).map((f) => unpack(f.bytes) as [string, unknown[]]);
  assert.deepEqual(
    decoded.map(([tag, entries]) => [tag, entries.length]),
    [
      ['x', 2],
      ['y', 1],
    ],
  );
  assert.deepEqual(decoded[0]![1][0], [[new EventTime(1, 1), { otel: { id: 7 } }], { a: 1 }]);
  assert.deepEqual(decoded[0]![1][1], [[new EventTime(3, 3), {}], { a: 1 }]);
});

test('a large Forward frame is sent from the buffer it was built in (its header written in front of the entries), which is reused only once the frame is released', async () => {
  const frames: Promise<Frame>[] = [];
  const batcher = new FrameBatcher({ format: { ...FORWARD, sendOptions: true, requireAck: true }, batchSizeBytes: 200 * 1024, flushMs: 60_000, onClose: (f) => frames.push(f) });
  const record = packValue({ ...RECORD, filler: 'y'.repeat(1000) });
  const fill = (tag: string, n: number): void => {
    for (let i = 0; i < n; i++) batcher.add(tag, 1_796_000_000_000_000_000n + BigInt(i), record, 0, record.length, undefined, undefined);
    batcher.close();
  };
  fill('app.pooled', 150);
  const first = await frames[0]!;
  const [tag, entries, options] = unpack(first.bytes) as [string, unknown[], { chunk: string; size: number }];
  assert.equal(tag, 'app.pooled');
  assert.equal(entries.length, 150);
  assert.deepEqual(entries[149], [[new EventTime(1_796_000_000, 149), {}], { ...RECORD, filler: 'y'.repeat(1000) }]);
  assert.deepEqual([options.chunk, options.size], [first.chunks[0], 150]);
  // The shortest headers, as Fluent Bit writes them: fixarray 3, fixstr tag, array16 of 150.
  assert.equal(first.bytes.subarray(0, 1 + 1 + 10 + 3).toString('hex'), '93' + 'aa' + Buffer.from('app.pooled').toString('hex') + 'dc0096');
  const kept = Buffer.from(first.bytes);

  // Built while the first is still in flight: another buffer; the first's bytes untouched.
  fill('app.other', 150);
  const second = await frames[1]!;
  assert.notEqual(second.bytes.buffer, first.bytes.buffer);
  assert.ok(first.bytes.equals(kept));
  // Released: the next frame is built in its buffer.
  first.release!();
  fill('app.third', 150);
  const third = await frames[2]!;
  assert.equal(third.bytes.buffer, first.bytes.buffer);
  assert.equal((unpack(third.bytes) as unknown[])[0], 'app.third');
});

test("an entry's time given as the EventTime's parts as it arrived makes the same frame as the time in ns, in every mode", async () => {
  const ns = 1_796_193_609_123_456_789n;
  const modes: Partial<FrameFormat>[] = [{}, { retainMetadata: false }, { timeAsInteger: true }, { messages: true }, { messages: true, timeAsInteger: true }];
  for (const format of modes) {
    const frames: string[] = [];
    for (const parts of [false, true]) {
      let closed: Promise<Frame> | undefined;
      const batcher = new FrameBatcher({ format: { ...FORWARD, ...format }, batchSizeBytes: 1 << 20, flushMs: 60_000, onClose: (f) => (closed = f) });
      const record = packValue(RECORD);
      if (parts) batcher.add('app.one', 0n, record, 0, record.length, undefined, undefined, 1_796_193_609, 123_456_789);
      else batcher.add('app.one', ns, record, 0, record.length, undefined, undefined);
      batcher.close();
      frames.push((await closed!).bytes.toString('hex'));
    }
    assert.equal(frames[1], frames[0], JSON.stringify(format));
  }
});
