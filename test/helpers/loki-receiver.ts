/**
 * A Loki push endpoint for tests. It decodes the real wire formats independently of the code under
 * test: its own snappy block decompressor and its own copy of the logproto schema (inline below, not
 * proto/push.proto), so an encoding bug in floki cannot be mirrored by the decoder.
 *
 * Three ways in: HTTP (protobuf + snappy, or JSON, gzipped or not), HTTPS (`tls`), and gRPC
 * (`logproto.Pusher/Push`, `grpc: true`). The tenant (X-Scope-OrgID) and every header are recorded.
 *
 * Answers are scripted: `rule` (a function of the request, asked first), per-tenant queues
 * (`respondFor`), then the shared queue (`respond`): statuses / responses, `stall` (hold until
 * `release()`, or past the client's timeout), `reset` (destroy the connection; over gRPC an
 * UNAVAILABLE answer, as grpc-js sees a reset). With nothing scripted it answers 204 like Loki.
 * `down()` closes the port (connections refused) until `up()`. Entries are recorded for 2xx
 * answers, and for the entries a scripted partial success `accept`s, as Loki would store them. Over gRPC, statuses are mapped to the codes Loki's gRPC
 * server would use (429 → RESOURCE_EXHAUSTED, 5xx → UNAVAILABLE/INTERNAL, 400 → INVALID_ARGUMENT
 * with Loki's text); `{ grpcCode }` sends a code as it is (Loki's httpgrpc errors carry 400 or 429).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export interface ReceivedEntry {
  tenant: string | undefined;
  /** The stream's label string as sent (for JSON pushes, rendered from the stream map). */
  labelString: string;
  labels: Record<string, string>;
  ts: bigint;
  line: string;
  /** Structured metadata, {} when none. */
  sm: Record<string, string>;
}

export interface ReceivedRequest {
  /** performance.now() when the request body had arrived. */
  at: number;
  /** Status answered, or `reset`; `stalled` while held. */
  outcome: number | 'reset' | 'stalled';
  tenant: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  entries: number;
  /** What the request carried, decoded (also for requests not answered 2xx). */
  received: ReceivedEntry[];
  encoding: 'protobuf' | 'json' | 'grpc';
}

export type ScriptedResponse =
  | number
  /** `accept`: a 4xx that is a partial success, as Loki's 400: the entries it holds true for are stored all the same. */
  | { status: number; body?: string; headers?: Record<string, string>; grpcCode?: number; accept?: (entry: ReceivedEntry) => boolean }
  | 'stall'
  | 'reset';

export interface LokiReceiverOptions {
  /** Serve HTTPS with this certificate. */
  tls?: { cert: Buffer; key: Buffer };
  /** Serve gRPC (logproto.Pusher/Push) instead of HTTP. */
  grpc?: boolean;
}

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
  streams?: {
    labels?: string;
    entries?: { timestamp?: { seconds?: string; nanos?: number }; line?: string; structuredMetadata?: { name?: string; value?: string }[] }[];
  }[];
}

/** Decode a PushRequest body (snappy block format + protobuf) into entries. */
export function decodePushBody(body: Uint8Array, tenant?: string): ReceivedEntry[] {
  return decodeProtobuf(snappyUncompress(body), tenant);
}

/** Decode an uncompressed PushRequest (as gRPC carries it). */
export function decodeProtobuf(raw: Uint8Array, tenant?: string): ReceivedEntry[] {
  const msg = PushRequest.toObject(PushRequest.decode(raw), { longs: String, defaults: true }) as DecodedPush;
  const out: ReceivedEntry[] = [];
  for (const stream of msg.streams ?? []) {
    const labelString = stream.labels ?? '';
    const labels = parseLabelString(labelString);
    for (const e of stream.entries ?? []) {
      const ts = BigInt(e.timestamp?.seconds ?? '0') * 1_000_000_000n + BigInt(e.timestamp?.nanos ?? 0);
      const sm: Record<string, string> = {};
      for (const p of e.structuredMetadata ?? []) sm[p.name ?? ''] = p.value ?? '';
      out.push({ tenant, labelString, labels, ts, line: e.line ?? '', sm });
    }
  }
  return out;
}

/** Decode Loki's JSON push body: `{"streams":[{"stream":{..},"values":[["<ns>","<line>",{sm}?]]}]}`. */
export function decodeJsonPush(text: string, tenant?: string): ReceivedEntry[] {
  const msg = JSON.parse(text) as { streams?: { stream?: Record<string, string>; values?: unknown[][] }[] };
  const out: ReceivedEntry[] = [];
  for (const stream of msg.streams ?? []) {
    const labels = stream.stream ?? {};
    const names = Object.keys(labels).sort();
    const labelString = `{${names.map((n) => `${n}="${labels[n]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(', ')}}`;
    for (const v of stream.values ?? []) {
      if (typeof v[0] !== 'string' || !/^-?\d+$/.test(v[0]) || typeof v[1] !== 'string') throw new Error(`bad JSON value ${JSON.stringify(v)}`);
      out.push({ tenant, labelString, labels, ts: BigInt(v[0]), line: v[1], sm: (v[2] as Record<string, string> | undefined) ?? {} });
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

type Answer = Exclude<ScriptedResponse, number | 'stall' | 'reset'>;

interface Held {
  answer(r: Answer): void;
}

export class LokiReceiver {
  readonly entries: ReceivedEntry[] = [];
  readonly requestLog: ReceivedRequest[] = [];
  readonly decodeErrors: string[] = [];
  /** Asked first for every request; undefined leaves the answer to the queues. */
  rule: ((request: ReceivedRequest) => ScriptedResponse | undefined) | undefined;
  private readonly script: ScriptedResponse[] = [];
  private readonly tenantScripts = new Map<string, ScriptedResponse[]>();
  private readonly held: Held[] = [];
  private readonly listeners = new Set<() => void>();
  private http: http.Server | undefined;
  private grpcServer: grpc.Server | undefined;
  private port_ = 0;

  private constructor(private readonly options: LokiReceiverOptions) {}

  static async start(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
    const receiver = new LokiReceiver(options);
    await receiver.listen(0);
    return receiver;
  }

  get port(): number {
    return this.port_;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port_}/loki/api/v1/push`;
  }

  /** Requests received (whatever the answer). */
  get requests(): number {
    return this.requestLog.length;
  }

  /** Queue answers for the next requests, e.g. `respond(503, 503, 204)`. */
  respond(...responses: ScriptedResponse[]): void {
    this.script.push(...responses);
  }

  /** Queue answers for the next requests of one tenant. */
  respondFor(tenant: string, ...responses: ScriptedResponse[]): void {
    const list = this.tenantScripts.get(tenant) ?? [];
    list.push(...responses);
    this.tenantScripts.set(tenant, list);
  }

  /** Answer held (`stall`) requests, with 204 unless told otherwise. */
  release(status = 204): void {
    for (const h of this.held.splice(0)) h.answer({ status });
  }

  /** Close the port: new connections are refused, open ones are cut, until `up()`. */
  async down(): Promise<void> {
    this.release(503);
    await this.shutdown();
  }

  /** Listen again on the same port. */
  async up(): Promise<void> {
    await this.listen(this.port_);
  }

  /** Resolve once at least `n` entries were accepted; reject after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.entries.length >= n, timeoutMs, () => `${n} entries (have ${this.entries.length})`);
  }

  waitForRequests(n: number, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.requests >= n, timeoutMs, () => `${n} requests (have ${this.requests})`);
  }

  /** Resolve once `done()` holds, checked on every request; reject after `timeoutMs`. */
  waitUntil(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.until(done, timeoutMs, () => what);
  }

  async close(): Promise<void> {
    this.release(503);
    await this.shutdown();
  }

  private async listen(port: number): Promise<void> {
    if (this.options.grpc) {
      const server = new grpc.Server();
      const identity = (b: Buffer): Buffer => b;
      server.addService(
        {
          Push: { path: '/logproto.Pusher/Push', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
        },
        { Push: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.handleGrpc(call, callback) },
      );
      const credentials = this.options.tls
        ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: this.options.tls.cert, private_key: this.options.tls.key }])
        : grpc.ServerCredentials.createInsecure();
      this.port_ = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))));
      this.grpcServer = server;
      return;
    }
    const server = this.options.tls ? https.createServer({ cert: this.options.tls.cert, key: this.options.tls.key }) : http.createServer();
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.handleHttp(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.port_ = (server.address() as AddressInfo).port;
    this.http = server;
  }

  private async shutdown(): Promise<void> {
    const server = this.http;
    this.http = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const g = this.grpcServer;
    this.grpcServer = undefined;
    g?.forceShutdown();
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

  private next(record: ReceivedRequest): ScriptedResponse {
    const ruled = this.rule?.(record);
    if (ruled !== undefined) return ruled;
    const forTenant = record.tenant === undefined ? undefined : this.tenantScripts.get(record.tenant);
    if (forTenant && forTenant.length > 0) return forTenant.shift()!;
    return this.script.shift() ?? 204;
  }

  private handleHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const tenant = typeof req.headers['x-scope-orgid'] === 'string' ? req.headers['x-scope-orgid'] : undefined;
      let entries: ReceivedEntry[] = [];
      let decodeError: string | undefined;
      const json = String(req.headers['content-type']).startsWith('application/json');
      try {
        if (req.method !== 'POST') throw new Error(`method ${req.method}`);
        let body = Buffer.concat(chunks);
        const encoding = req.headers['content-encoding'];
        if (encoding === 'gzip') body = gunzipSync(body);
        else if (encoding !== undefined) throw new Error(`content-encoding ${encoding}`);
        if (json) entries = decodeJsonPush(body.toString('utf8'), tenant);
        else if (req.headers['content-type'] === 'application/x-protobuf') entries = decodePushBody(body, tenant);
        else throw new Error(`content-type ${req.headers['content-type']}`);
      } catch (err) {
        decodeError = (err as Error).message;
        this.decodeErrors.push(decodeError);
      }
      const record: ReceivedRequest = { at: performance.now(), outcome: 'stalled', tenant, headers: req.headers, entries: entries.length, received: entries, encoding: json ? 'json' : 'protobuf' };
      this.requestLog.push(record);
      const next = decodeError ? { status: 400, body: `floki test receiver: cannot decode push: ${decodeError}` } : this.next(record);
      const answer: Held['answer'] = (r) => {
        record.outcome = r.status;
        for (const e of entries) if ((r.status >= 200 && r.status < 300) || r.accept?.(e)) this.entries.push(e);
        if (!res.destroyed) {
          res.writeHead(r.status, { 'Content-Type': 'text/plain; charset=utf-8', ...r.headers });
          res.end(r.status === 204 ? undefined : (r.body ?? ''));
        }
        this.changed();
      };
      if (next === 'stall') this.held.push({ answer });
      else if (next === 'reset') {
        record.outcome = 'reset';
        req.socket.destroy();
      } else answer(typeof next === 'number' ? { status: next } : next);
      this.changed();
    });
  }

  private handleGrpc(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    const md = call.metadata.getMap();
    const tenant = typeof md['x-scope-orgid'] === 'string' ? md['x-scope-orgid'] : undefined;
    let entries: ReceivedEntry[] = [];
    let decodeError: string | undefined;
    try {
      entries = decodeProtobuf(call.request, tenant);
    } catch (err) {
      decodeError = (err as Error).message;
      this.decodeErrors.push(decodeError);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(md)) headers[k] = String(v);
    const record: ReceivedRequest = { at: performance.now(), outcome: 'stalled', tenant, headers, entries: entries.length, received: entries, encoding: 'grpc' };
    this.requestLog.push(record);
    const next = decodeError ? { status: 400, body: `floki test receiver: cannot decode push: ${decodeError}` } : this.next(record);
    let done = false;
    const answer: Held['answer'] = (r) => {
      if (done) return;
      done = true;
      record.outcome = r.status;
      for (const e of entries) if ((r.status >= 200 && r.status < 300) || r.accept?.(e)) this.entries.push(e);
      if (r.status >= 200 && r.status < 300) callback(null, Buffer.alloc(0));
      else callback({ code: r.grpcCode ?? grpcCodeFor(r.status), details: r.body ?? `HTTP ${r.status}` });
      this.changed();
    };
    if (next === 'stall') this.held.push({ answer });
    else if (next === 'reset') answer({ status: 503, grpcCode: grpc.status.UNAVAILABLE, body: 'connection reset' });
    else answer(typeof next === 'number' ? { status: next } : next);
    this.changed();
  }
}

/** The code Loki's gRPC server would use for an HTTP status. */
function grpcCodeFor(status: number): number {
  if (status === 429) return grpc.status.RESOURCE_EXHAUSTED;
  if (status === 400) return grpc.status.INVALID_ARGUMENT;
  if (status === 401) return grpc.status.UNAUTHENTICATED;
  if (status === 403) return grpc.status.PERMISSION_DENIED;
  if (status === 404) return grpc.status.NOT_FOUND;
  if (status === 503) return grpc.status.UNAVAILABLE;
  if (status >= 500) return grpc.status.INTERNAL;
  return grpc.status.UNKNOWN;
}
