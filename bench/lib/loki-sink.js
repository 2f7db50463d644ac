// A counting Loki receiver: POST /loki/api/v1/push, snappy-compressed protobuf PushRequest (floki,
// Promtail) or JSON, optionally gzipped (Fluent Bit's out_loki, floki's `compress json_gzip`).
//
// It does not decode the request: a small protobuf walker counts EntryAdapter fields
// (PushRequest.streams = 1 → StreamAdapter.entries = 2) and skips everything else by wire type, and
// a JSON scanner finds each `[ts, line]` pair (loki-json-push.js). With `expected` set it also reads
// each entry's line and checks the sequence number that bench/lib/events.js puts in metadata.name
// (or tail-load.js's `seq=`), so it can tell a lost event from a duplicate. Answers 204, after
// `delayMs` if set (a slow Loki).
//
// Run as a child process (forkSink) so it never shares an event loop with the load generator;
// `startSink` runs it in the current process (for small checks).

import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import snappyjs from 'snappyjs';
import { walkJsonPush } from './loki-json-push.js';
import { checkSeq } from './seq-check.js';

// The native binding (floki's optional dependency) decompresses in a fraction of snappyjs's time:
// the sink shares the machine with floki, so the less CPU it takes, the less it skews the numbers.
const uncompress = (() => {
  try {
    const native = createRequire(import.meta.url)('snappy');
    return (body) => native.uncompressSync(body);
  } catch {
    return (body) => snappyjs.uncompress(body);
  }
})();

const PUSH_PATH = '/loki/api/v1/push';

class Counter {
  constructor(expected) {
    this.expected = expected;
    this.seen = expected > 0 ? new Uint8Array(expected) : undefined;
    this.reset();
  }
  reset() {
    this.entries = 0;
    this.requests = 0;
    this.bodyBytes = 0; // as received (snappy)
    this.protoBytes = 0; // uncompressed protobuf
    this.jsonBytes = 0; // JSON, gunzipped
    this.lineBytes = 0; // only counted when verifying
    this.streams = 0;
    this.duplicates = 0;
    this.unique = 0; // distinct sequence numbers seen (when verifying)
    this.unknown = 0; // lines without one of our sequence numbers
    this.badRequests = 0;
    this.firstAt = 0n;
    this.lastAt = 0n;
    this.doneAt = 0n;
    if (this.seen) this.seen.fill(0);
  }
  stats() {
    return {
      entries: this.entries,
      requests: this.requests,
      streams: this.streams,
      bodyBytes: this.bodyBytes,
      protoBytes: this.protoBytes,
      jsonBytes: this.jsonBytes,
      lineBytes: this.lineBytes,
      duplicates: this.duplicates,
      unique: this.unique,
      unknown: this.unknown,
      badRequests: this.badRequests,
      firstAt: this.firstAt.toString(),
      lastAt: this.lastAt.toString(),
      doneAt: this.doneAt.toString(),
    };
  }
}

function varint(buf, pos) {
  let result = 0;
  // Lengths fit in 2^53; multiply instead of shifting past 31 bits (by a running factor: 2 ** shift
  // called Math.pow for every byte, a visible share of the sink's CPU, which floki's runs share).
  let factor = 1;
  for (let i = 0; ; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    result += (b & 0x7f) * factor;
    if (b < 0x80) return [result, pos];
    factor *= 128;
    if (i >= 9) throw new Error('varint too long');
  }
}

/** Position after a field of `wireType` whose value starts at `pos`. */
function skip(buf, pos, wireType) {
  switch (wireType) {
    case 0:
      return varint(buf, pos)[1];
    case 1:
      return pos + 8;
    case 2: {
      const [len, p] = varint(buf, pos);
      return p + len;
    }
    case 5:
      return pos + 4;
    default:
      throw new Error(`unsupported wire type ${wireType}`);
  }
}

/** Counts the streams and EntryAdapters of a PushRequest; with `verify`, checks each entry's line too. */
function walkPush(buf, counter, verify) {
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = varint(buf, pos);
    if (key === 0x0a) {
      // field 1, len: StreamAdapter
      let len;
      [len, pos] = varint(buf, pos);
      const end = pos + len;
      if (end > buf.length) throw new Error('truncated stream');
      counter.streams++;
      let p = pos;
      while (p < end) {
        let k;
        [k, p] = varint(buf, p);
        if (k === 0x12) {
          // field 2, len: EntryAdapter
          let elen;
          [elen, p] = varint(buf, p);
          counter.entries++;
          if (verify) verifyEntry(buf, p, p + elen, counter);
          p += elen;
        } else p = skip(buf, p, k & 7);
      }
      if (p !== end) throw new Error('stream length mismatch');
      pos = end;
    } else pos = skip(buf, pos, key & 7);
  }
  if (pos !== buf.length) throw new Error('request length mismatch');
}

function verifyEntry(buf, start, end, counter) {
  let p = start;
  while (p < end) {
    let k;
    [k, p] = varint(buf, p);
    if (k === 0x12) {
      let len;
      [len, p] = varint(buf, p);
      counter.lineBytes += len;
      checkSeq(buf, p, p + len, counter);
      return;
    }
    p = skip(buf, p, k & 7);
  }
  counter.unknown++;
}

/** Missing sequence numbers (up to `limit`), for failure messages. */
function missing(counter, limit = 10) {
  const out = [];
  if (!counter.seen) return out;
  for (let i = 0; i < counter.seen.length && out.length < limit; i++) if (!counter.seen[i]) out.push(i);
  return out;
}

/**
 * Starts the sink in this process. Options: host, port (0 = any), delayMs, expected (0 = count only),
 * onDone(stats) called once when every one of the `expected` sequence numbers has arrived.
 */
export function startSink({ host = '127.0.0.1', port = 0, delayMs = 0, expected = 0, onDone } = {}) {
  const counter = new Counter(expected);
  let doneSent = false;
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || !req.url.startsWith(PUSH_PATH)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const parts = [];
    let size = 0;
    req.on('data', (d) => {
      parts.push(d);
      size += d.length;
    });
    req.on('end', () => {
      const now = process.hrtime.bigint();
      if (counter.firstAt === 0n) counter.firstAt = now;
      counter.requests++;
      counter.bodyBytes += size;
      let status = 204;
      let text = '';
      try {
        let body = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const type = req.headers['content-type'] ?? '';
        if (type.startsWith('application/json')) {
          counter.jsonBytes += body.length;
          walkJsonPush(body, counter, counter.seen !== undefined);
        } else {
          const proto = uncompress(body);
          counter.protoBytes += proto.length;
          walkPush(proto, counter, counter.seen !== undefined);
        }
      } catch (err) {
        counter.badRequests++;
        status = 400;
        text = `floki bench sink: ${err.message}\n`;
      }
      counter.lastAt = now;
      // Done once every number has arrived: extra entries (a stack trace cut in two, a duplicate)
      // must not make up for a missing one.
      if (expected > 0 && !doneSent && counter.unique >= expected) {
        doneSent = true;
        counter.doneAt = process.hrtime.bigint();
        onDone?.(counter.stats());
      }
      const answer = () => {
        res.statusCode = status;
        res.end(text);
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve({
        port: server.address().port,
        stats: () => counter.stats(),
        missing: (limit) => missing(counter, limit),
        close: () => new Promise((r) => server.close(() => r())),
        server,
      });
    });
  });
}

/**
 * Forks the sink as a child process. Returns { port, stats(), missing(), done, close() }; `done`
 * resolves with the stats when every one of the `expected` numbers has arrived.
 */
export async function forkSink({ delayMs = 0, expected = 0 } = {}) {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 0;
  const waiting = new Map();
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  let exited = false;
  let resolveReady, rejectReady;
  const ready = new Promise((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  child.on('message', (m) => {
    if (m.type === 'ready') resolveReady(m.port);
    else if (m.type === 'done') resolveDone(m.stats);
    else if (m.type === 'reply') {
      waiting.get(m.id)?.(m.value);
      waiting.delete(m.id);
    } else if (m.type === 'error') rejectReady(new Error(m.message));
  });
  child.on('exit', (code) => {
    exited = true;
    rejectReady(new Error(`sink exited with code ${code}`));
    for (const w of waiting.values()) w(undefined);
    waiting.clear();
  });
  child.send({ type: 'start', delayMs, expected });
  const port = await ready;
  const ask = (what, arg) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error('sink has exited'));
      const id = nextId++;
      waiting.set(id, (v) => (v === undefined ? reject(new Error('sink has exited')) : resolve(v)));
      child.send({ type: what, id, arg });
    });
  return {
    port,
    pid: child.pid,
    done,
    stats: () => ask('stats'),
    missing: (limit = 10) => ask('missing', limit),
    close: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'close' });
      }),
  };
}

if (process.argv.includes('--child') && process.send) {
  let sink;
  process.on('message', async (m) => {
    try {
      if (m.type === 'start') {
        sink = await startSink({ delayMs: m.delayMs, expected: m.expected, onDone: (stats) => process.send({ type: 'done', stats }) });
        process.send({ type: 'ready', port: sink.port });
      } else if (m.type === 'stats') process.send({ type: 'reply', id: m.id, value: sink.stats() });
      else if (m.type === 'missing') process.send({ type: 'reply', id: m.id, value: sink.missing(m.arg) });
      else if (m.type === 'close') {
        sink.server.closeAllConnections?.();
        await sink.close();
        process.exit(0);
      }
    } catch (err) {
      process.send({ type: 'error', message: err.message });
    }
  });
  process.on('disconnect', () => process.exit(0));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  // Standalone: node bench/lib/loki-sink.js [port] [delayMs] — prints counts every second.
  const sink = await startSink({ port: Number(process.argv[2] ?? 3100), delayMs: Number(process.argv[3] ?? 0) });
  process.stderr.write(`loki sink on 127.0.0.1:${sink.port}\n`);
  setInterval(() => {
    const s = sink.stats();
    process.stderr.write(`entries ${s.entries} requests ${s.requests} streams ${s.streams} bytes ${s.bodyBytes}\n`);
  }, 1000);
}
