/**
 * POSTs push bodies to Loki over node:http or node:https with a keep-alive agent. It never throws:
 * every outcome (a status, a network error, a timeout) is a `PushOutcome` for the sender to classify,
 * so the retry rules live in one place.
 */
import http from 'node:http';
import https from 'node:https';

export interface TlsSettings {
  /** Verify the server's certificate chain and name (`tls.verify`). */
  verify: boolean;
  /** PEM contents of `tls.ca_file`, `tls.crt_file`, `tls.key_file`. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Server name for SNI and verification (`tls.vhost`), when it differs from host. */
  servername?: string;
  /** With verify: check the certificate's name too (`tls.verify_hostname`, default true). */
  verifyHostname?: boolean;
  minVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
}

export interface HttpTransportOptions {
  host: string;
  port: number;
  uri: string;
  /** Auth and `header` headers; Content-Type, Content-Encoding, User-Agent and the tenant are set here. */
  headers: Record<string, string>;
  contentType: string;
  contentEncoding?: string;
  timeoutMs: number;
  /** Sockets kept per host: one per worker. */
  maxSockets: number;
  /** Keep connections open between requests (`net.keepalive`, default true). */
  keepAlive?: boolean;
  userAgent: string;
  /** HTTPS when set. */
  tls?: TlsSettings;
}

export type PushOutcome =
  | { readonly status: number; readonly body: string; readonly retryAfter?: string; readonly error?: undefined }
  | { readonly status: 0; readonly body: ''; readonly retryAfter?: undefined; readonly error: Error };

/** Loki's error bodies list rejected entries and can be long; keep enough to explain, not all. */
export const MAX_BODY_CHARS = 4096;

export class HttpTransport {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly inFlight = new Set<http.ClientRequest>();
  private readonly baseHeaders: Record<string, string>;
  private closed = false;

  constructor(private readonly options: HttpTransportOptions) {
    const tls = options.tls;
    if (tls) {
      this.agent = new https.Agent({
        keepAlive: options.keepAlive ?? true,
        maxSockets: options.maxSockets,
        rejectUnauthorized: tls.verify,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: tls.servername,
        minVersion: tls.minVersion,
        maxVersion: tls.maxVersion,
        ciphers: tls.ciphers,
        ...(tls.verifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
      });
      this.request = https.request;
    } else {
      this.agent = new http.Agent({ keepAlive: options.keepAlive ?? true, maxSockets: options.maxSockets });
      this.request = http.request;
    }
    this.baseHeaders = { ...options.headers, 'Content-Type': options.contentType, 'User-Agent': options.userAgent };
    if (options.contentEncoding) this.baseHeaders['Content-Encoding'] = options.contentEncoding;
  }

  push(body: Uint8Array, tenant?: string): Promise<PushOutcome> {
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
      const headers: Record<string, string> = { ...this.baseHeaders, 'Content-Length': String(body.byteLength) };
      if (tenant !== undefined) headers['X-Scope-OrgID'] = tenant;
      const req = this.request(
        { host: this.options.host, port: this.options.port, path: this.options.uri, method: 'POST', agent: this.agent, headers },
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

export function failure(error: Error): PushOutcome {
  return { status: 0, body: '', error };
}
