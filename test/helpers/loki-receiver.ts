/**
 * A Loki push endpoint for tests. It decodes the real wire format independently of the code under
 * test: its own snappy block decompressor and its own copy of the logproto schema (inline below, not
 * proto/push.proto), so an encoding bug in floki cannot be mirrored by the decoder.
 *
 * Answers are scripted: a queue of statuses / responses, `stall` (hold until `release()`), `reset`
 * (destroy the connection); when the queue is empty it answers 204 like Loki. Entries are recorded only
 * for 2xx answers, as Loki would store them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

export interface ReceivedEntry {
  tenant: string | undefined;
  /** The stream's label string as sent. */
  labelString: string;
  labels: Record<string, string>;
  ts: bigint;
  line: string;
}

export interface ReceivedRequest {
  /** performance.now() when the request body had arrived. */
  at: number;
  /** Status answered, or `reset`; `stalled` while held. */
  outcome: number | 'reset' | 'stalled';
  tenant: string | undefined;
  headers: http.IncomingHttpHeaders;
  entries: number;
}

export type ScriptedResponse =
  | number
  | { status: number; body?: string; headers?: Record<string, string> }
  | 'stall'
  | 'reset';

// The logproto messages a client sends, written out here on purpose (see the file comment).
const SCHEMA = `
syntax = "proto3";
package recv;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message LabelPair { string name = 1; string value = 2; }
message Entry { Timestamp timestamp = 1; string line = 2; repeated LabelPair structuredMetadata = 3; repeated LabelPair parsed = 4; }
message Stream { string labels = 1; repeated Entry entries = 2; uint64 hash = 3; }
message PushRequest { repeated Stream streams = 1; }
`;
const PushRequest = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('recv.PushRequest');

interface DecodedPush {
  streams?: { labels?: string; entries?: { timestamp?: { seconds?: string; nanos?: number }; line?: string }[] }[];
}

/** Decode a PushRequest body (snappy block format + protobuf) into entries. */
export function decodePushBody(body: Uint8Array, tenant?: string): ReceivedEntry[] {
  const raw = snappyUncompress(body);
  const msg = PushRequest.toObject(PushRequest.decode(raw), { longs: String, defaults: true }) as DecodedPush;
  const out: ReceivedEntry[] = [];
  for (const stream of msg.streams ?? []) {
    const labelString = stream.labels ?? '';
    const labels = parseLabelString(labelString);
    for (const e of stream.entries ?? []) {
      const ts = BigInt(e.timestamp?.seconds ?? '0') * 1_000_000_000n + BigInt(e.timestamp?.nanos ?? 0);
      out.push({ tenant, labelString, labels, ts, line: e.line ?? '' });
    }
  }
  return out;
}

/** Snappy block format: a varint uncompressed length, then literal and copy elements. */
export function snappyUncompress(input: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new Error('snappy: bad length varint');
    const b = input[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(length);
  let op = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >> 2;
      if (len >= 60) {
        const bytes = len - 59;
        len = 0;
        for (let i = 0; i < bytes; i++) len += input[pos++]! * 2 ** (8 * i);
      }
      len += 1;
      if (pos + len > input.length || op + len > length) throw new Error('snappy: literal overruns');
      out.set(input.subarray(pos, pos + len), op);
      pos += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | input[pos++]!;
    } else if (kind === 2) {
      len = (tag >> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      len = (tag >> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > op || op + len > length) throw new Error('snappy: bad copy');
    // Byte by byte: a copy may overlap its own output (run-length style).
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]!;
  }
  if (op !== length) throw new Error(`snappy: got ${op} bytes, header said ${length}`);
  return out;
}

/** `{a="b", c="d\"e"}` into { a: 'b', c: 'd"e' }. */
export function parseLabelString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|})/gy;
  if (s[0] !== '{') throw new Error(`label string must start with '{': ${s}`);
  if (s === '{}') return out;
  re.lastIndex = 1;
  for (;;) {
    const m = re.exec(s);
    if (!m) throw new Error(`bad label string: ${s}`);
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (m[3] === '}') {
      if (re.lastIndex !== s.length) throw new Error(`trailing text in label string: ${s}`);
      return out;
    }
  }
}

export class LokiReceiver {
  readonly entries: ReceivedEntry[] = [];
  readonly requestLog: ReceivedRequest[] = [];
  readonly decodeErrors: string[] = [];
  private readonly script: ScriptedResponse[] = [];
  private readonly held: { res: http.ServerResponse; req: ReceivedRequest; entries: ReceivedEntry[] }[] = [];
  private readonly listeners = new Set<() => void>();
  private port_ = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<LokiReceiver> {
    const server = http.createServer();
    const receiver = new LokiReceiver(server);
    server.on('request', (req, res) => receiver.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.port_ = (server.address() as AddressInfo).port;
    return receiver;
  }

  get port(): number {
    return this.port_;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port_}/loki/api/v1/push`;
  }

  /** Requests received (whatever the answer). */
  get requests(): number {
    return this.requestLog.length;
  }

  /** Queue answers for the next requests, e.g. `respond(503, 503, 204)`. */
  respond(...responses: ScriptedResponse[]): void {
    this.script.push(...responses);
  }

  /** Answer held (`stall`) requests, with 204 unless told otherwise. */
  release(status = 204): void {
    for (const h of this.held.splice(0)) this.answer(h.res, h.req, h.entries, { status });
  }

  /** Resolve once at least `n` entries were accepted; reject after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.entries.length >= n, timeoutMs, () => `${n} entries (have ${this.entries.length})`);
  }

  waitForRequests(n: number, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.requests >= n, timeoutMs, () => `${n} requests (have ${this.requests})`);
  }

  async close(): Promise<void> {
    this.release(503);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`loki receiver: timed out after ${timeoutMs}ms waiting for ${what()}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  private changed(): void {
    for (const check of [...this.listeners]) check();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const tenant = typeof req.headers['x-scope-orgid'] === 'string' ? req.headers['x-scope-orgid'] : undefined;
      let entries: ReceivedEntry[] = [];
      let decodeError: string | undefined;
      try {
        if (req.method !== 'POST') throw new Error(`method ${req.method}`);
        if (req.headers['content-type'] !== 'application/x-protobuf') throw new Error(`content-type ${req.headers['content-type']}`);
        entries = decodePushBody(Buffer.concat(chunks), tenant);
      } catch (err) {
        decodeError = (err as Error).message;
        this.decodeErrors.push(decodeError);
      }
      const record: ReceivedRequest = { at: performance.now(), outcome: 'stalled', tenant, headers: req.headers, entries: entries.length };
      this.requestLog.push(record);
      const next = decodeError ? { status: 400, body: `floki test receiver: cannot decode push: ${decodeError}` } : (this.script.shift() ?? 204);
      if (next === 'stall') {
        this.held.push({ res, req: record, entries });
      } else if (next === 'reset') {
        record.outcome = 'reset';
        req.socket.destroy();
      } else {
        this.answer(res, record, entries, typeof next === 'number' ? { status: next } : next);
      }
      this.changed();
    });
  }

  private answer(res: http.ServerResponse, record: ReceivedRequest, entries: ReceivedEntry[], r: { status: number; body?: string; headers?: Record<string, string> }): void {
    record.outcome = r.status;
    if (r.status >= 200 && r.status < 300) for (const e of entries) this.entries.push(e);
    res.writeHead(r.status, { 'Content-Type': 'text/plain; charset=utf-8', ...r.headers });
    res.end(r.status === 204 ? undefined : (r.body ?? ''));
    this.changed();
  }
}
