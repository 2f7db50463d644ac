/**
 * How a batch becomes a request body, by `compress` and `transport`:
 * - HTTP, `snappy` (default): protobuf PushRequest, snappy block format, `application/x-protobuf`
 *   (what Promtail and Alloy send);
 * - HTTP, `json_gzip` (or `gzip`, as Fluent Bit spells it): Loki's JSON, gzipped;
 * - gRPC: the protobuf PushRequest as it is (gRPC frames it).
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PushRequestEncoder, type LokiEntry } from './encoder.js';
import { JsonPushEncoder } from './json-encoder.js';
import { SnappyCompressor, type SnappyCompressorOptions } from './snappy-compressor.js';

const gzipAsync = promisify(gzip);

export interface BodyCodec {
  readonly contentType: string;
  readonly contentEncoding?: string;
  /** Starts encoding now (a batch is encoded as soon as it closes); compression may run elsewhere. */
  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array>;
  close(): Promise<void>;
}

export class ProtobufSnappyCodec implements BodyCodec {
  readonly contentType = 'application/x-protobuf';
  private readonly encoder = new PushRequestEncoder();
  private readonly compressor: SnappyCompressor;

  constructor(options?: SnappyCompressorOptions) {
    this.compressor = new SnappyCompressor(options);
  }

  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array> {
    return this.compressor.compress(this.encoder.encode(streams));
  }

  close(): Promise<void> {
    return this.compressor.close();
  }
}

export class JsonGzipCodec implements BodyCodec {
  readonly contentType = 'application/json';
  readonly contentEncoding = 'gzip';
  private readonly encoder = new JsonPushEncoder();

  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array> {
    // zlib runs on libuv's thread pool: the event loop only builds the JSON.
    return gzipAsync(this.encoder.encode(streams));
  }

  async close(): Promise<void> {}
}

export class ProtobufCodec implements BodyCodec {
  readonly contentType = 'application/x-protobuf';
  private readonly encoder = new PushRequestEncoder();

  encode(streams: ReadonlyMap<string, LokiEntry[]>): Promise<Uint8Array> {
    return Promise.resolve(this.encoder.encode(streams));
  }

  async close(): Promise<void> {}
}
