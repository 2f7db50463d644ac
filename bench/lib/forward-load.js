// Fluent forward protocol load generator.
//
// `encodeChunks` builds every message before anything is timed; `ForwardLoad.send` then only writes
// bytes, as fast as the socket takes them (write() → false waits for 'drain'). With `ack`, each
// message carries a `chunk` id and at most `window` messages per connection wait for their ack.
//
// Modes (REFERENCE.md §1.2):
//   packed      [tag, bin(concat of [EventTime, record]), {size}]
//   forward     [tag, [[EventTime, record], ...], {size}]
//   compressed  [tag, bin(gzip(concat of [EventTime, record])), {size, compressed: 'gzip'}]
//
// Standalone: node bench/lib/forward-load.js --port 24224 [--host H] [--events N] [--chunk 1000]
//             [--mode packed|forward|compressed] [--ack] [--window 8] [--connections 1]

import { createHash } from 'node:crypto';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { Packr, unpackMultiple } from 'msgpackr';
import { makeEvent } from './events.js';

export const MODES = ['packed', 'forward', 'compressed'];

const packr = new Packr({ useRecords: false });

/** A growable byte buffer; every part is copied in at once, so packr may reuse its own buffer. */
class ByteBuilder {
  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
    this.len = 0;
  }
  reserve(n) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  bytes(b) {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u8(v) {
    this.reserve(1);
    this.buf[this.len++] = v;
  }
  u32(v) {
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
  }
  take() {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** One entry: fixarray(2), EventTime as fixext8 type 0 (sec, nsec big-endian), the record. */
function writeEntry(b, sec, nsec, record) {
  b.u8(0x92);
  b.u8(0xd7);
  b.u8(0x00);
  b.u32(sec);
  b.u32(nsec);
  b.bytes(packr.pack(record));
}

function binHeader(b, n) {
  if (n < 0x100) {
    b.u8(0xc4);
    b.u8(n);
  } else if (n < 0x10000) {
    b.u8(0xc5);
    b.u8(n >> 8);
    b.u8(n & 0xff);
  } else {
    b.u8(0xc6);
    b.u32(n);
  }
}

function arrayHeader(b, n) {
  if (n < 16) b.u8(0x90 | n);
  else if (n < 0x10000) {
    b.u8(0xdc);
    b.u8(n >> 8);
    b.u8(n & 0xff);
  } else {
    b.u8(0xdd);
    b.u32(n);
  }
}

/** Chunk ids as Fluent Bit makes them: Base64 of the first 16 bytes of SHA-512 of the entries. */
function chunkId(entries) {
  return createHash('sha512').update(entries).digest().subarray(0, 16).toString('base64');
}

/**
 * Pre-encodes `events` events (sequence numbers `first`…) into forward messages of `chunkSize` events,
 * records of `shape` (see makeEvent).
 * Returns { messages: [{ buf, count, chunk? }], events, bytes }.
 */
export function encodeChunks({ events, chunkSize = 1000, mode = 'packed', ack = false, tag = 'kube.events', seed = 1, first = 0, shape = 'exporter' }) {
  if (!MODES.includes(mode)) throw new Error(`unknown mode '${mode}' (${MODES.join(', ')})`);
  const messages = [];
  let bytes = 0;
  const entries = new ByteBuilder(chunkSize * 1400);
  const msg = new ByteBuilder(chunkSize * 1400 + 256);
  const tagBytes = packr.pack(tag);
  const tagCopy = Buffer.from(tagBytes);
  for (let start = 0; start < events; start += chunkSize) {
    const count = Math.min(chunkSize, events - start);
    entries.len = 0;
    for (let i = 0; i < count; i++) {
      const e = makeEvent(first + start + i, seed, shape);
      writeEntry(entries, e.sec, e.nsec, e.record);
    }
    let body = entries.buf.subarray(0, entries.len);
    const option = { size: count };
    if (mode === 'compressed') {
      body = gzipSync(body);
      option.compressed = 'gzip';
    }
    let chunk;
    if (ack) option.chunk = chunk = chunkId(body);
    msg.len = 0;
    msg.u8(0x93);
    msg.bytes(tagCopy);
    if (mode === 'forward') arrayHeader(msg, count);
    else binHeader(msg, body.length);
    msg.bytes(body);
    msg.bytes(packr.pack(option));
    const buf = msg.take();
    bytes += buf.length;
    messages.push({ buf, count, chunk });
  }
  return { messages, events, bytes };
}

/** Sends pre-encoded messages over `connections` TCP connections (message i goes to connection i mod n). */
export class ForwardLoad {
  constructor({ host = '127.0.0.1', port, connections = 1, ack = false, window = 8 }) {
    this.host = host;
    this.port = port;
    this.connections = connections;
    this.ack = ack;
    this.window = window;
    this.sockets = [];
    this.acked = 0;
  }

  async connect() {
    for (let i = 0; i < this.connections; i++) {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
      await new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      this.sockets.push(socket);
    }
  }

  /** Resolves once every message is handed to the kernel (and, with ack, acknowledged). */
  send(messages) {
    const lanes = this.sockets.map(() => []);
    messages.forEach((m, i) => lanes[i % lanes.length].push(m));
    return Promise.all(this.sockets.map((s, i) => (this.ack ? this.sendAcked(s, lanes[i]) : this.sendPlain(s, lanes[i]))));
  }

  sendPlain(socket, messages) {
    return new Promise((resolve, reject) => {
      let i = 0;
      const onError = (err) => reject(new Error(`forward connection failed after ${i}/${messages.length} messages: ${err.message}`));
      const onClose = () => reject(new Error(`forward connection closed by floki after ${i}/${messages.length} messages`));
      socket.on('error', onError);
      socket.on('close', onClose);
      const pump = () => {
        while (i < messages.length) {
          const last = i === messages.length - 1;
          const ok = socket.write(
            messages[i++].buf,
            last
              ? () => {
                  socket.off('close', onClose);
                  socket.off('error', onError);
                  resolve();
                }
              : undefined,
          );
          if (!ok) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      if (messages.length === 0) resolve();
      else pump();
    });
  }

  sendAcked(socket, messages) {
    return new Promise((resolve, reject) => {
      let next = 0;
      const pending = new Set();
      let rest = Buffer.alloc(0);
      let paused = false;
      const fail = (msg) => {
        cleanup();
        reject(new Error(msg));
      };
      const onError = (err) => fail(`forward connection failed (${this.acked} acked): ${err.message}`);
      const onClose = () => fail(`forward connection closed by floki with ${pending.size} chunks unacknowledged`);
      const cleanup = () => {
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.off('data', onData);
      };
      const pump = () => {
        paused = false;
        while (next < messages.length && pending.size < this.window) {
          const m = messages[next++];
          pending.add(m.chunk);
          if (!socket.write(m.buf)) {
            paused = true;
            socket.once('drain', pump);
            return;
          }
        }
      };
      const onData = (data) => {
        let buf = rest.length ? Buffer.concat([rest, data]) : data;
        let consumed = 0;
        try {
          unpackMultiple(buf, (value, start, end) => {
            consumed = end ?? consumed;
            const id = value && value.ack;
            if (typeof id === 'string' && pending.delete(id)) this.acked++;
          });
          consumed = buf.length;
        } catch (err) {
          if (!err.incomplete) return fail(`bad ack from floki: ${err.message}`);
          consumed = err.lastPosition ?? consumed;
        }
        rest = Buffer.from(buf.subarray(consumed));
        if (next === messages.length && pending.size === 0) {
          cleanup();
          resolve();
        } else if (!paused) pump();
      };
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.on('data', onData);
      if (messages.length === 0) {
        cleanup();
        resolve();
      } else pump();
    });
  }

  close() {
    for (const s of this.sockets) s.destroy();
    this.sockets = [];
  }
}

function parseArgs(argv) {
  const a = { host: '127.0.0.1', port: 24224, events: 10_000, chunk: 1000, mode: 'packed', ack: false, window: 8, connections: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (k === 'ack') a.ack = true;
    else if (k in a) a[k] = typeof a[k] === 'number' ? Number(argv[++i]) : argv[++i];
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const a = parseArgs(process.argv.slice(2));
  const enc = encodeChunks({ events: a.events, chunkSize: a.chunk, mode: a.mode, ack: a.ack });
  const load = new ForwardLoad({ host: a.host, port: a.port, connections: a.connections, ack: a.ack, window: a.window });
  await load.connect();
  const t0 = process.hrtime.bigint();
  await load.send(enc.messages);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`sent ${enc.events} events, ${enc.bytes} bytes in ${enc.messages.length} messages, ${s.toFixed(3)} s${a.ack ? `, ${load.acked} acked` : ''}\n`);
  load.close();
}
