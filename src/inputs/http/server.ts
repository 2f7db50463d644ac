import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { gunzip } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { nowNs, type LogEvent } from '../../core/event.js';
import { BackpressureError, type Input, type InputContext } from '../../core/plugin.js';
import { BadBodyError, parseBody } from './body.js';
import type { HttpInputOptions } from './options.js';
import { dualProtocolServer } from './dual-protocol-server.js';

/**
 * Fluent Bit's `http` input on fastify: `POST /` (tag: the instance name) or `POST /<tag>` with a JSON
 * object, an array of objects or JSON lines. kubernetes-event-exporter's `webhook` receiver posts each
 * event's JSON as the body, so pointing it here needs no `layout`.
 *
 * Answers: the success code (201) once the records are in the outputs' queues, 400 with the reason for
 * a body that is not JSON records, 413 over buffer_max_size, 401 without the bearer token, and 503 with
 * Retry-After while an output is full: an HTTP client can retry later, which is all that pausing can
 * mean for an input that cannot slow its peer down (Fluent Bit accepts and closes instead).
 */
export class HttpInput implements Input {
  private readonly app: FastifyInstance;
  private readonly requests: Counter<string>;
  private readonly bytes: Counter.Internal;
  private readonly token: Buffer | undefined;
  private readonly retryAfter: string;
  private pausedFlag = false;
  private failedLoggedAt = 0;

  constructor(
    private readonly options: HttpInputOptions,
    private readonly ctx: InputContext,
  ) {
    this.token = options.bearerToken === undefined ? undefined : Buffer.from(`Bearer ${options.bearerToken}`);
    // A client told to come back should find the queue flushed at least once by then.
    this.retryAfter = String(Math.max(1, Math.ceil(ctx.service.flushMs / 1000)));
    this.requests = ctx.metrics.counter('floki_input_http_requests_total', 'HTTP requests answered by an http input, by status code.', ['name', 'code']);
    this.bytes = ctx.metrics.counter('floki_input_bytes_total', 'Bytes received by an input.').labels({ name: ctx.name });

    const https = options.tls ? { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } : null;
    // fastify is loaded when an http input is made: a process without one does not pay its ~10 MiB.
    const Fastify = createRequire(import.meta.url)('fastify') as typeof import('fastify').default;
    this.app = (
      options.http2
        ? Fastify({ logger: false, bodyLimit: options.bufferMaxSize, forceCloseConnections: 'idle', serverFactory: (handler) => dualProtocolServer(handler as unknown as Parameters<typeof dualProtocolServer>[0], https ?? undefined) as unknown as Server })
        : Fastify({ logger: false, bodyLimit: options.bufferMaxSize, https, forceCloseConnections: 'idle' })
    ) as unknown as FastifyInstance;
    this.app.removeAllContentTypeParsers();
    // Every content type is read as bytes; parseBody decides what they hold (the exporter sends
    // application/json, curl users send anything).
    this.app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    this.app.addHook('onRequest', (req, reply, done) => this.admit(req, reply, done));
    this.app.setErrorHandler((err: FastifyError, _req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      const message = status === 413 ? `body over buffer_max_size (${this.options.bufferMaxSize} bytes)` : err.message;
      if (status === 500) this.ctx.log.error({ err: err.message }, 'http input request failed');
      return this.answer(reply, status, message);
    });
    this.app.setNotFoundHandler((req, reply) => this.answer(reply, req.method === 'POST' ? 404 : 405, 'only POST / or POST /<tag>'));
    if (options.healthEndpoint) {
      this.app.get('/health', async (_req, reply) => reply.type('application/json').send(JSON.stringify({ status: 'ok', timestamp: new Date().toISOString() })));
    }
    const handler = (req: FastifyRequest, reply: FastifyReply) => this.receive(req, reply);
    this.app.post('/', handler);
    this.app.post('/*', handler);
  }

  get paused(): boolean {
    return this.pausedFlag || this.ctx.paused;
  }

  async start(): Promise<void> {
    const { listen, port } = this.options;
    try {
      await this.app.listen({ host: listen, port });
    } catch (err) {
      throw new Error(`http input ${this.ctx.name}: cannot listen on ${listen}:${port}: ${(err as Error).message}`);
    }
    const bound = this.address();
    this.ctx.log.info({ listen, port: bound?.port ?? port, tls: this.options.tls !== undefined }, 'http input listening');
  }

  /** The bound address (the real port when configured with port 0), or null before start. */
  address(): AddressInfo | null {
    const address = this.app.server.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
  }

  /** Stops accepting; requests in flight finish (their records are queued or refused first). */
  async stop(): Promise<void> {
    await this.app.close();
  }

  /** Before the body is read: refuse without the token, or while paused, so no body is read for nothing. */
  private admit(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
    if (this.token !== undefined && !sameSecret(req.headers.authorization, this.token)) {
      reply.header('WWW-Authenticate', 'Bearer');
      void this.answer(reply, 401, 'missing or wrong bearer token');
      return;
    }
    if (this.paused) {
      reply.header('Retry-After', this.retryAfter);
      void this.answer(reply, 503, 'floki is applying backpressure: an output queue is full, retry later');
      return;
    }
    done();
  }

  private async receive(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    let raw = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
    this.bytes.inc(raw.length);
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'gzip') {
      try {
        raw = await gunzipLimited(raw, this.options.bufferMaxSize);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          return this.answer(reply, 413, `body over buffer_max_size (${this.options.bufferMaxSize} bytes) once decompressed`);
        }
        return this.answer(reply, 400, `invalid gzip body: ${(err as Error).message}`);
      }
    } else if (encoding !== 'identity') {
      return this.answer(reply, 415, `unsupported Content-Encoding '${encoding}' (gzip or none)`);
    }

    let records: Record<string, unknown>[];
    try {
      records = parseBody(raw.toString('utf8'), req.headers['content-type']);
    } catch (err) {
      if (err instanceof BadBodyError) return this.answer(reply, 400, err.message);
      throw err;
    }

    const pathTag = tagFromUrl(req.url);
    const tag = pathTag ?? this.options.tag ?? this.ctx.name;
    const tagKey = this.options.tagKey;
    const remoteKey = this.options.remoteAddrKey;
    const remoteAddr = remoteKey === undefined ? undefined : forwardedFor(req.raw.rawHeaders, this.options.http2);
    const events: LogEvent[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (remoteAddr !== undefined && !Object.hasOwn(record, remoteKey!)) record[remoteKey!] = remoteAddr;
      const keyed = tagKey === undefined ? undefined : record[tagKey];
      events[i] = { tag: typeof keyed === 'string' && keyed.length > 0 ? keyed : tag, time: nowNs(), record };
    }
    try {
      await this.ctx.emit(events);
    } catch (err) {
      if (!(err instanceof BackpressureError)) return this.failed(reply, err, events.length);
      // An output could not take them at all (a full disk): the client keeps them and retries.
      reply.header('Retry-After', this.retryAfter);
      return this.answer(reply, 503, `records not queued: ${(err as Error).message}`);
    }
    return this.answer(reply, this.options.successCode, '');
  }

  /**
   * The pipeline failed on the records for another reason than a full output: resending them would
   * fail again, so no Retry-After; 500 with the cause, counted and logged (at most once a minute).
   */
  private failed(reply: FastifyReply, err: unknown, records: number): FastifyReply {
    const message = (err as Error)?.message ?? String(err);
    this.ctx.metrics
      .counter('floki_input_emit_failed_records_total', 'Records an input handed to the pipeline that failed on them for another reason than a full output: dropped (tail) or answered 500 (http), never retried forever.')
      .inc({ name: this.ctx.name }, records);
    const now = Date.now();
    if (now - this.failedLoggedAt > 60_000) {
      this.failedLoggedAt = now;
      this.ctx.log.error({ err: message, records }, 'http: the pipeline failed on records; answered 500 (logged once a minute; see floki_input_emit_failed_records_total)');
    }
    return this.answer(reply, 500, `records not queued: the pipeline failed on them: ${message}`);
  }

  private answer(reply: FastifyReply, status: number, message: string): FastifyReply {
    this.requests.inc({ name: this.ctx.name, code: String(status) });
    reply.code(status);
    if (status === 204 || message.length === 0) return reply.send();
    return reply.type('text/plain; charset=utf-8').send(message + '\n');
  }
}

/**
 * `/app.log` → `app.log`, as Fluent Bit names the tag after the path; characters other than letters,
 * digits, `_` and `.` become `_`. `/` (or an empty path) → undefined: the instance's own tag.
 */
export function tagFromUrl(url: string): string | undefined {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  try {
    path = decodeURIComponent(path);
  } catch {
    // Keep it as sent: sanitising below makes any bytes a valid tag.
  }
  const raw = path.replace(/^\/+/, '');
  if (raw.length === 0) return undefined;
  return raw.replace(/[^A-Za-z0-9_.]/g, '_');
}

/**
 * The client address add_remote_addr records, as Fluent Bit finds it: the first address of an
 * X-Forwarded-For header, trimmed; of the last such header with http2 on, of the first with it off.
 */
export function forwardedFor(rawHeaders: readonly string[], lastHeader: boolean): string | undefined {
  let value: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'x-forwarded-for') continue;
    value = rawHeaders[i + 1]!;
    if (!lastHeader) break;
  }
  if (value === undefined) return undefined;
  const first = value.split(',')[0]!.trim();
  return first.length ? first : undefined;
}

function sameSecret(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

function gunzipLimited(data: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => gunzip(data, { maxOutputLength: limit }, (err, out) => (err ? reject(err) : resolve(out))));
}
