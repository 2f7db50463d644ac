/**
 * Calls Loki's `logproto.Pusher/Push` over gRPC (@grpc/grpc-js), the path Loki's own distributors and
 * ingesters use. The body is the protobuf PushRequest as it is (gRPC frames it; no snappy). The tenant
 * and auth headers travel as metadata. Status codes are mapped to the HTTP statuses the sender
 * classifies, so the retry rules are the same for both transports:
 *   RESOURCE_EXHAUSTED → 429; UNAVAILABLE, ABORTED → 503; INTERNAL, UNKNOWN, DATA_LOSS → 500;
 *   DEADLINE_EXCEEDED, CANCELLED → a network error (retried); INVALID_ARGUMENT, FAILED_PRECONDITION,
 *   OUT_OF_RANGE → 400; UNAUTHENTICATED → 401; PERMISSION_DENIED → 403; NOT_FOUND, UNIMPLEMENTED → 404;
 *   ALREADY_EXISTS → 409. Loki answers with httpgrpc errors whose code *is* the HTTP status (400, 429):
 *   codes from 100 to 599 are taken as that status.
 */
import { createSecureContext } from 'node:tls';
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import { failure, MAX_BODY_CHARS, type PushOutcome, type TlsSettings } from './http-transport.js';

export interface GrpcTransportOptions {
  host: string;
  port: number;
  /** Auth and `header` headers, sent as metadata (names lower-cased). */
  headers: Record<string, string>;
  timeoutMs: number;
  userAgent: string;
  tls?: TlsSettings;
}

const PUSH_PATH = '/logproto.Pusher/Push';
const identity = (b: Buffer): Buffer => b;

let grpcModule: typeof Grpc | undefined;
/** @grpc/grpc-js, loaded on first use: a process that does not speak gRPC does not pay its ~5 MiB. */
function grpcLib(): typeof Grpc {
  return (grpcModule ??= createRequire(import.meta.url)('@grpc/grpc-js') as typeof Grpc);
}

export function grpcStatusToHttp(code: number): number {
  if (code >= 100 && code < 600) return code;
  const grpc = grpcLib();
  switch (code) {
    case grpc.status.OK:
      return 200;
    case grpc.status.RESOURCE_EXHAUSTED:
      return 429;
    case grpc.status.UNAVAILABLE:
    case grpc.status.ABORTED:
      return 503;
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.CANCELLED:
      return 0;
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.FAILED_PRECONDITION:
    case grpc.status.OUT_OF_RANGE:
      return 400;
    case grpc.status.UNAUTHENTICATED:
      return 401;
    case grpc.status.PERMISSION_DENIED:
      return 403;
    case grpc.status.NOT_FOUND:
    case grpc.status.UNIMPLEMENTED:
      return 404;
    case grpc.status.ALREADY_EXISTS:
      return 409;
    default:
      return 500;
  }
}

export class GrpcTransport {
  private readonly client: Grpc.Client;
  private readonly baseMetadata: Record<string, string> = {};
  private readonly inFlight = new Set<Grpc.ClientUnaryCall>();
  private closed = false;

  constructor(private readonly options: GrpcTransportOptions) {
    const grpc = grpcLib();
    const tls = options.tls;
    let credentials = grpc.credentials.createInsecure();
    if (tls) {
      const verifyOptions: Grpc.VerifyOptions | undefined = !tls.verify
        ? { checkServerIdentity: () => undefined, rejectUnauthorized: false }
        : tls.verifyHostname === false
          ? { checkServerIdentity: () => undefined }
          : undefined;
      credentials =
        tls.minVersion || tls.maxVersion || tls.ciphers
          ? grpc.credentials.createFromSecureContext(
              createSecureContext({ ca: tls.ca, key: tls.key, cert: tls.cert, minVersion: tls.minVersion, maxVersion: tls.maxVersion, ciphers: tls.ciphers }),
              verifyOptions,
            )
          : grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, verifyOptions);
    }
    const channelOptions: Grpc.ChannelOptions = {
      'grpc.primary_user_agent': options.userAgent,
      'grpc.max_send_message_length': -1,
      'grpc.keepalive_time_ms': 30_000,
    };
    if (tls?.servername) channelOptions['grpc.ssl_target_name_override'] = tls.servername;
    this.client = new grpc.Client(`${options.host}:${options.port}`, credentials, channelOptions);
    for (const [name, value] of Object.entries(options.headers)) this.baseMetadata[name.toLowerCase()] = value;
  }

  push(body: Uint8Array, tenant?: string): Promise<PushOutcome> {
    if (this.closed) return Promise.resolve(failure(new Error('transport closed')));
    const grpc = grpcLib();
    const metadata = new grpc.Metadata();
    for (const name in this.baseMetadata) metadata.set(name, this.baseMetadata[name]!);
    if (tenant !== undefined) metadata.set('x-scope-orgid', tenant);
    const payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return new Promise<PushOutcome>((resolve) => {
      const call = this.client.makeUnaryRequest<Buffer, Buffer>(
        PUSH_PATH,
        identity,
        identity,
        payload,
        metadata,
        { deadline: Date.now() + this.options.timeoutMs },
        (err) => {
          this.inFlight.delete(call);
          if (!err) return resolve({ status: 204, body: '' });
          const status = grpcStatusToHttp(err.code);
          const details = (err.details ?? err.message ?? '').slice(0, MAX_BODY_CHARS);
          if (status === 0) return resolve(failure(new Error(`gRPC ${grpc.status[err.code] ?? err.code}: ${details}`)));
          resolve({ status, body: details });
        },
      );
      this.inFlight.add(call);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of this.inFlight) call.cancel();
    this.inFlight.clear();
    this.client.close();
  }
}
