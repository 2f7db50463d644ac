/**
 * A Forward frame is walked once: the scanner that finds its end checks its entries plain as it goes
 * and keeps where each ends, across any number of reads. These tests split frames at every byte and
 * check that the events, the refusals, the errors and the buffer_max_size checks are those of the
 * frame decoded in one read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arr, cat, entry, ext8Time, fixext8Time, float64, map, NIL, NS, rec, str, uint32 } from '../helpers/msgpack-wire.js';
import { MAX_RECORD_NESTING } from '../../src/core/limits.js';
import { ForwardFrameDecoder, type ForwardFrame } from '../../src/inputs/forward/decoder.js';
import { ForwardProtocolError } from '../../src/forward/protocol-error.js';
import { MsgpackEvent } from '../../src/inputs/forward/msgpack-event.js';
import { plainEvent } from '../helpers/plain-event.js';

const SEC = 1764064800;

function decoder(options: Partial<ConstructorParameters<typeof ForwardFrameDecoder>[0]> = {}): ForwardFrameDecoder {
  return new ForwardFrameDecoder({ bufferMaxSize: 6144000, bufferChunkSize: 64, ...options });
}

/** Pushes each piece and reads every frame it completes. */
function decodePieces(pieces: Buffer[], d = decoder()): ForwardFrame[] {
  const frames: ForwardFrame[] = [];
  for (const piece of pieces) {
    d.push(piece);
    for (let f = d.next(); f; f = d.next()) frames.push(f);
  }
  assert.equal(d.pendingBytes, 0);
  return frames;
}

/** Time 0 is "now": taken when decoded, so compared as that. */
const LATER = NS(SEC + 365 * 86400);

function summary(frames: ForwardFrame[]): unknown[] {
  return frames.map((f) => [
    f.tag,
    f.mode,
    f.bytes,
    f.option,
    f.skipped,
    f.tooDeep,
    f.outOfRange,
    f.events.map((e) => ({ ...plainEvent(e), time: e.time > LATER ? 'now' : e.time })),
  ]);
}

/** Whether every event kept its record as msgpack bytes: the frame took the plain path. */
function lazy(frames: ForwardFrame[]): boolean[] {
  return frames.map((f) => f.events.every((e) => e instanceof MsgpackEvent && e.msgpack !== undefined));
}

/** The splits of `stream` in two at every byte, and in three at every pair of bytes `step` apart. */
function* splits(stream: Buffer): Generator<Buffer[]> {
  for (let cut = 1; cut < stream.length; cut++) yield [stream.subarray(0, cut), stream.subarray(cut)];
  for (let a = 1; a < stream.length; a += 3) {
    for (let b = a + 1; b < stream.length; b += 5) yield [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
  }
}

const deepMap = (levels: number): Buffer => {
  const parts: number[] = [];
  for (let i = 1; i < levels; i++) parts.push(0x81, 0xa1, 0x61);
  parts.push(0x80);
  return Buffer.from(parts);
};

/** Forward frames of plain entries, every time encoding and v1.5 empty metadata, with heartbeats. */
function plainStream(): Buffer {
  const v15 = (n: number): Buffer => cat(arr(2), arr(2), fixext8Time(SEC, n), map(0), rec({ n, log: `v15 ${n}` }));
  return cat(
    cat(arr(3), str('fwd'), arr(4), v15(1), entry(ext8Time(SEC, 2), { n: 2 }), entry(uint32(SEC + 3), { n: 3, s: 'x'.repeat(40) }), entry(Buffer.from([0x05]), { n: 4 }), rec({ size: 4, chunk: 'c1' })),
    NIL,
    cat(arr(2), str('two'), arr(1), entry(fixext8Time(SEC, 5), { n: 5, nested: { a: [1, 2, { b: 'c' }] } })),
    cat(arr(3), str('t'.repeat(40)), Buffer.from([0xdc, 0x00, 0x02]), v15(6), v15(7), rec({ chunk: 'c2' })),
    NIL,
  );
}

test('plain Forward frames split at every byte give the same events, kept as msgpack bytes', () => {
  const stream = plainStream();
  const whole = decodePieces([stream]);
  assert.deepEqual(lazy(whole), [true, true, true]);
  assert.deepEqual(
    whole.flatMap((f) => f.events.map((e) => [e.tag, e.time, e.record.n])),
    [
      ['fwd', NS(SEC, 1), 1],
      ['fwd', NS(SEC, 2), 2],
      ['fwd', NS(SEC + 3), 3],
      ['fwd', NS(5), 4],
      ['two', NS(SEC, 5), 5],
      ['t'.repeat(40), NS(SEC, 6), 6],
      ['t'.repeat(40), NS(SEC, 7), 7],
    ],
  );
  const expected = summary(decodePieces([stream]));
  for (const pieces of splits(stream)) {
    const frames = decodePieces(pieces);
    assert.deepEqual(lazy(frames), [true, true, true], `split at ${pieces.map((p) => p.length)}`);
    assert.deepEqual(summary(frames), expected, `split at ${pieces.map((p) => p.length)}`);
  }
  const bytes = [...stream].map((b) => Buffer.from([b]));
  const frames = decodePieces(bytes, decoder({ bufferChunkSize: 1 }));
  assert.deepEqual(lazy(frames), [true, true, true]);
  assert.deepEqual(summary(frames), expected);
});

test('holdsFrame says when a plain Forward frame is all in, whatever the reads', () => {
  const frame = cat(arr(3), str('fwd'), arr(2), entry(fixext8Time(SEC, 1), { n: 1 }), entry(fixext8Time(SEC, 2), { n: 2 }), rec({ chunk: 'c' }));
  for (let cut = 1; cut < frame.length; cut++) {
    const d = decoder();
    d.push(frame.subarray(0, cut));
    assert.equal(d.holdsFrame(), false, `cut at ${cut}`);
    assert.equal(d.next(), undefined);
    d.push(frame.subarray(cut));
    assert.equal(d.holdsFrame(), true, `cut at ${cut}`);
    assert.equal(d.next()!.events.length, 2);
    assert.equal(d.holdsFrame(), false);
  }
});

test('a Forward frame with an entry that is not plain, split at every byte, is decoded as in one read', () => {
  const notPlain: [string, Buffer][] = [
    ['a float time', entry(float64(SEC + 0.5), { n: 'x' })],
    ['v1.5 metadata', cat(arr(2), cat(arr(2), fixext8Time(SEC, 9), rec({ m: 1 })), rec({ n: 'x' }))],
    ['an EventTime in the record', cat(arr(2), uint32(SEC), map(1), str('t'), fixext8Time(SEC, 1))],
    ['time 0', entry(Buffer.from([0x00]), { n: 'x' })],
    ['an entry of three', cat(arr(3), uint32(SEC), rec({ n: 'x' }), NIL)],
    ['a record that is not a map', cat(arr(2), uint32(SEC), str('text'))],
    [`a record ${MAX_RECORD_NESTING + 1} levels deep`, cat(arr(2), uint32(SEC), deepMap(MAX_RECORD_NESTING + 1))],
  ];
  for (const [what, odd] of notPlain) {
    const frame = cat(arr(3), str('f'), arr(3), entry(fixext8Time(SEC, 1), { n: 1 }), odd, entry(fixext8Time(SEC, 3), { n: 3 }), rec({ size: 3 }));
    const stream = cat(frame, cat(arr(2), str('after'), arr(1), entry(uint32(SEC), { n: 4 })));
    const whole = decodePieces([stream]);
    assert.deepEqual(lazy(whole), [false, true], what);
    const expected = summary(whole);
    for (const pieces of splits(stream)) assert.deepEqual(summary(decodePieces(pieces)), expected, `${what}: split at ${pieces.map((p) => p.length)}`);
  }
});

test('a record nested too deeply inside a Forward frame is refused, the other entries kept, at every split', () => {
  const stream = cat(arr(2), str('deep'), arr(3), entry(uint32(SEC), { n: 1 }), cat(arr(2), uint32(SEC), deepMap(MAX_RECORD_NESTING + 1)), entry(uint32(SEC), { n: 3 }));
  const expected = decodePieces([stream]);
  assert.equal(expected[0]!.tooDeep, 1);
  assert.deepEqual(expected[0]!.events.map((e) => e.record.n), [1, 3]);
  for (const pieces of splits(stream)) assert.deepEqual(summary(decodePieces(pieces)), summary(expected));
  // A record of 100,000 levels, in 1 KiB reads: refused without overflowing the stack.
  const deep = cat(map(1), str('a'), Buffer.alloc(99_999, 0x91), Buffer.from([0x80]));
  const big = cat(arr(2), str('deep'), arr(2), cat(arr(2), uint32(SEC), deep), entry(uint32(SEC), { n: 2 }));
  const pieces: Buffer[] = [];
  for (let i = 0; i < big.length; i += 1024) pieces.push(big.subarray(i, i + 1024));
  const [f] = decodePieces(pieces);
  assert.equal(f!.tooDeep, 1);
  assert.deepEqual(f!.events.map((e) => e.record.n), [2]);
});

test('a bad byte inside a Forward frame entry is the same error at every split', () => {
  const bad = Buffer.from([0x92, 0xce, ...Buffer.from(uint32(SEC).subarray(1)), 0x81, 0xa1, 0x61, 0xc1]);
  const badExt = cat(arr(2), uint32(SEC), map(1), str('e'), Buffer.from([0xd4, 0x05, 0x00]));
  for (const odd of [bad, badExt]) {
    const stream = cat(arr(2), str('f'), arr(2), entry(uint32(SEC), { n: 1 }), odd);
    let message = '';
    assert.throws(() => decodePieces([stream]), (err: unknown) => err instanceof ForwardProtocolError && (message = err.message) !== '');
    for (let cut = 1; cut < stream.length; cut++) {
      assert.throws(() => decodePieces([stream.subarray(0, cut), stream.subarray(cut)]), (err: unknown) => err instanceof ForwardProtocolError && err.message === message);
    }
  }
});

test('an oversized Forward frame is refused as soon as its bytes held or announced say so', () => {
  // Entries arriving one read each: refused at the read that takes the frame past buffer_max_size.
  const d = decoder({ bufferMaxSize: 4096 });
  d.push(cat(arr(2), str('grow'), arr(100)));
  const one = entry(fixext8Time(SEC, 1), { log: 'z'.repeat(900) });
  let held = 0;
  for (;;) {
    d.push(one);
    held += one.length;
    if (held + 100 > 4096) break;
    assert.equal(d.holdsFrame(), false);
    assert.equal(d.next(), undefined);
  }
  assert.equal(d.holdsFrame(), true);
  assert.throws(() => d.next(), /frame of at least \d+ bytes is larger than buffer_max_size \(4096 bytes\)/);
  // An entry whose string announces more than buffer_max_size: refused on its header, the string unread.
  const e = decoder({ bufferMaxSize: 4096 });
  e.push(cat(arr(2), str('big'), arr(1), arr(2), uint32(SEC), map(1), str('log'), Buffer.from([0xda, 0x40, 0x00]), Buffer.from('zz')));
  assert.equal(e.holdsFrame(), true);
  assert.throws(() => e.next(), /frame of at least 16\d\d\d bytes is larger than buffer_max_size \(4096 bytes\)/);
  // An entry count that cannot fit.
  const f = decoder({ bufferMaxSize: 4096 });
  f.push(cat(arr(2), str('many'), Buffer.from([0xdc, 0x20, 0x00]), entry(uint32(SEC), { n: 1 })));
  assert.throws(() => f.next(), /buffer_max_size/);
});

test('a large record in many small reads costs linear time: the cut entry is not walked again per read', () => {
  const log = 'y'.repeat(4 * 1024 * 1024);
  const frame = cat(arr(2), str('huge'), arr(2), entry(fixext8Time(SEC, 1), { log }), entry(fixext8Time(SEC, 2), { n: 2 }));
  const d = decoder({ bufferMaxSize: 8 * 1024 * 1024, bufferChunkSize: 32 * 1024 });
  const started = process.hrtime.bigint();
  const frames: ForwardFrame[] = [];
  for (let i = 0; i < frame.length; i += 128) {
    d.push(frame.subarray(i, i + 128));
    for (let f = d.next(); f; f = d.next()) frames.push(f);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.deepEqual(lazy(frames), [true]);
  assert.equal(frames[0]!.events[0]!.record.log, log);
  // 32,768 reads: re-walking the record on each would walk 64 GiB.
  assert.ok(ms < 5000, `${ms} ms`);
});

test('a large Forward frame of plain entries in small reads gets a buffer sized from its entries, not doubled again and again', () => {
  const entries = Array.from({ length: 1000 }, (_, i) => entry(fixext8Time(SEC, i), { i, log: `line ${i} `.padEnd(900 + (i % 50), 'x') }));
  const frame = cat(arr(3), str('big'), Buffer.from([0xdc, 0x03, 0xe8]), ...entries, rec({ size: 1000 }));
  const d = decoder({ bufferMaxSize: 8 * 1024 * 1024, bufferChunkSize: 32 * 1024 });
  const sizes = new Set<number>();
  const frames: ForwardFrame[] = [];
  for (let i = 0; i < frame.length; i += 65536) {
    d.push(frame.subarray(i, i + 65536));
    sizes.add(d.heldBytes);
    for (let f = d.next(); f; f = d.next()) frames.push(f);
  }
  assert.deepEqual(lazy(frames), [true]);
  assert.equal(frames[0]!.events.length, 1000);
  // The first read is the socket's; the second is copied into a buffer that then holds the frame.
  assert.equal(sizes.size, 2, `buffer sizes ${[...sizes]}`);
  assert.ok(Math.max(...sizes) < frame.length * 1.15 + 65536, `buffer sizes ${[...sizes]} for a frame of ${frame.length}`);
});
