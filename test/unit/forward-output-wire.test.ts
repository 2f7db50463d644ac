/**
 * The shared wire pieces the forward output writes and reads: the msgpack writer (checked against
 * msgpackr, a library, as the reader), the reply reader (checked against msgpackr as the writer, with
 * seeded random values and random bytes), and the client side of the handshake (checked against the
 * forward input's server side).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Packr, unpack } from 'msgpackr';
import { EventTime } from '../../src/forward/event-time.js';
import { newChunkId, writeFrameOptions } from '../../src/forward/frame-options.js';
import { HandshakeClient, parseHelo } from '../../src/forward/handshake-client.js';
import { MsgpackWriter, eventTimeParts } from '../../src/forward/msgpack-writer.js';
import { packValue } from '../../src/forward/record-packer.js';
import { readReply, ReplyFormatError, type ReplyValue } from '../../src/forward/reply-reader.js';
import { ForwardHandshake } from '../../src/inputs/forward/handshake.js';
import { pingFromMsgpack } from '../../src/forward/ping-message.js';
import { registerForwardExtensions } from '../../src/forward/msgpack-extensions.js';

registerForwardExtensions();
const packr = new Packr({ useRecords: false, variableMapSize: true });

/** A small seeded PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the writer picks each header at its size boundaries, as msgpackr reads them', () => {
  for (const n of [0, 15, 16, 65535, 65536]) {
    const w = new MsgpackWriter(8);
    w.arrayHeader(n);
    for (let i = 0; i < n; i++) w.uint(i % 2);
    assert.equal((unpack(w.copy()) as unknown[]).length, n, `array of ${n}`);
  }
  for (const len of [0, 31, 32, 255, 256, 65535, 65536]) {
    const s = 'é'.repeat(Math.ceil(len / 2)).slice(0, Math.ceil(len / 2));
    const w = new MsgpackWriter(8);
    w.str(s);
    assert.equal(unpack(w.copy()), s, `str of ${Buffer.byteLength(s)} bytes`);
    const b = randomBytes(len);
    const wb = new MsgpackWriter(8);
    wb.binHeader(len);
    wb.raw(b);
    assert.deepEqual(unpack(wb.copy()), b, `bin of ${len}`);
  }
  for (const n of [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
    const w = new MsgpackWriter(8);
    w.uint(n);
    assert.equal(Number(unpack(w.copy())), n, `uint ${n}`);
  }
  const m = new MsgpackWriter(8);
  m.mapHeader(1);
  m.str('k');
  m.bool(true);
  assert.deepEqual(unpack(m.copy()), { k: true });
});

test('EventTime is fixext 8 type 0 with the exact nanoseconds; out-of-range times are clamped', () => {
  const w = new MsgpackWriter();
  w.eventTime(1_796_193_609_123_456_789n);
  assert.equal(w.copy().toString('hex'), 'd700' + (1_796_193_609).toString(16).padStart(8, '0') + (123_456_789).toString(16).padStart(8, '0'));
  assert.deepEqual(unpack(w.copy()), new EventTime(1_796_193_609, 123_456_789));
  assert.deepEqual(eventTimeParts(-5n), [0, 0]);
  assert.deepEqual(eventTimeParts(2n ** 40n * 1_000_000_000n), [0xffffffff, 999_999_999]);
  const i = new MsgpackWriter();
  i.integerTime(1_796_193_609_999_999_999n);
  assert.equal(unpack(i.copy()), 1_796_193_609);
});

test('records: undefined as nil, never a 1-byte ext 0 a receiver would take for a broken EventTime; EventTime values stay ext 0', () => {
  const bytes = packValue({ a: undefined, t: new EventTime(5, 6), d: Buffer.from([1]) });
  assert.ok(!bytes.includes(Buffer.from([0xd4, 0x00])), 'no fixext 1 of type 0');
  assert.deepEqual(unpack(bytes), { a: null, t: new EventTime(5, 6), d: Buffer.from([1]) });
});

test('options in Fluent Bit order; chunk ids are 16 bytes in Base64, each new', () => {
  const w = new MsgpackWriter();
  writeFrameOptions(w, { chunk: 'c', size: 3, compressed: 'gzip', extra: [['foo', 'bar']], metadata: packValue({ m: 1 }) });
  const options = unpack(w.copy()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(options), ['chunk', 'size', 'compressed', 'fluent_signal', 'foo', 'metadata']);
  assert.deepEqual(options, { chunk: 'c', size: 3, compressed: 'gzip', fluent_signal: 0, foo: 'bar', metadata: { m: 1 } });
  const ids = Array.from({ length: 1000 }, () => newChunkId());
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.every((id) => Buffer.from(id, 'base64').length === 16 && id.length === 24));
});

/** A random reply-shaped value: what msgpackr writes for it is what readReply must give back. */
function randomValue(rand: () => number, depth = 0): unknown {
  const r = rand();
  if (depth >= 3 || r < 0.45) {
    const k = Math.floor(rand() * 7);
    if (k === 0) return null;
    if (k === 1) return rand() < 0.5;
    if (k === 2) return Math.floor(rand() * 2 ** 32) - 2 ** 31;
    if (k === 3) return Math.floor(rand() * 2 ** 40);
    if (k === 4) return rand() * 1e6;
    if (k === 5) return 'x'.repeat(Math.floor(rand() * 300));
    return Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)));
  }
  const n = Math.floor(rand() * 6);
  if (r < 0.7) return Array.from({ length: n }, () => randomValue(rand, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) o[`k${i}`] = randomValue(rand, depth + 1);
  return o;
}

/** readReply's value in msgpackr's terms: str and bin are both raw bytes there. */
function plain(v: ReplyValue): unknown {
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  return v;
}
function expected(v: unknown): unknown {
  if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('latin1');
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (Array.isArray(v)) return v.map(expected);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expected(x)]));
  return v;
}

test('property: the reply reader reads what msgpackr writes, and every cut short prefix asks for more', () => {
  const rand = prng(0x5eed);
  for (let i = 0; i < 500; i++) {
    const value = randomValue(rand);
    const bytes = packr.pack(value);
    const read = readReply(bytes, 0);
    assert.ok(read, `case ${i}: whole value read`);
    assert.equal(read.end, bytes.length);
    const got = plain(read.value);
    if (typeof value === 'number' && !Number.isInteger(value)) assert.ok(Math.abs((got as number) - value) < 1e-3);
    else assert.deepEqual(got, expected(value), `case ${i}`);
    const cut = Math.floor(rand() * bytes.length);
    assert.equal(readReply(bytes.subarray(0, cut), 0), undefined, `case ${i}: prefix of ${cut} bytes`);
  }
});

test('property: random bytes are read, asked more of, or refused with ReplyFormatError; nothing else', () => {
  const rand = prng(42);
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 24) }, () => Math.floor(rand() * 256)));
    try {
      const read = readReply(bytes, 0);
      if (read) assert.ok(read.end <= bytes.length);
    } catch (err) {
      assert.ok(err instanceof ReplyFormatError, `case ${i} (${bytes.toString('hex')}): ${String(err)}`);
    }
  }
  assert.throws(() => readReply(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), 0), ReplyFormatError, 'a huge array header is refused before reading it');
  assert.throws(() => readReply(packr.pack([[[[[1]]]]]), 0), ReplyFormatError, 'nesting');
});

/** The input's server side of the handshake, answering a PING as it would on the wire. */
function serverAnswers(server: ForwardHandshake, ping: Buffer): ReplyValue {
  const answer = server.check(pingFromMsgpack(ping, 0, ping.length));
  return readReply(packr.pack(answer.pong), 0)!.value;
}

test("handshake: floki's client passes floki's server, and checks the server's digest", () => {
  const server = new ForwardHandshake({ sharedKey: 'secret', selfHostname: 'aggregator', users: new Map() });
  const helo = parseHelo(readReply(packr.pack(server.helo()), 0)!.value)!;
  assert.ok(helo, 'HELO read');
  const client = new HandshakeClient({ sharedKey: 'secret', selfHostname: 'node-1', username: '', password: '' });
  const pong = serverAnswers(server, client.ping(helo));
  assert.deepEqual(client.checkPong(pong, helo), { ok: true, serverHostname: 'aggregator' });

  const other = new HandshakeClient({ sharedKey: 'secret', selfHostname: 'node-1', username: '', password: '' });
  const forged = other.checkPong(pong, helo);
  assert.equal(forged.ok, false, 'a PONG computed for another salt is refused');
});

test('handshake: a wrong key is refused by the server, with its reason', () => {
  const server = new ForwardHandshake({ sharedKey: 'secret', selfHostname: 'aggregator', users: new Map() });
  const helo = parseHelo(readReply(packr.pack(server.helo()), 0)!.value)!;
  const client = new HandshakeClient({ sharedKey: 'wrong', selfHostname: 'node-1', username: '', password: '' });
  const check = client.checkPong(serverAnswers(server, client.ping(helo)), helo);
  assert.deepEqual(check, { ok: false, refused: true, reason: 'refused by the server: shared_key mismatch' });
});

test('handshake: users, when the HELO carries an auth salt', () => {
  const server = new ForwardHandshake({ sharedKey: 'k', selfHostname: 's', users: new Map([['alice', 'pw']]) });
  const helo = parseHelo(readReply(packr.pack(server.helo()), 0)!.value)!;
  assert.ok(helo.auth && helo.auth.length === 16);
  const good = new HandshakeClient({ sharedKey: 'k', selfHostname: 'c', username: 'alice', password: 'pw' });
  assert.equal(good.checkPong(serverAnswers(server, good.ping(helo)), helo).ok, true);
  const bad = new HandshakeClient({ sharedKey: 'k', selfHostname: 'c', username: 'alice', password: 'nope' });
  assert.deepEqual(bad.checkPong(serverAnswers(server, bad.ping(helo)), helo), { ok: false, refused: true, reason: 'refused by the server: username/password mismatch' });
});

test("handshake: Fluent Bit's HELO (nonce and salt as str of random bytes) keeps its exact bytes", () => {
  const nonce = Buffer.from('ff00fe01fd02fc03fb04fa05f906f807', 'hex');
  const w = new MsgpackWriter();
  w.arrayHeader(2);
  w.str('HELO');
  w.mapHeader(2);
  w.str('nonce');
  w.strBytes(nonce);
  w.str('auth');
  w.strBytes(Buffer.alloc(16, 0x9f));
  const helo = parseHelo(readReply(w.copy(), 0)!.value)!;
  assert.deepEqual(helo.nonce, nonce);
  const salt = Buffer.alloc(16, 0xc3);
  const client = new HandshakeClient({ sharedKey: 'k', selfHostname: 'me', username: '', password: '' }, salt);
  const ping = unpack(client.ping(helo)) as string[];
  const digest = (...parts: (Buffer | string)[]): string => parts.reduce((h, p) => h.update(p), createHash('sha512')).digest('hex');
  assert.equal(ping[3], digest(salt, 'me', nonce, 'k'));
  // An auth entry, even without users: Fluent Bit sends the empty user's digest, and so does floki.
  assert.equal(ping[5], digest(Buffer.alloc(16, 0x9f), '', ''));
});

test('EventTime: times in the same second, the next, an earlier one, and the edges of the range, each with its exact seconds and nanoseconds', () => {
  const base = 1_796_193_609n * 1_000_000_000n;
  const times = [base, base + 999_999_999n, base + 1n, base + 1_000_000_000n, base + 5n, base - 1n, 1n, 0n, -3n, 4_294_967_295_999_999_999n, 4_294_967_296_000_000_000n, base + 7n];
  for (const ns of times) {
    const w = new MsgpackWriter();
    w.eventTime(ns);
    const [seconds, nanoseconds] = eventTimeParts(ns);
    assert.deepEqual(unpack(w.copy()), new EventTime(seconds, nanoseconds), `${ns}`);
  }
});

test('forwardEntry writes the bytes of arrayHeader, eventTime and raw: [time, record] and [[time, metadata], record], records at any offset, the buffer growing', () => {
  const base = 1_796_193_609n * 1_000_000_000n;
  const times = [base + 123n, base + 999_999_999n, base + 1_000_000_000n, base - 1n, 0n, -3n, 4_294_967_296_000_000_000n];
  const record = packValue({ log: 'x'.repeat(300), n: 1 });
  const framed = Buffer.concat([Buffer.from([1, 2, 3]), record, Buffer.from([4])]);
  const metadatas = [undefined, Buffer.from([0x80]), packValue({ k: 'v' })];
  for (const ns of times) {
    for (const metadata of metadatas) {
      for (const [bytes, start, end] of [[record, 0, record.length], [framed, 3, 3 + record.length]] as const) {
        // A writer smaller than one entry: forwardEntry makes room once for all of it.
        const fused = new MsgpackWriter(16);
        fused.uint(7);
        fused.forwardEntry(ns, -1, 0, metadata, bytes, start, end);
        // The same time given as the EventTime's parts, as an entry arrived with it (ns then unused).
        const [s0, n0] = eventTimeParts(ns);
        const wire = new MsgpackWriter(16);
        wire.uint(7);
        wire.forwardEntry(0n, s0, n0, metadata, bytes, start, end);
        assert.equal(wire.copy().toString('hex'), fused.copy().toString('hex'));
        const parts = new MsgpackWriter();
        parts.uint(7);
        parts.arrayHeader(2);
        if (metadata !== undefined) {
          parts.arrayHeader(2);
          parts.eventTime(ns);
          parts.raw(metadata);
        } else parts.eventTime(ns);
        parts.raw(bytes, start, end);
        assert.equal(fused.copy().toString('hex'), parts.copy().toString('hex'), `${ns} ${metadata?.toString('hex')} ${start}`);
        const [seconds, nanoseconds] = eventTimeParts(ns);
        const entry = unpack(fused.copy(1)) as unknown[];
        assert.deepEqual(entry, [metadata === undefined ? new EventTime(seconds, nanoseconds) : [new EventTime(seconds, nanoseconds), unpack(metadata)], { log: 'x'.repeat(300), n: 1 }]);
      }
    }
  }
});

test('raw copies a record from inside a larger buffer, and a whole buffer as it is', () => {
  const pool = Buffer.from('00a36162630000', 'hex');
  const w = new MsgpackWriter(16);
  w.raw(pool.subarray(1), 0, 4);
  w.raw(pool, 1, 5);
  w.raw(Buffer.from([0xc0]));
  assert.equal(w.copy().toString('hex'), 'a3616263a3616263c0');
});

test('eventTimeOf and integerTime write the parts given as they would the same time in ns', () => {
  for (const ns of [1_796_193_609_123_456_789n, 1_000_000_000n, 4_294_967_295_999_999_999n]) {
    const [seconds, nanos] = eventTimeParts(ns);
    const a = new MsgpackWriter();
    a.eventTime(ns);
    a.integerTime(ns);
    const b = new MsgpackWriter();
    b.eventTimeOf(0n, seconds, nanos);
    b.integerTime(0n, seconds);
    const c = new MsgpackWriter();
    c.eventTimeOf(ns, -1, 0);
    c.integerTime(ns, -1);
    assert.equal(b.copy().toString('hex'), a.copy().toString('hex'));
    assert.equal(c.copy().toString('hex'), a.copy().toString('hex'));
  }
});
