/**
 * How a plugin reaches the API server (or a kubelet): the URL, the cluster CA, the service account
 * token read again as it rotates, and certificate verification. One place for what the events input,
 * the kubernetes filter and leader election all need, so each speaks to the API server the same way.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { KubeApiClient, KubeApiError, type GetOptions } from './api-client.js';
import { ServiceAccountToken } from './token.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnectionOptions {
  url: URL;
  /** CA certificate (PEM) the server's certificate must chain to; the system's CAs when unreadable. */
  caFile: string;
  tokenFile: string;
  /** How long a token read from tokenFile is used before the file is read again. */
  tokenTtlMs: number;
  tlsVerify: boolean;
  /** Timeout of a GET (and the margin added to a watch's own timeout). */
  requestTimeoutMs?: number;
}

export class KubeConnection {
  readonly client: KubeApiClient;
  readonly token: ServiceAccountToken;

  constructor(
    readonly options: KubeConnectionOptions,
    log: Logger,
  ) {
    this.token = new ServiceAccountToken(options.tokenFile, options.tokenTtlMs, (message) => log.warn(message));
    let ca: Buffer | undefined;
    if (options.url.protocol === 'https:') {
      try {
        ca = readFileSync(options.caFile);
      } catch (err) {
        log.warn({ err: (err as Error).message }, `cannot read kube_ca_file ${options.caFile}: verifying the API server with the system's CAs`);
      }
    }
    this.client = new KubeApiClient({ url: options.url, ca, verify: options.tlsVerify, token: () => this.token.get(), requestTimeoutMs: options.requestTimeoutMs });
  }

  /**
   * GET a JSON document; after a 401, once more if the token file holds a new token (a projected token
   * rotated before kube_token_ttl ran out).
   */
  async get(path: string, options: GetOptions = {}): Promise<unknown> {
    try {
      return await this.client.getJson(path, options);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 401 && this.token.reload()) return this.client.getJson(path, options);
      throw err;
    }
  }

  /** POST or PUT a JSON object; after a 401, once more if the token file holds a new token. */
  async send(method: 'POST' | 'PUT', path: string, body: unknown, options: GetOptions = {}): Promise<unknown> {
    try {
      return await this.client.sendJson(method, path, body, options);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 401 && this.token.reload()) return this.client.sendJson(method, path, body, options);
      throw err;
    }
  }
}

/** `kube_url` as a URL: http or https only. Throws an Error naming the key. */
export function parseKubeUrl(raw: string, key = 'kube_url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${key}: expected a URL such as https://kubernetes.default.svc, got '${raw}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${key}: expected http:// or https://, got '${raw}'`);
  return url;
}
