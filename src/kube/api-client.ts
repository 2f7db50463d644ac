/**
 * The kinds of request floki makes of the API server (and of a kubelet): a GET of one JSON document
 * (an object or a list), a watch (a response that stays open, one JSON object per line), and a POST
 * or PUT of one object (leader election's Lease). HTTPS with
 * the cluster CA and a bearer token, or plain HTTP (kubectl proxy). Answers are bounded in bytes.
 */
import http from 'node:http';
import https from 'node:https';
import { WatchLineSplitter } from './watch-lines.js';

export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or the `code` of a watch ERROR's Status; 0 for a network error or an answer over its size limit. */
    readonly status: number,
    /** The answer (or one watch line) was larger than allowed: it was not read further. */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface KubeApiClientOptions {
  url: URL;
  ca?: Buffer;
  verify: boolean;
  token: () => string | undefined;
  /** Timeout of a list request; a watch times out after its own timeoutSeconds plus this. */
  requestTimeoutMs?: number;
}

export interface GetOptions {
  signal?: AbortSignal;
  /** Largest answer accepted, in bytes (0: no limit); a larger one rejects with `tooLarge`. */
  maxBytes?: number;
  /** Instead of the client's request timeout. */
  timeoutMs?: number;
}

export interface WatchLimits {
  /** Longest watch line (one object) kept; longer ones are skipped. 0: no limit. */
  maxLineBytes?: number;
  /** Told when a line was skipped for its length. */
  onSkippedLine?: (maxLineBytes: number) => void;
}

export interface WatchHandle {
  /** Resolves when the server ends the watch (its timeoutSeconds); rejects on a dropped connection or an error status. */
  done: Promise<void>;
  abort(): void;
}

export class KubeApiClient {
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: KubeApiClientOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /** GET a JSON document; non-2xx statuses reject with a KubeApiError carrying the Status message. */
  getJson(path: string, options: GetOptions | AbortSignal = {}): Promise<unknown> {
    const { signal, maxBytes = 0, timeoutMs = this.requestTimeoutMs } = options instanceof AbortSignal ? { signal: options } : options;
    const answer = new Promise<unknown>((resolve, reject) => {
      const req = this.request(path, timeoutMs, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (maxBytes > 0 && size > maxBytes) {
            reject(new KubeApiError(`GET ${path}: the answer is larger than ${maxBytes} bytes`, 0, true));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => reject(new KubeApiError(`GET ${path}: ${err.message}`, 0)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(statusError(path, status, text));
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(new KubeApiError(`GET ${path}: answer is not JSON: ${(err as Error).message}`, status));
          }
        });
      });
      req.on('error', (err) => reject(new KubeApiError(`GET ${path}: ${err.message}`, 0)));
      if (signal !== undefined) {
        if (signal.aborted) req.destroy(new Error('stopped'));
        const onAbort = () => req.destroy(new Error('stopped'));
        signal.addEventListener('abort', onAbort, { once: true });
        // The signal outlives the request (it is the plugin's): do not leave a listener per request on it.
        req.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      req.end();
    });
    return answer;
  }

  /**
   * Sends a JSON body (POST a new object, PUT a replacement) and reads the JSON answer; non-2xx
   * statuses reject with a KubeApiError (409 Conflict: the object changed since it was read, or exists).
   */
  sendJson(method: 'POST' | 'PUT', path: string, body: unknown, options: GetOptions = {}): Promise<unknown> {
    const { signal, maxBytes = 1 << 20, timeoutMs = this.requestTimeoutMs } = options;
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    return new Promise<unknown>((resolve, reject) => {
      const req = this.request(
        path,
        timeoutMs,
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              reject(new KubeApiError(`${method} ${path}: the answer is larger than ${maxBytes} bytes`, 0, true));
              req.destroy();
              return;
            }
            chunks.push(c);
          });
          res.on('error', (err) => reject(new KubeApiError(`${method} ${path}: ${err.message}`, 0)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) return reject(statusError(path, status, text, method));
            try {
              resolve(JSON.parse(text));
            } catch (err) {
              reject(new KubeApiError(`${method} ${path}: answer is not JSON: ${(err as Error).message}`, status));
            }
          });
        },
        method,
        payload,
      );
      req.on('error', (err) => reject(new KubeApiError(`${method} ${path}: ${err.message}`, 0)));
      if (signal !== undefined) {
        if (signal.aborted) req.destroy(new Error('stopped'));
        const onAbort = () => req.destroy(new Error('stopped'));
        signal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      req.end(payload);
    });
  }

  /**
   * Opens a watch. `onLines` gets the lines of each chunk; the response is paused until the promise it
   * returns settles, so a slow pipeline holds the API server back through TCP instead of piling up events.
   */
  watch(path: string, timeoutMs: number, onLines: (lines: string[]) => Promise<void>, limits: WatchLimits = {}): WatchHandle {
    const { maxLineBytes = 0, onSkippedLine } = limits;
    let req: http.ClientRequest;
    let aborted = false;
    // Lines are handled one chunk at a time; the watch settles only after the last handling did.
    let processing: Promise<void> = Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        req.destroy();
        void processing.then(() => reject(err), () => reject(err));
      };
      req = this.request(path, timeoutMs + this.requestTimeoutMs, (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => fail(statusError(path, status, Buffer.concat(chunks).toString('utf8'))));
          res.on('error', (err) => fail(new KubeApiError(`watch ${path}: ${err.message}`, 0)));
          return;
        }
        const splitter = new WatchLineSplitter(maxLineBytes);
        let ended = false;
        const handle = (lines: string[], last: boolean) => {
          res.pause();
          processing = processing
            .then(() => (failed || aborted ? undefined : onLines(lines)))
            .then(
              () => {
                if (last) resolve();
                else if (!aborted && !ended) res.resume();
              },
              (err: Error) => {
                processing = Promise.resolve();
                fail(err);
              },
            );
        };
        res.on('data', (chunk: Buffer) => {
          const skipped = splitter.skipped;
          const lines = splitter.push(chunk);
          if (splitter.skipped > skipped) onSkippedLine?.(maxLineBytes);
          if (lines.length > 0) handle(lines, false);
        });
        res.on('end', () => {
          ended = true;
          const rest = splitter.end();
          handle(rest === undefined ? [] : [rest], true);
        });
        // A connection cut mid-response: 'aborted' then 'error' (ECONNRESET), or 'close' without 'end'.
        res.on('error', (err) => fail(new KubeApiError(`watch ${path}: ${err.message}`, 0)));
        res.on('close', () => {
          if (!ended && !aborted) fail(new KubeApiError(`watch ${path}: connection closed`, 0));
        });
      });
      req.on('error', (err) => fail(aborted ? new KubeApiError('stopped', 0) : new KubeApiError(`watch ${path}: ${err.message}`, 0)));
      req.end();
    });
    return {
      done,
      abort: () => {
        aborted = true;
        req.destroy(new Error('stopped'));
      },
    };
  }

  private request(path: string, timeoutMs: number, onResponse: (res: http.IncomingMessage) => void, method = 'GET', body?: Buffer): http.ClientRequest {
    const { url, ca, verify } = this.options;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'floki' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const token = this.options.token();
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const target = new URL(path, url);
    const base = url.pathname.replace(/\/+$/, '');
    if (base.length > 0) target.pathname = base + target.pathname;
    const req =
      url.protocol === 'https:'
        ? https.request(target, { method, headers, ca, rejectUnauthorized: verify, agent: false }, onResponse)
        : http.request(target, { method, headers, agent: false }, onResponse);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)));
    return req;
  }
}

/** A non-2xx answer as an error, with the message of the Kubernetes Status it usually carries. */
function statusError(path: string, status: number, body: string, method = 'GET'): KubeApiError {
  let message = body.trim().slice(0, 300);
  try {
    const s = JSON.parse(body) as { message?: unknown };
    if (typeof s.message === 'string') message = s.message;
  } catch {
    // Not a Status: keep the text.
  }
  return new KubeApiError(`${method} ${path}: ${status}${message ? `: ${message}` : ''}`, status);
}
