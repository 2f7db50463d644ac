/**
 * POSTs snappy-compressed protobuf bodies to Loki over node:http with a keep-alive agent. It never
 * throws: every outcome (a status, a network error, a timeout) is a `PushOutcome` for the sender to
 * classify, so the retry rules live in one place.
 */
import http from 'node:http';

export interface HttpTransportOptions {
  host: string;
  port: number;
  uri: string;
  /** Extra headers (tenant, auth, `header` option); Content-Type and User-Agent are set here. */
  headers: Record<string, string>;
  timeoutMs: number;
  /** Sockets kept per host: one per worker. */
  maxSockets: number;
  userAgent: string;
}

export type PushOutcome =
  | { readonly status: number; readonly body: string; readonly retryAfter?: string; readonly error?: undefined }
  | { readonly status: 0; readonly body: ''; readonly retryAfter?: undefined; readonly error: Error };

/** Loki's error bodies list rejected entries and can be long; keep enough to explain, not all. */
const MAX_BODY_CHARS = 4096;

export class HttpTransport {
  private readonly agent: http.Agent;
  private readonly inFlight = new Set<http.ClientRequest>();
  private readonly baseHeaders: Record<string, string>;
  private closed = false;

  constructor(private readonly options: HttpTransportOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
    this.baseHeaders = {
      ...options.headers,
      'Content-Type': 'application/x-protobuf',
      'User-Agent': options.userAgent,
    };
  }

  push(body: Uint8Array): Promise<PushOutcome> {
    if (this.closed) return Promise.resolve(failure(new Error('transport closed')));
    return new Promise<PushOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: PushOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(req);
        resolve(outcome);
      };
      const req = http.request(
        {
          host: this.options.host,
          port: this.options.port,
          path: this.options.uri,
          method: 'POST',
          agent: this.agent,
          headers: { ...this.baseHeaders, 'Content-Length': String(body.byteLength) },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < MAX_BODY_CHARS) text += chunk;
          });
          res.on('end', () => {
            // Like Fluent Bit, do not reuse a connection after a 5xx: the next attempt may reach a
            // healthy distributor behind the load balancer.
            if (status >= 500) res.socket?.destroy();
            const retryAfter = res.headers['retry-after'];
            finish({ status, body: text.slice(0, MAX_BODY_CHARS), retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined });
          });
          res.on('error', (err) => finish(failure(err)));
          res.on('close', () => finish(failure(new Error('connection closed before the response ended'))));
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no response within ${this.options.timeoutMs}ms`)), this.options.timeoutMs);
      req.on('error', (err) => finish(failure(err)));
      this.inFlight.add(req);
      req.end(body);
    });
  }

  /** Abort requests in flight (they resolve as errors) and close idle sockets. */
  close(): void {
    this.closed = true;
    for (const req of this.inFlight) req.destroy(new Error('output stopped'));
    this.inFlight.clear();
    this.agent.destroy();
  }
}

function failure(error: Error): PushOutcome {
  return { status: 0, body: '', error };
}
