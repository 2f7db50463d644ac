import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { arr, be32, bin, cat, entry, ext8Time, fixext8Time, float64, map, NIL, NS, rawStr, rec, str, uint32 } from '../helpers/msgpack-wire.js';
import { nowNs, type LogEvent } from '../../src/core/event.js';
import { MsgpackEvent } from '../../src/inputs/forward/msgpack-event.js';
import { plainEvent } from '../helpers/plain-event.js';
import { ForwardFrameDecoder, type ForwardFrame } from '../../src/inputs/forward/decoder.js';
import { ForwardProtocolError } from '../../src/forward/protocol-error.js';

// Frames are written byte by byte here; msgpackr only packs plain records and option maps.
// 2025-11-25T10:00:00.000123456Z
const SEC = 1764064800;
const NSEC = 123456;
const EXACT = 1764064800000123456n;

function plain(events: LogEvent[]): LogEvent[] {
  return events.map(plainEvent);
}

function decoder(options: Partial<ConstructorParameters<typeof ForwardFrameDecoder>[0]> = {}): ForwardFrameDecoder {
  return new ForwardFrameDecoder({ bufferMaxSize: 6144000, bufferChunkSize: 1024, ...options });
}

function decodeAll(bytes: Buffer, d = decoder()): ForwardFrame[] {
  d.push(bytes);
  const frames: ForwardFrame[] = [];
  for (let f = d.next(); f; f = d.next()) frames.push(f);
  return frames;
}

function decodeOne(bytes: Buffer, d = decoder()): ForwardFrame {
  const frames = decodeAll(bytes, d);
  assert.equal(frames.length, 1);
  assert.equal(d.pendingBytes, 0);
  return frames[0]!;
}

function assertProtocolError(bytes: Buffer, pattern: RegExp, d = decoder()): void {
  assert.throws(() => decodeAll(bytes, d), (err: unknown) => {
    assert.ok(err instanceof ForwardProtocolError, `expected a ForwardProtocolError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('EventTime as fixext 8 keeps exact nanoseconds', () => {
  const f = decodeOne(cat(arr(3), str('app'), fixext8Time(SEC, NSEC), rec({ log: 'hi' })));
  assert.equal(f.mode, 'message');
  assert.deepEqual(plain(f.events), [{ tag: 'app', time: EXACT, record: { log: 'hi' } }]);
});

test('EventTime as ext 8 keeps exact nanoseconds', () => {
  const f = decodeOne(cat(arr(3), str('app'), ext8Time(SEC, NSEC), rec({ log: 'hi' })));
  assert.equal(f.events[0]!.time, EXACT);
});

test('EventTime with the top bit set in both words', () => {
  const f = decodeOne(cat(arr(3), str('app'), fixext8Time(0xfffffff0, 999_999_999), rec({})));
  assert.equal(f.events[0]!.time, 0xfffffff0n * 1_000_000_000n + 999_999_999n);
});

test('integer and float seconds', () => {
  const frames = decodeAll(
    cat(
      cat(arr(3), str('a'), uint32(SEC), rec({ n: 1 })),
      cat(arr(3), str('a'), Buffer.from([0x05]), rec({ n: 2 })), // positive fixint
      cat(arr(3), str('a'), float64(SEC + 0.5), rec({ n: 3 })),
    ),
  );
  assert.deepEqual(
    frames.map((f) => f.events[0]!.time),
    [BigInt(SEC) * 1_000_000_000n, 5_000_000_000n, BigInt(SEC) * 1_000_000_000n + 500_000_000n],
  );
});

test('time 0 and nil mean now, as in Fluentd', () => {
  const before = nowNs();
  const frames = decodeAll(cat(cat(arr(3), str('a'), Buffer.from([0x00]), rec({})), cat(arr(3), str('a'), NIL, rec({}))));
  const after = nowNs();
  for (const f of frames) {
    const t = f.events[0]!.time;
    assert.ok(t >= before && t <= after, `time ${t} not between ${before} and ${after}`);
  }
});

test('Message mode with option', () => {
  const f = decodeOne(cat(arr(4), str('app.x'), fixext8Time(SEC, NSEC), rec({ a: 1 }), rec({ chunk: 'abc' })));
  assert.equal(f.tag, 'app.x');
  assert.deepEqual(f.option, { chunk: 'abc' });
  assert.equal(f.skipped, 0);
  assert.equal(f.bytes, 1 + 6 + 10 + rec({ a: 1 }).length + rec({ chunk: 'abc' }).length);
});

test('Forward mode', () => {
  const entries = cat(arr(3), entry(fixext8Time(SEC, 1), { n: 1 }), entry(ext8Time(SEC, 2), { n: 2 }), entry(uint32(SEC + 1), { n: 3 }));
  const f = decodeOne(cat(arr(3), str('fw'), entries, rec({ size: 3, chunk: 'c1' })));
  assert.equal(f.mode, 'forward');
  assert.deepEqual(plain(f.events), [
    { tag: 'fw', time: EXACT - NSEC_N + 1n, record: { n: 1 } },
    { tag: 'fw', time: EXACT - NSEC_N + 2n, record: { n: 2 } },
    { tag: 'fw', time: EXACT - NSEC_N + 1_000_000_000n, record: { n: 3 } },
  ]);
  assert.deepEqual(f.option, { size: 3, chunk: 'c1' });
});
const NSEC_N = BigInt(NSEC);

test('Forward mode with no entries', () => {
  const f = decodeOne(cat(arr(2), str('fw'), arr(0)));
  assert.equal(f.mode, 'forward');
  assert.deepEqual(plain(f.events), []);
});

test('PackedForward with bin entries', () => {
  const packed = cat(entry(fixext8Time(SEC, NSEC), { log: 'one' }), entry(fixext8Time(SEC, NSEC + 1), { log: 'two' }));
  const f = decodeOne(cat(arr(3), str('pk'), bin(packed), rec({ size: 2 })));
  assert.equal(f.mode, 'packed');
  assert.deepEqual(plain(f.events), [
    { tag: 'pk', time: EXACT, record: { log: 'one' } },
    { tag: 'pk', time: EXACT + 1n, record: { log: 'two' } },
  ]);
});

test('PackedForward with str entries takes the raw bytes, not UTF-8 text', () => {
  // 0xff bytes in the EventTime are invalid UTF-8: decoding the str as text would corrupt them.
  const packed = cat(entry(fixext8Time(0xffffffff, 0xff), { log: 'one' }), entry(fixext8Time(SEC, NSEC), { log: 'two' }));
  const f = decodeOne(cat(arr(2), str('pk'), rawStr(packed)));
  assert.deepEqual(
    f.events.map((e) => e.time),
    [0xffffffffn * 1_000_000_000n + 0xffn, EXACT],
  );
  assert.deepEqual(f.events[1]!.record, { log: 'two' });
});

test('PackedForward: fluent-logger-node sends the byte length as size, and compressed "text"', () => {
  const packed = cat(entry(fixext8Time(SEC, NSEC), { log: 'one' }));
  const f = decodeOne(cat(arr(3), str('pk'), bin(packed), rec({ size: packed.length, compressed: 'text', chunk: 'x' })));
  assert.equal(f.events.length, 1);
});

test('CompressedPackedForward with two gzip members', () => {
  const first = cat(entry(fixext8Time(SEC, NSEC), { log: 'one' }), entry(fixext8Time(SEC, NSEC + 1), { log: 'two' }));
  const second = entry(fixext8Time(SEC, NSEC + 2), { log: 'three' });
  const gz = cat(gzipSync(first), gzipSync(second));
  const f = decodeOne(cat(arr(3), str('gz'), bin(gz), rec({ compressed: 'gzip', size: 3 })));
  assert.equal(f.mode, 'compressed');
  assert.deepEqual(
    f.events.map((e) => [e.time, e.record.log]),
    [
      [EXACT, 'one'],
      [EXACT + 1n, 'two'],
      [EXACT + 2n, 'three'],
    ],
  );
});

test('entry time [EventTime, metadata] is unwrapped and metadata kept', () => {
  const entries = cat(
    arr(3),
    cat(arr(2), cat(arr(2), fixext8Time(SEC, NSEC), rec({ otel: { trace_id: 'abc' } })), rec({ log: 'with meta' })),
    cat(arr(2), cat(arr(2), fixext8Time(SEC, NSEC), rec({})), rec({ log: 'empty meta' })),
    entry(fixext8Time(SEC, NSEC), { log: 'plain' }),
  );
  const f = decodeOne(cat(arr(2), str('meta'), entries));
  assert.deepEqual(plain(f.events), [
    { tag: 'meta', time: EXACT, record: { log: 'with meta' }, metadata: { otel: { trace_id: 'abc' } } },
    { tag: 'meta', time: EXACT, record: { log: 'empty meta' } },
    { tag: 'meta', time: EXACT, record: { log: 'plain' } },
  ]);
  // The same in PackedForward and in Message mode.
  const packed = cat(arr(2), cat(arr(2), fixext8Time(SEC, NSEC), rec({ k: 'v' })), rec({ log: 'p' }));
  assert.deepEqual(decodeOne(cat(arr(2), str('meta'), bin(packed))).events[0]!.metadata, { k: 'v' });
  const message = decodeOne(cat(arr(3), str('meta'), cat(arr(2), fixext8Time(SEC, NSEC), rec({ k: 'm' })), rec({ log: 'm' })));
  assert.equal(message.mode, 'message');
  assert.deepEqual(plain(message.events), [{ tag: 'meta', time: EXACT, record: { log: 'm' }, metadata: { k: 'm' } }]);
});

test('invalid entries are skipped and counted, as Fluentd skip_invalid_event; group markers are dropped silently', () => {
  const entries = cat(
    arr(7),
    entry(fixext8Time(SEC, NSEC), { log: 'good' }),
    cat(arr(2), fixext8Time(SEC, NSEC), str('not a map')),
    cat(arr(2), str('yesterday'), rec({ log: 'bad time' })),
    cat(arr(2), Buffer.from([0xfb]), rec({ log: 'negative time' })), // -5
    str('not an entry'),
    cat(arr(2), fixext8Time(SEC, 1_000_000_000), rec({ log: 'nanoseconds out of range' })),
    cat(arr(2), cat(arr(2), Buffer.from([0xff]), rec({})), rec({ resource: 'group start' })), // Fluent Bit GROUP_START (-1)
  );
  const f = decodeOne(cat(arr(2), str('t'), entries));
  assert.deepEqual(
    f.events.map((e) => e.record),
    [{ log: 'good' }],
  );
  assert.equal(f.skipped, 4);
  assert.equal(f.outOfRange, 1, 'a time before 1970 is out of range, counted apart');
  const message = decodeOne(cat(arr(3), str('t'), fixext8Time(SEC, NSEC), str('not a map')));
  assert.deepEqual(plain(message.events), []);
  assert.equal(message.skipped, 1);
});

test('tag and tag_prefix', () => {
  const frame = cat(arr(3), str('app'), uint32(SEC), rec({}));
  assert.equal(decodeOne(frame, decoder({ tagPrefix: 'fw.' })).events[0]!.tag, 'fw.app');
  const overridden = decodeOne(frame, decoder({ tag: 'fixed', tagPrefix: 'fw.' }));
  assert.equal(overridden.events[0]!.tag, 'fixed');
  assert.equal(overridden.tag, 'app');
});

test('nil heartbeats are ignored, between and around frames', () => {
  const frame = cat(arr(3), str('hb'), uint32(SEC), rec({ a: 1 }));
  const frames = decodeAll(cat(NIL, NIL, frame, NIL, frame, NIL));
  assert.equal(frames.length, 2);
  const d = decoder();
  assert.deepEqual(decodeAll(cat(NIL, NIL), d), []);
  assert.equal(d.pendingBytes, 0);
});

/** A stream of every mode, with heartbeats, to cut into pieces. */
function sampleStream(): Buffer {
  const packed = cat(entry(fixext8Time(SEC, 1), { log: 'p1' }), entry(fixext8Time(SEC, 2), { log: 'p2' }));
  return cat(
    cat(arr(4), str('m'), fixext8Time(SEC, NSEC), rec({ log: 'message', long: 'x'.repeat(300) }), rec({ chunk: 'c1' })),
    NIL,
    cat(arr(3), str('f'), cat(arr(2), entry(ext8Time(SEC, 3), { log: 'f1' }), entry(float64(SEC + 0.25), { log: 'f2' })), rec({ size: 2 })),
    cat(arr(3), str('p'), bin(packed), rec({ size: 2 })),
    cat(arr(3), str('s'), rawStr(packed), rec({ size: 2 })),
    cat(arr(3), str('z'), bin(cat(gzipSync(packed), gzipSync(packed))), rec({ compressed: 'gzip' })),
    NIL,
  );
}

function summary(frames: ForwardFrame[]): unknown[] {
  return frames.map((f) => [f.tag, f.mode, f.bytes, f.option, f.events]);
}

test('multiple frames in one buffer', () => {
  const frames = decodeAll(sampleStream());
  assert.deepEqual(
    frames.map((f) => [f.tag, f.mode, f.events.length]),
    [
      ['m', 'message', 1],
      ['f', 'forward', 2],
      ['p', 'packed', 2],
      ['s', 'packed', 2],
      ['z', 'compressed', 4],
    ],
  );
});

test('a stream split at every byte position decodes the same', () => {
  const stream = sampleStream();
  const expected = summary(decodeAll(stream));
  for (let cut = 1; cut < stream.length; cut++) {
    const d = decoder();
    const frames = [...decodeAll(stream.subarray(0, cut), d), ...decodeAll(stream.subarray(cut), d)];
    assert.deepEqual(summary(frames), expected, `cut at ${cut}`);
    assert.equal(d.pendingBytes, 0);
  }
});

test('a stream fed one byte at a time decodes the same', () => {
  const stream = sampleStream();
  const expected = summary(decodeAll(stream));
  const d = decoder({ bufferChunkSize: 1 });
  const frames: ForwardFrame[] = [];
  for (let i = 0; i < stream.length; i++) frames.push(...decodeAll(stream.subarray(i, i + 1), d));
  assert.deepEqual(summary(frames), expected);
});

test('values decoded earlier are not overwritten by later reads (bin values are views)', () => {
  const frame = (n: number): Buffer => cat(arr(3), str('b'), uint32(SEC), rec({ blob: Buffer.alloc(20, n) }));
  const d = decoder({ bufferChunkSize: 1 });
  const stream = cat(frame(1), frame(2), frame(3));
  const frames: ForwardFrame[] = [];
  for (let i = 0; i < stream.length; i += 7) frames.push(...decodeAll(stream.subarray(i, i + 7), d));
  assert.deepEqual(
    frames.map((f) => [...(f.events[0]!.record.blob as Uint8Array)]),
    [1, 2, 3].map((n) => Array(20).fill(n)),
  );
});

test('packed records are kept as msgpack bytes, and later reads do not overwrite them', () => {
  const frame = (n: number): Buffer =>
    cat(arr(2), str('p'), bin(cat(entry(fixext8Time(SEC, n), { n, blob: Buffer.alloc(20, n) }), entry(uint32(SEC), { n: -n }))));
  const d = decoder({ bufferChunkSize: 1 });
  const stream = cat(frame(1), frame(2), frame(3));
  const frames: ForwardFrame[] = [];
  for (let i = 0; i < stream.length; i += 5) frames.push(...decodeAll(stream.subarray(i, i + 5), d));
  const events = frames.flatMap((f) => f.events);
  assert.ok(events.every((e) => e instanceof MsgpackEvent && e.msgpack !== undefined), 'no record was built while decoding');
  // Only now, after every read, are the records built from the bytes the events kept.
  assert.deepEqual(
    events.map((e) => [e.time, e.record.n, e.record.blob === undefined ? undefined : [...(e.record.blob as Uint8Array)]]),
    [1, 2, 3].flatMap((n) => [
      [BigInt(SEC) * 1_000_000_000n + BigInt(n), n, Array(20).fill(n)],
      [BigInt(SEC) * 1_000_000_000n, -n, undefined],
    ]),
  );
  assert.ok(events.every((e) => e.msgpack === undefined), 'a record once read drops its bytes');
});

test('Forward mode entries that are all plain keep their records as msgpack bytes, v1.5 empty metadata too', () => {
  // floki's and Fluent Bit 5's forward outputs: [[EventTime, {}], record]; older senders: [time, record].
  const v15 = (n: number): Buffer => cat(arr(2), arr(2), fixext8Time(SEC, n), map(0), rec({ n }));
  const many = Array.from({ length: 20 }, (_, i) => entry(uint32(SEC + i), { i }));
  const f = decodeOne(
    cat(arr(3), str('fwd'), arr(3), v15(1), entry(fixext8Time(SEC, 2), { n: 2 }), v15(3), rec({ size: 3, chunk: 'abc' })),
    decoder({ tagPrefix: 'in.' }),
  );
  assert.equal(f.mode, 'forward');
  assert.equal(f.tag, 'fwd');
  assert.deepEqual(f.option, { size: 3, chunk: 'abc' });
  assert.ok(f.events.every((e) => e instanceof MsgpackEvent && e.msgpack !== undefined), 'no record was built while decoding');
  assert.deepEqual(
    f.events.map((e) => [e.tag, e.time, e.metadata, e.record.n]),
    [1, 2, 3].map((n) => ['in.fwd', NS(SEC, n), undefined, n]),
  );
  const d = decoder();
  d.push(cat(arr(2), str('fwd'), Buffer.from([0xdc, 0, 20]), ...many));
  const g = d.next()!;
  assert.deepEqual(g.events.map((e) => [e.time, e.record.i]), many.map((_, i) => [NS(SEC + i), i]));
  assert.ok(g.events.every((e) => e.metadata === undefined));
});

test('PackedForward entries [[EventTime, {}], record] keep their records as msgpack bytes; non-empty metadata is decoded as before', () => {
  // Fluent Bit 5's chunks hold v1.5 entries: with empty metadata they take the plain path (not msgpackr's).
  const v15 = (n: number, meta: Buffer = map(0)): Buffer => cat(arr(2), arr(2), fixext8Time(SEC, n), meta, rec({ n }));
  const f = decodeOne(cat(arr(3), str('pk'), bin(cat(v15(1), entry(uint32(SEC), { n: 2 }), v15(3))), rec({ size: 3 })));
  assert.equal(f.mode, 'packed');
  assert.ok(f.events.every((e) => e instanceof MsgpackEvent && e.msgpack !== undefined), 'no record was built while decoding');
  assert.deepEqual(
    f.events.map((e) => [e.time, e.metadata, e.record.n]),
    [
      [NS(SEC, 1), undefined, 1],
      [NS(SEC), undefined, 2],
      [NS(SEC, 3), undefined, 3],
    ],
  );
  const g = decodeOne(cat(arr(2), str('pk'), bin(cat(v15(1), v15(2, rec({ k: 'v' })), v15(3)))));
  assert.deepEqual(g.events.map((e) => e.msgpack !== undefined), [true, false, false]);
  assert.deepEqual(plain(g.events).map((e) => [e.time, e.metadata, e.record.n]), [
    [NS(SEC, 1), undefined, 1],
    [NS(SEC, 2), { k: 'v' }, 2],
    [NS(SEC, 3), undefined, 3],
  ]);
});

test('a Forward frame with one entry that is not plain is decoded whole, as before: metadata, refusals, size', () => {
  const frame = cat(
    arr(3),
    str('fwd'),
    arr(4),
    entry(fixext8Time(SEC, 1), { n: 1 }),
    cat(arr(2), arr(2), fixext8Time(SEC, 2), rec({ stream: 'x' }), rec({ n: 2 })),
    entry(float64(-1.5), { n: 3 }),
    cat(arr(2), fixext8Time(SEC, 4), str('not a map')),
    rec({ size: 4 }),
  );
  const f = decodeOne(frame);
  assert.equal(f.mode, 'forward');
  assert.deepEqual(plain(f.events).map((e) => [e.time, e.record.n, e.metadata]), [
    [NS(SEC, 1), 1, undefined],
    [NS(SEC, 2), 2, { stream: 'x' }],
  ]);
  assert.equal(f.outOfRange, 1);
  assert.equal(f.skipped, 1);
  // A size that does not match refuses the frame either way.
  assertProtocolError(cat(arr(3), str('fwd'), arr(1), entry(fixext8Time(SEC, 1), { n: 1 }), rec({ size: 2 })), /size says 2 entries/);
});

test('a packed entry that is not plain (an ext in the record, a float time) is decoded as before, and so is the rest', () => {
  const packed = cat(
    entry(fixext8Time(SEC, NSEC), { log: 'lazy' }),
    cat(arr(2), fixext8Time(SEC, NSEC), map(2), str('log'), str('ext'), str('t'), fixext8Time(1, 2)),
    entry(fixext8Time(SEC, NSEC), { log: 'after' }),
  );
  const f = decodeOne(cat(arr(3), str('mix'), bin(packed), rec({ size: 3 })));
  assert.deepEqual(f.events.map((e) => e.msgpack !== undefined), [true, false, false]);
  assert.deepEqual(f.events.map((e) => e.record.log), ['lazy', 'ext', 'after']);
  assert.equal((f.events[1]!.record.t as { seconds: number }).seconds, 1);
});

test('a large PackedForward frame in many small reads', () => {
  const entries: Buffer[] = [];
  for (let i = 0; i < 1000; i++) entries.push(entry(fixext8Time(SEC, i), { log: `line ${i} ${'y'.repeat(1000)}` }));
  const stream = cat(arr(3), str('big'), bin(cat(...entries)), rec({ size: 1000, chunk: 'big' }));
  const d = decoder({ bufferChunkSize: 64 * 1024 });
  const frames: ForwardFrame[] = [];
  for (let i = 0; i < stream.length; i += 4096) frames.push(...decodeAll(stream.subarray(i, i + 4096), d));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.events.length, 1000);
  assert.equal(frames[0]!.events[999]!.time, BigInt(SEC) * 1_000_000_000n + 999n);
  assert.equal(frames[0]!.events[999]!.record.log, `line 999 ${'y'.repeat(1000)}`);
});

test('a stream of large frames in small reads: each frame is held in a buffer sized to it, not to buffer_max_size', () => {
  // The bug: a buffer whose front held frames already decoded grew from its own length, so every
  // later buffer was as large as buffer_max_size (6 MB for a 1 MB chunk) and a frame's bytes were
  // copied again into each. Events keep their buffer alive, so that was memory as well as copying.
  const frames: Buffer[] = [];
  for (let f = 0; f < 12; f++) {
    const entries: Buffer[] = [];
    for (let i = 0; i < 100; i++) entries.push(entry(fixext8Time(SEC, i), { log: `frame ${f} line ${i} ${'z'.repeat(900 + f)}` }));
    frames.push(cat(arr(3), str('big'), bin(cat(...entries)), rec({ size: 100, chunk: `c${f}` })));
  }
  const stream = cat(...frames);
  // Fluent Bit's defaults: buffer_chunk_size 1024000, buffer_max_size 6144000.
  const d = decoder({ bufferMaxSize: 6144000, bufferChunkSize: 1024000 });
  const out: ForwardFrame[] = [];
  // Reads that do not line up with frames: each frame ends in the middle of one.
  for (let i = 0; i < stream.length; i += 6000) out.push(...decodeAll(stream.subarray(i, i + 6000), d));
  assert.equal(out.length, frames.length);
  out.forEach((frame, f) => {
    assert.equal(frame.option?.chunk, `c${f}`);
    assert.equal(frame.events.length, 100);
    assert.equal(frame.events[99]!.record.log, `frame ${f} line 99 ${'z'.repeat(900 + f)}`);
    const held = frame.events[0]!.msgpack!.buf.buffer.byteLength;
    assert.ok(held <= frames[f]!.length + 64 * 1024, `frame ${f} (${frames[f]!.length} bytes) is held in a buffer of ${held} bytes`);
  });
});

test('bytes after a decoded frame are not judged by push: a JSON newline, and garbage reported by next() in order', () => {
  // JSON: the newline after a frame is skipped by next(), not by the walk a growing buffer does.
  const json = decoder({ bufferChunkSize: 16 });
  json.push(Buffer.from('["a",1,{"k":"v"}]\n["b"'));
  assert.equal(json.next()!.tag, 'a');
  json.push(Buffer.from(',2,{"k":"w"}]\n'));
  assert.equal(json.next()!.events[0]!.record.k, 'w');
  // msgpack: a frame, and garbage behind it that next() has not reached yet (the connection stops
  // decoding while a frame waits). The next read is taken; the error comes from next(), in order, so
  // the connection delivers and acks the frames before it first.
  const d = decoder({ bufferChunkSize: 16 });
  const good = cat(arr(3), str('good'), uint32(SEC), rec({ a: 1 }));
  d.push(cat(good, arr(3), str('bad'), Buffer.from([0xc1])));
  assert.equal(d.next()!.tag, 'good');
  d.push(Buffer.from([0x00, 0x00]));
  assert.throws(() => d.next(), (err: unknown) => err instanceof ForwardProtocolError && /not msgpack/.test(err.message));
});

test('a large Forward frame of many strings grows its buffer geometrically: a string end is not the frame end', () => {
  const entries: Buffer[] = [];
  for (let i = 0; i < 2000; i++) entries.push(entry(uint32(SEC), { log: `line ${i} ${'q'.repeat(1000)}` }));
  const frame = cat(arr(2), str('fw'), arr(entries.length), ...entries);
  const d = decoder({ bufferChunkSize: 1024 });
  const allocUnsafe = Buffer.allocUnsafe;
  const sizes: number[] = [];
  Buffer.allocUnsafe = (size: number) => {
    sizes.push(size);
    return allocUnsafe(size);
  };
  const frames: ForwardFrame[] = [];
  try {
    // 64 KB reads, as from a socket: most end inside a 1 KB string.
    for (let i = 0; i < frame.length; i += 65536) frames.push(...decodeAll(frame.subarray(i, i + 65536), d));
  } finally {
    Buffer.allocUnsafe = allocUnsafe;
  }
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.events.length, 2000);
  // 2 MB from 64 KB reads: about log2(2 MB / 64 KB) doublings, not a copy every other read.
  assert.ok(sizes.length <= 8, `${sizes.length} buffers allocated for a ${frame.length}-byte frame: ${sizes.join(', ')}`);
});

test('malformed frames give a ForwardProtocolError', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['a string frame', str('hello'), /must be an array/],
    ['an integer frame', Buffer.from([0x05]), /must be an array/],
    ['a map frame', rec({ a: 1 }), /must be an array/],
    ['a JSON object frame', Buffer.from('{"tag":"a"}'), /must be an array/],
    ['a one-element array', cat(arr(1), str('a')), /2 to 4 elements/],
    ['a non-string tag', cat(arr(3), Buffer.from([0x01]), uint32(SEC), rec({})), /tag .* must be a string/],
    ['a Message frame of 5 elements', cat(arr(5), str('a'), uint32(SEC), rec({}), rec({}), rec({})), /3 or 4 elements/],
    ['a Message frame of 2 elements', cat(arr(2), str('a'), uint32(SEC)), /3 or 4 elements/],
    ['a Forward frame of 4 elements', cat(arr(4), str('a'), arr(0), rec({}), rec({})), /2 or 3 elements/],
    ['an option that is not a map', cat(arr(3), str('a'), arr(0), str('opt')), /option .* must be a map/],
    ['the unused byte 0xc1', Buffer.from([0xc1]), /not msgpack/],
    ['0xc1 inside a frame', cat(arr(3), str('a'), Buffer.from([0xc1]), rec({})), /not msgpack/],
    ['an unknown ext type', cat(arr(3), str('a'), Buffer.from([0xd4, 0x65, 0x00]), rec({})), /ext type 101/],
    ['an EventTime of 4 bytes', cat(arr(3), str('a'), Buffer.from([0xd6, 0x00, 1, 2, 3, 4]), rec({})), /EventTime/],
    ['size not matching Forward entries', cat(arr(3), str('a'), cat(arr(1), entry(uint32(SEC), {})), rec({ size: 2 })), /size says 2/],
    [
      'size not matching packed entries',
      cat(arr(3), str('a'), bin(entry(uint32(SEC), { a: 1 })), rec({ size: 5 })),
      /size says 5 entries, the frame has 1/,
    ],
    ['size not an integer', cat(arr(3), str('a'), arr(0), rec({ size: 'two' })), /size must be an integer/],
    ['truncated packed entries', cat(arr(2), str('a'), bin(entry(uint32(SEC), { a: 1 }).subarray(0, 5))), /packed entries/],
    ['gzip that is not gzip', cat(arr(3), str('a'), bin(Buffer.from('plain')), rec({ compressed: 'gzip' })), /gzip/],
    ['an unsupported compression', cat(arr(3), str('a'), bin(Buffer.from('x')), rec({ compressed: 'zstd' })), /zstd.*not supported/],
  ];
  for (const [what, bytes, pattern] of cases) {
    assert.throws(
      () => decodeAll(bytes),
      (err: unknown) => err instanceof ForwardProtocolError && pattern.test(err.message),
      `${what}: expected a ForwardProtocolError matching ${pattern}`,
    );
  }
});

test('frames before garbage are returned, then the error, which sticks', () => {
  const good = cat(arr(3), str('a'), uint32(SEC), rec({ ok: true }));
  const d = decoder();
  d.push(cat(good, Buffer.from([0xc1, 0x00])));
  assert.equal(d.next()?.events.length, 1);
  assert.throws(() => d.next(), ForwardProtocolError);
  assert.throws(() => d.next(), ForwardProtocolError);
  assert.throws(() => d.push(good), ForwardProtocolError);
});

test('a frame announcing more than buffer_max_size fails as soon as its header is read', () => {
  // [tag, bin32 of 10 MB ...: only the headers arrive.
  const d = decoder({ bufferMaxSize: 1024 * 1024 });
  d.push(cat(arr(2), str('big'), Buffer.from([0xc6, ...be32(10 * 1024 * 1024)])));
  assert.throws(() => d.next(), /larger than buffer_max_size \(1048576 bytes\)/);
  // An array header announcing more values than could fit.
  assertProtocolError(cat(arr(2), str('big'), Buffer.from([0xdd, ...be32(2_000_000)])), /buffer_max_size/, decoder({ bufferMaxSize: 1024 * 1024 }));
});

test('pending bytes of an incomplete frame are capped at buffer_max_size', () => {
  // A Forward frame of small entries that keeps growing: no header announces its size.
  const d = decoder({ bufferMaxSize: 4096, bufferChunkSize: 512 });
  d.push(cat(arr(2), str('grow'), Buffer.from([0xdc, 0xff, 0xff])));
  assert.throws(() => d.next(), /buffer_max_size/); // 65535 entries of at least one byte each cannot fit
  const d2 = decoder({ bufferMaxSize: 4096, bufferChunkSize: 512 });
  d2.push(cat(arr(2), str('grow'), arr(10)));
  const big = entry(uint32(SEC), { log: 'z'.repeat(1000) });
  assert.equal(d2.next(), undefined);
  for (let i = 0; i < 4; i++) {
    d2.push(big);
    assert.equal(d2.next(), undefined);
  }
  d2.push(big);
  assert.throws(() => d2.next(), /frame of at least \d+ bytes is larger than buffer_max_size \(4096 bytes\)/);
});

test('a complete frame over buffer_max_size is refused too', () => {
  const frame = cat(arr(3), str('a'), uint32(SEC), rec({ log: 'q'.repeat(200) }));
  assertProtocolError(frame, /frame of \d+ bytes is larger than buffer_max_size \(100 bytes\)/, decoder({ bufferMaxSize: 100 }));
});

test('gzip entries decompressing over buffer_max_size are refused', () => {
  const bomb = gzipSync(Buffer.alloc(200_000, 0x90)); // 200000 empty arrays; compresses to a few hundred bytes
  assert.ok(bomb.length < 10_000);
  assertProtocolError(
    cat(arr(3), str('a'), bin(bomb), rec({ compressed: 'gzip' })),
    /decompress to more than buffer_max_size \(65536 bytes\)/,
    decoder({ bufferMaxSize: 65536 }),
  );
});

// ---- Fluent Bit 5 and Fluentd payloads, written byte by byte from the spec ----

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as RFC 1952 asks for in a gzip trailer. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/**
 * One gzip member (RFC 1952) whose deflate stream (RFC 1951) is a single stored block: header
 * 1f 8b, CM 8, no flags, MTIME 0, XFL 0, OS 3 (unix); BFINAL=1 BTYPE=00, LEN, NLEN; the bytes;
 * CRC-32 and ISIZE, little-endian.
 */
function storedGzipMember(data: Buffer): Buffer {
  assert.ok(data.length < 65536);
  const len = data.length;
  return Buffer.from([
    0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03,
    0x01, len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff,
    ...data,
    ...le32(crc32(data)),
    ...le32(len),
  ]);
}

test('Fluentd CompressedPackedForward: several gzip members back to back (one per buffer append)', () => {
  // Fluentd's buffer appends a gzip member per write to a compressed chunk and sends the chunk whole.
  const first = cat(entry(fixext8Time(SEC, NSEC), { message: 'first write' }), entry(fixext8Time(SEC, NSEC + 1), { message: 'still first' }));
  const second = entry(fixext8Time(SEC + 1, 0), { message: 'second write' });
  const third = entry(uint32(SEC + 2), { message: 'third write' });
  const payload = cat(storedGzipMember(first), storedGzipMember(second), gzipSync(third));
  // Fluentd's option map: size as the entry count, compressed "gzip", chunk as Base64 of 16 bytes.
  const chunk = Buffer.alloc(16, 0xab).toString('base64');
  const option = cat(map(3), str('size'), Buffer.from([0x04]), str('compressed'), str('gzip'), str('chunk'), str(chunk));
  const f = decodeOne(cat(arr(3), str('fluentd.compressed'), bin(payload), option));
  assert.equal(f.mode, 'compressed');
  assert.deepEqual(f.option, { size: 4, compressed: 'gzip', chunk });
  assert.deepEqual(
    f.events.map((e) => [e.time, e.record.message]),
    [
      [EXACT, 'first write'],
      [EXACT + 1n, 'still first'],
      [BigInt(SEC + 1) * 1_000_000_000n, 'second write'],
      [BigInt(SEC + 2) * 1_000_000_000n, 'third write'],
    ],
  );
});

test('a gzip member with a wrong CRC-32 is refused', () => {
  const member = storedGzipMember(entry(fixext8Time(SEC, NSEC), { message: 'x' }));
  member[member.length - 8] ^= 0xff;
  assertProtocolError(cat(arr(3), str('gz'), bin(member), rec({ compressed: 'gzip' })), /gzip entries cannot be decompressed/);
});

test('Fluent Bit 5 Forward mode: entries [[EventTime, {metadata}], record], written out by hand', () => {
  // out_forward with retain_metadata_in_forward_mode true (the default since 5.0.4): a 2-array per
  // entry whose first element is [EventTime, metadata map]; no option map (send_options off).
  const record = Buffer.from([0x82, 0xa3, ...Buffer.from('log'), 0xa5, ...Buffer.from('hello'), 0xa6, ...Buffer.from('stream'), 0xa6, ...Buffer.from('stdout')]);
  const withMeta = cat(arr(2), cat(arr(2), fixext8Time(SEC, NSEC), Buffer.from([0x81, 0xa4, ...Buffer.from('otel'), 0x81, 0xa5, ...Buffer.from('level'), 0xa4, ...Buffer.from('INFO')])), record);
  const emptyMeta = cat(arr(2), cat(arr(2), fixext8Time(SEC, NSEC + 1), Buffer.from([0x80])), record);
  const frame = cat(Buffer.from([0x92]), str('kube.var.log.containers.app'), Buffer.from([0x92]), withMeta, emptyMeta);
  const f = decodeOne(frame);
  assert.equal(f.mode, 'forward');
  assert.deepEqual(plain(f.events), [
    { tag: 'kube.var.log.containers.app', time: EXACT, record: { log: 'hello', stream: 'stdout' }, metadata: { otel: { level: 'INFO' } } },
    { tag: 'kube.var.log.containers.app', time: EXACT + 1n, record: { log: 'hello', stream: 'stdout' } },
  ]);
});

test('Fluent Bit 5 CompressedPackedForward: wrapped entries in gzip, options with fluent_signal 0', () => {
  const entries = cat(
    cat(arr(2), cat(arr(2), fixext8Time(SEC, NSEC), rec({})), rec({ log: 'a' })),
    cat(arr(2), cat(arr(2), fixext8Time(SEC, NSEC + 2), rec({ k: 'v' })), rec({ log: 'b' })),
  );
  const option = rec({ size: 2, compressed: 'gzip', fluent_signal: 0, chunk: 'Zmx1ZW50Yml0Y2h1bmsxMg==' });
  const f = decodeOne(cat(arr(3), str('fb'), bin(gzipSync(entries)), option));
  assert.equal(f.signal, 0);
  assert.deepEqual(
    f.events.map((e) => [e.time, e.record.log, e.metadata]),
    [
      [EXACT, 'a', undefined],
      [EXACT + 2n, 'b', { k: 'v' }],
    ],
  );
});

test('fluent_signal other than logs: the payload is not read as entries', () => {
  // Fluent Bit sends metrics (1) and traces (2) as cmetrics / ctraces msgpack in a bin: not entries.
  const cmetricsLike = rec({ meta: { cmetrics: {}, processing: {} }, metrics: [{ name: 'cpu' }] });
  const metrics = decodeOne(cat(arr(3), str('fb.metrics'), bin(cmetricsLike), rec({ fluent_signal: 1, chunk: 'm1' })));
  assert.equal(metrics.signal, 1);
  assert.deepEqual(metrics.events, []);
  assert.deepEqual(metrics.option, { fluent_signal: 1, chunk: 'm1' });
  const traces = decodeOne(cat(arr(3), str('fb.traces'), bin(gzipSync(Buffer.from('not entries'))), rec({ fluent_signal: 2, compressed: 'gzip' })));
  assert.equal(traces.signal, 2);
  const message = decodeOne(cat(arr(4), str('m'), uint32(SEC), rec({ a: 1 }), rec({ fluent_signal: 2 })));
  assert.equal(message.signal, 2);
  assert.deepEqual(plain(message.events), []);
  assertProtocolError(cat(arr(3), str('x'), arr(0), rec({ fluent_signal: 'metrics' })), /fluent_signal must be a non-negative integer/);
});

test('msgpackr private ext types inside packed entries are refused', () => {
  // 0x78 would build a RegExp, 0x42 a BigInt, 0x73 a Set from the sender's bytes.
  for (const ext of [Buffer.from([0xd4, 0x78, 0x90]), Buffer.from([0xd4, 0x42, 0x01]), Buffer.from([0xd4, 0x73, 0x90])]) {
    const packed = cat(arr(2), uint32(SEC), map(1), str('v'), ext);
    assertProtocolError(cat(arr(2), str('p'), bin(packed)), /packed entries are not valid msgpack: msgpack ext type \d+ is not part of the forward protocol/);
  }
});

// ---- JSON connections (Fluentd in_forward reads a connection starting with `{` or `[` as JSON) ----

test('JSON: Message and Forward frames, whitespace between them, float and v1.5 times', () => {
  const d = decoder();
  const text =
    '["app.json",1764064800,{"log":"message"}]\n' +
    '  ["app.json",[[1764064800.25,{"log":"f1"}],[[1764064801,{"k":"v"}],{"log":"f2 ]}\\"["}]],{"chunk":"j1","size":2}]\r\n' +
    '["app.json",1764064802,{"log":"with option"},{"chunk":"j2"}]\n';
  const frames = decodeAll(Buffer.from(text), d);
  assert.equal(d.format, 'json');
  assert.equal(d.pendingBytes, 0);
  assert.deepEqual(
    frames.map((f) => [f.mode, f.option, f.events.map((e) => [e.time, e.record.log, e.metadata])]),
    [
      ['message', undefined, [[1764064800_000000000n, 'message', undefined]]],
      [
        'forward',
        { chunk: 'j1', size: 2 },
        [
          [1764064800_250000000n, 'f1', undefined],
          [1764064801_000000000n, 'f2 ]}"[', { k: 'v' }],
        ],
      ],
      ['message', { chunk: 'j2' }, [[1764064802_000000000n, 'with option', undefined]]],
    ],
  );
});

test('JSON: a stream split at every byte position decodes the same', () => {
  const stream = Buffer.from('["a",1764064800,{"s":"x\\"y]"}] ["b",[[1764064800,{"n":1}]],{"chunk":"c"}]');
  const expected = summary(decodeAll(stream));
  assert.equal(expected.length, 2);
  for (let cut = 1; cut < stream.length; cut++) {
    const d = decoder();
    const frames = [...decodeAll(stream.subarray(0, cut), d), ...decodeAll(stream.subarray(cut), d)];
    assert.deepEqual(summary(frames), expected, `cut at ${cut}`);
  }
});

test('JSON: malformed input is a ForwardProtocolError', () => {
  const cases: [string, string, RegExp][] = [
    ['invalid JSON', '["a",1764064800,{"log":}]', /invalid JSON/],
    ['a scalar after a frame', '["a",1764064800,{}] 42', /a JSON frame must be an array/],
    ['PackedForward in JSON', '["a","entries"]', /JSON connection sends Message or Forward/],
    ['a non-string tag', '[1,1764064800,{}]', /tag .* must be a string/],
  ];
  for (const [what, text, pattern] of cases) {
    assert.throws(
      () => decodeAll(Buffer.from(text)),
      (err: unknown) => err instanceof ForwardProtocolError && pattern.test(err.message),
      `${what}: expected a ForwardProtocolError matching ${pattern}`,
    );
  }
  assertProtocolError(Buffer.from(`["a",1764064800,{"log":"${'x'.repeat(200)}"}]`), /larger than buffer_max_size/, decoder({ bufferMaxSize: 100 }));
});

test('nextPing reads the PING fields as raw bytes, never as text', () => {
  // Fluent Bit sends its 16-byte salt as a msgpack str of random bytes (not valid UTF-8).
  const salt = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const rawStr16 = cat(Buffer.from([0xb0]), salt);
  const ping = cat(Buffer.from([0x96]), str('PING'), str('client-a'), rawStr16, str('d'.repeat(128)), NIL, Buffer.from([0xa0]));
  const d = decoder();
  d.push(cat(NIL, ping, cat(arr(3), str('after'), uint32(SEC), rec({ a: 1 }))));
  const got = d.nextPing();
  assert.ok(got?.ping);
  assert.deepEqual(got.ping.sharedKeySalt, salt);
  assert.equal(got.ping.hostname.toString(), 'client-a');
  assert.equal(got.ping.sharedKeyDigest.toString(), 'd'.repeat(128));
  assert.equal(got.ping.username.length, 0);
  assert.equal(got.ping.passwordDigest.length, 0);
  // What follows is an ordinary frame; a frame read as a PING is not a PING.
  assert.deepEqual(d.nextPing(), { ping: undefined });
  const json = decoder();
  json.push(Buffer.from('["PING","h","salt","digest","",""]'));
  assert.equal(json.nextPing()?.ping?.sharedKeySalt.toString(), 'salt');
});
