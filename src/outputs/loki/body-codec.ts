/**
 * How a batch becomes a request body, by `compress` and `transport`:
 * - HTTP, `snappy` (default): protobuf PushRequest, snappy block format, `application/x-protobuf`
 *   (what Promtail and Alloy send);
 * - HTTP, `json_gzip` (or `gzip`, as Fluent Bit spells it): Loki's JSON, gzipped;
 * - gRPC: the protobuf PushRequest as it is (gRPC frames it).
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type protobuf from 'protobufjs';
import { uncompress } from 'snappyjs';
import { NS_PER_SECOND } from '../../core/event.js';
import { renderLabelString } from '../../labels/label-string.js';
import { PushRequestEncoder, type LokiEntry } from './encoder.js';
import { JsonPushEncoder } from './json-encoder.js';
import { loadPushProto } from './push-proto.js';
import { SnappyCompressor, type SnappyCompressorOptions } from './snappy-compressor.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export type Streams = Map<string, LokiEntry[]>;

export interface BodyCodec {
  readonly contentType: string;
  readonly contentEncoding?: string;
  /** For the start-up log line: how bodies are encoded. */
  readonly description: string;
  /**
   * Starts encoding now (a batch is encoded as soon as it closes); compression may run elsewhere.
   * Reads `streams` before it returns: the sender lets the entries go then.
   */
  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array>;
  /**
   * The streams of a body this codec encoded. A queued batch keeps only its body (several times
   * smaller than its entries); the rare split of a batch (a 429 naming streams) decodes it again.
   */
  decode(body: Uint8Array): Promise<Streams>;
  close(): Promise<void>;
}

interface DecodedRequest {
  streams?: {
    labels?: string;
    entries?: { timestamp?: { seconds?: string; nanos?: number }; line?: string; structuredMetadata?: { name?: string; value?: string }[] }[];
  }[];
}

function decodeProtobuf(PushRequest: protobuf.Type, raw: Uint8Array): Streams {
  const msg = PushRequest.toObject(PushRequest.decode(raw), { longs: String }) as DecodedRequest;
  const out: Streams = new Map();
  for (const s of msg.streams ?? []) {
    const entries: LokiEntry[] = [];
    for (const e of s.entries ?? []) {
      const ts = BigInt(e.timestamp?.seconds ?? '0') * NS_PER_SECOND + BigInt(e.timestamp?.nanos ?? 0);
      let sm: Record<string, string> | undefined;
      for (const p of e.structuredMetadata ?? []) (sm ??= {})[p.name ?? ''] = p.value ?? '';
      entries.push({ ts, line: e.line ?? '', sm });
    }
    out.set(s.labels ?? '', entries);
  }
  return out;
}

export class ProtobufSnappyCodec implements BodyCodec {
  readonly contentType = 'application/x-protobuf';
  private readonly encoder = new PushRequestEncoder();
  private readonly compressor: SnappyCompressor;

  constructor(options?: SnappyCompressorOptions) {
    this.compressor = new SnappyCompressor(options);
  }

  get description(): string {
    return `protobuf, snappy (${this.compressor.implementation})`;
  }

  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array> {
    let raw: Buffer | undefined;
    try {
      raw = this.encoder.encode(streams, (size) => (raw = this.compressor.allocate(size)));
    } catch (err) {
      if (raw !== undefined) this.compressor.release(raw);
      throw err;
    }
    return this.compressor.compress(raw);
  }

  async decode(body: Uint8Array): Promise<Streams> {
    return decodeProtobuf(loadPushProto().PushRequest, uncompress(body));
  }

  close(): Promise<void> {
    return this.compressor.close();
  }
}

export class JsonGzipCodec implements BodyCodec {
  readonly contentType = 'application/json';
  readonly contentEncoding = 'gzip';
  readonly description = 'json, gzip';
  private readonly encoder = new JsonPushEncoder();

  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array> {
    // zlib runs on libuv's thread pool: the event loop only builds the JSON.
    return gzipAsync(this.encoder.encode(streams));
  }

  async decode(body: Uint8Array): Promise<Streams> {
    const json = JSON.parse((await gunzipAsync(body)).toString('utf8')) as { streams: { stream: Record<string, string>; values: [string, string, Record<string, string>?][] }[] };
    const out: Streams = new Map();
    for (const s of json.streams) {
      // Rendered by the same function that made the original label string: the same string again.
      const labels = renderLabelString(new Map(Object.entries(s.stream)));
      out.set(labels, s.values.map(([ts, line, sm]) => ({ ts: BigInt(ts), line, sm })));
    }
    return out;
  }

  async close(): Promise<void> {}
}

export class ProtobufCodec implements BodyCodec {
  readonly contentType = 'application/x-protobuf';
  readonly description = 'protobuf (gRPC)';
  private readonly encoder = new PushRequestEncoder();

  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array> {
    return Promise.resolve(this.encoder.encode(streams));
  }

  async decode(body: Uint8Array): Promise<Streams> {
    return decodeProtobuf(loadPushProto().PushRequest, body);
  }

  async close(): Promise<void> {}
}
