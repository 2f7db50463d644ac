import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lookup } from 'node:dns';
import type { Socket } from 'node:net';
import type { Metrics } from './metrics.js';
import type { HealthCheck } from './health-check.js';
import { VERSION } from '../package-root.js';
import { routePath } from './route-path.js';

export interface HealthSource {
  /** False once the engine is stopping: the endpoint then answers 503 so load balancers move away. */
  readonly running: boolean;
}

/** What a reload answered: Fluent Bit's JSON (`reload`, `status`; floki adds `errors`) and the HTTP status. */
export interface ReloadOutcome {
  body: { reload: 'done' | 'not enabled' | 'in progress' | 'failed'; status: number; errors?: string[] };
  httpStatus: number;
}

/** Hot reload, as `/api/v2/reload` drives it. */
export interface ReloadControl {
  reload(): Promise<ReloadOutcome>;
  /** Reloads that replaced the pipeline. */
  readonly reloads: number;
  /** Reloads refused or failed. */
  readonly reloadFailures: number;
}

/** An endpoint's answer: a string body goes as it is (with `type`), anything else as JSON, none as an empty body. */
interface Answer {
  status: number;
  type?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

type Endpoint = () => Answer | Promise<Answer>;

const JSON_TYPE = 'application/json; charset=utf-8';
/** Methods that may carry a body: a request with one of them and an unreadable Content-Type is refused (415). */
const BODY_METHODS = new Set(['DELETE', 'OPTIONS', 'PATCH', 'PUT', 'POST', 'QUERY']);
/** `type/subtype`, each a token (RFC 9110), as the Content-Type check reads them. */
const TYPE_NAME = /^[\w!#$%&'*+.^`|~-]+$/;
const SUBTYPE_NAME = /^[\w!#$%&'*+.^`|~-]+\s*$/;
const CLOSING_BODY = '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}';

/**
 * Fluent Bit's monitoring endpoints: health, Prometheus metrics (also on /metrics), uptime, hot
 * reload. With `health_check` on, `/api/v1/health` answers 500 `error` while the outputs fail more
 * than the service allows (see HealthCheck), and `/api/v2/health` says why in Fluent Bit's JSON.
 * `/api/v2/reload`: GET gives Fluent Bit's `{"hot_reload_count":N}` (and floki's failure count);
 * POST or PUT reloads and answers once done (Fluent Bit answers before it reloads).
 *
 * Built on node:http: the server was fastify's until its loading (its schema compiler, router and
 * plugin system, ~250 ms of a 1 s start on a slow machine) was the largest part of floki's start-up
 * for six fixed routes. The answers are fastify's, byte for byte: its status codes, headers
 * (keep-alive of 72 s), JSON error bodies (404 for an unknown route or method, 400 for a bad URL
 * or a malformed request, 415 for an unreadable Content-Type, 503 while closing), HEAD for every
 * GET; request bodies are never read (Fluent Bit's reload takes `-d '{}'`).
 */
export class MonitoringServer {
  private readonly server: Server;
  private readonly extra: Server[] = [];
  private readonly startedAt = Date.now();
  private readonly routes = new Map<string, Map<string, Endpoint>>();
  private closing = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly health: HealthSource,
    private readonly check?: HealthCheck,
    private readonly reloader?: ReloadControl,
  ) {
    this.get('/', () => ({ status: 200, body: { 'floki-version': VERSION } }));
    this.get('/api/v1/health', async () => {
      if (!this.health.running) return { status: 503, type: 'text/plain', body: 'error' };
      const healthy = this.check ? (await this.check.state()).healthy : true;
      return { status: healthy ? 200 : 500, type: 'text/plain', body: healthy ? 'ok' : 'error' };
    });
    this.get('/api/v2/health', async () => {
      const state = this.check ? await this.check.state() : { healthy: true, errors: 0, retriesFailed: 0 };
      const healthy = state.healthy && this.health.running;
      const o = this.check?.options;
      return {
        status: healthy ? 200 : this.health.running ? 500 : 503,
        body: {
          status: healthy ? 'ok' : 'error',
          errors: state.errors,
          retries_failed: state.retriesFailed,
          error_limit: o?.errorsCount ?? null,
          retry_failure_limit: o?.retryFailureCount ?? null,
          period_limit: o ? Math.round(o.periodMs / 1000) : null,
        },
      };
    });
    this.get('/api/v2/reload', () => ({
      status: 200,
      body: { hot_reload_count: this.reloader?.reloads ?? 0, hot_reload_failure_count: this.reloader?.reloadFailures ?? 0 },
    }));
    const reload = async (): Promise<Answer> => {
      const outcome: ReloadOutcome = this.reloader ? await this.reloader.reload() : { body: { reload: 'not enabled', status: -1 }, httpStatus: 200 };
      return { status: outcome.httpStatus, body: outcome.body };
    };
    this.route('POST', '/api/v2/reload', reload);
    this.route('PUT', '/api/v2/reload', reload);
    for (const method of ['DELETE', 'PATCH', 'OPTIONS']) {
      this.route(method, '/api/v2/reload', () => ({ status: 405, headers: { allow: 'GET, POST, PUT' } }));
    }
    this.get('/api/v1/uptime', () => ({ status: 200, body: { uptime_sec: Math.floor((Date.now() - this.startedAt) / 1000) } }));
    const prometheus = async (): Promise<Answer> => ({ status: 200, type: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() });
    this.get('/api/v1/metrics/prometheus', prometheus);
    this.get('/metrics', prometheus);
    this.server = this.createServer();
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await listenOn(this.server, host, port);
    const addr = this.server.address();
    const bound = typeof addr === 'object' && addr ? addr : undefined;
    // As fastify did: `localhost` is every address it resolves to (127.0.0.1 and ::1), on one port;
    // an address that cannot be bound is left out.
    if (host === 'localhost' && bound) await this.listenAlso(host, bound.address, bound.port);
    return { host, port: bound ? bound.port : port };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.extra) s.close(() => undefined);
    // Node's close() also ends idle keep-alive connections; requests still coming on busy ones get 503.
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(err) : resolve())));
  }

  private get(url: string, endpoint: Endpoint): void {
    this.route('GET', url, endpoint);
    this.route('HEAD', url, endpoint);
  }

  private route(method: string, url: string, endpoint: Endpoint): void {
    let byMethod = this.routes.get(method);
    if (!byMethod) this.routes.set(method, (byMethod = new Map()));
    byMethod.set(url, endpoint);
  }

  private createServer(): Server {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 72_000;
    server.requestTimeout = 0;
    server.setTimeout(0);
    server.on('clientError', clientError);
    return server;
  }

  private async listenAlso(host: string, primary: string, port: number): Promise<void> {
    const addresses = await new Promise<{ address: string }[]>((resolve) => lookup(host, { all: true }, (err, all) => resolve(err ? [] : all)));
    await Promise.all(
      addresses
        .filter((a) => a.address !== primary)
        .map(async (a) => {
          const s = this.createServer();
          try {
            await listenOn(s, a.address, port);
            this.extra.push(s);
          } catch {
            // Not bound (no IPv6, say): the main address still serves.
          }
        }),
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? '';
    const url = req.url ?? '';
    const path = routePath(url);
    if (path === null) {
      const body = JSON.stringify({ error: 'Bad Request', code: 'FST_ERR_BAD_URL', message: `'${url}' is not a valid url component`, statusCode: 400 });
      res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (this.closing) {
      res.setHeader('Connection', 'close');
      res.writeHead(503, { 'Content-Type': 'application/json', 'Content-Length': '80' });
      res.end(CLOSING_BODY);
      return;
    }
    if (BODY_METHODS.has(method)) {
      const type = req.headers['content-type'];
      if (type === undefined && method === 'QUERY') {
        send(res, {
          status: 400,
          body: { statusCode: 400, code: 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE', error: 'Bad Request', message: "Method 'QUERY' must provide a 'Content-Type' header." },
        });
        return;
      }
      if (type !== undefined && !readableContentType(type)) {
        send(res, {
          status: 415,
          body: { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', error: 'Unsupported Media Type', message: 'Unsupported Media Type' },
        });
        return;
      }
    }
    const endpoint = this.routes.get(method)?.get(path);
    if (!endpoint) {
      send(res, { status: 404, body: { message: `Route ${method}:${url} not found`, error: 'Not Found', statusCode: 404 } });
      return;
    }
    let answer: Answer | Promise<Answer>;
    try {
      answer = endpoint();
    } catch (err) {
      send(res, failure(err));
      return;
    }
    if (answer instanceof Promise) answer.then((a) => send(res, a), (err: unknown) => send(res, failure(err)));
    else send(res, answer);
  }
}

/** Writes an answer as fastify's reply.send did: JSON for objects, the given type for strings, Content-Length always. */
function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = {};
  let payload: string | undefined;
  if (typeof answer.body === 'string') {
    headers['content-type'] = answer.type ?? 'text/plain; charset=utf-8';
    payload = answer.body;
  } else if (answer.body !== undefined) {
    headers['content-type'] = answer.type ?? JSON_TYPE;
    payload = JSON.stringify(answer.body);
  }
  if (answer.headers) Object.assign(headers, answer.headers);
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  else if (answer.status >= 200 && answer.status !== 204 && answer.status !== 304 && res.req.method !== 'HEAD') headers['content-length'] = '0';
  res.writeHead(answer.status, headers);
  res.end(payload);
}

/** An endpoint that threw: fastify's 500 answer. */
function failure(err: unknown): Answer {
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { statusCode: 500, error: 'Internal Server Error', message } };
}

/** Whether fastify's Content-Type check accepts this header: `type/subtype`, each a token, parameters after `;`. */
function readableContentType(header: string): boolean {
  if (header === '' || header === 'undefined') return false;
  const semi = header.indexOf(';');
  const media = semi === -1 ? header : header.slice(0, semi);
  const slash = media.indexOf('/');
  if (slash === -1) return false;
  const type = media.slice(0, slash).trimStart().toLowerCase();
  const subtype = media.slice(slash + 1).trimEnd().toLowerCase();
  return TYPE_NAME.test(type) && SUBTYPE_NAME.test(subtype);
}

/** A request Node could not parse: fastify's answer (400, 408 or 431 with a JSON body), then the socket is closed. */
function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let code: number;
  let message: string;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') [code, message] = [408, 'Client Timeout'];
  else if (err.code === 'HPE_HEADER_OVERFLOW') [code, message] = [431, 'Exceeded maximum allowed HTTP header size'];
  else [code, message] = [400, 'Client Error'];
  const status = STATUS_CODES[code]!;
  const body = `{"error":"${status}","message":"${message}","statusCode":${code}}`;
  if (socket.writable) socket.write(`HTTP/1.1 ${code} ${status}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`);
  socket.destroy(err);
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}
