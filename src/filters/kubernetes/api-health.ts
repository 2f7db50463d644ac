/**
 * Whether the filter may ask the API server now. After a failure (no answer, 5xx, 401, 403) it waits
 * a backoff (1 s doubling to 30 s) before the next GET, so an API server that is down or refusing costs
 * one request per backoff, and records meanwhile go on at once with what is known. Each kind of failure
 * is logged once per outage, and all of them counted.
 */
import type { Logger } from 'pino';
import { KubeApiError } from '../../kube/api-client.js';

/** Why a record got less than its pod's metadata. */
export type MissReason = 'not_found' | 'api_unavailable' | 'unauthorized' | 'forbidden' | 'too_large' | 'tag_mismatch';

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

export class ApiHealth {
  private failures = 0;
  private retryAtMs = 0;
  private readonly logged = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** True unless a failure's backoff is still running. */
  allowRequest(now = performance.now()): boolean {
    return now >= this.retryAtMs;
  }

  /** When the next request may go (performance.now() time). */
  get retryAt(): number {
    return this.retryAtMs;
  }

  ok(): void {
    if (this.failures > 0) this.log.info('kubernetes API server answering again');
    this.failures = 0;
    this.retryAtMs = 0;
    for (const reason of ['api_unavailable', 'unauthorized', 'forbidden']) this.logged.delete(reason);
  }

  /** A failed request: what it means for the records, and the backoff it starts. */
  fail(err: unknown, what: string): MissReason {
    const reason = missReason(err);
    if (reason !== 'not_found' && reason !== 'too_large') {
      this.failures++;
      this.retryAtMs = performance.now() + Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.failures - 1));
    }
    this.once(reason, { err: (err as Error).message, request: what }, HINTS[reason]);
    return reason;
  }

  /** Logs `message` the first time `key` happens (again after the API server recovered, for outages). */
  once(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.logged.has(key)) return;
    if (this.logged.size > 1000) this.logged.clear();
    this.logged.add(key);
    this.log.warn(fields, message);
  }
}

const HINTS: Record<MissReason, string> = {
  not_found: 'pod not found (deleted before its log was read): its records get the metadata of their tag only (logged once; see floki_filter_kubernetes_records_without_metadata_total)',
  api_unavailable: 'kubernetes API server unavailable: records get the metadata known so far, or their tag\'s (logged once per outage)',
  unauthorized: 'kubernetes API server answered 401: check kube_token_file (logged once per outage)',
  forbidden: "kubernetes API server answered 403: the service account needs get, list and watch on pods and namespaces (logged once per outage)",
  too_large: 'a pod or namespace is larger than buffer_size: its records get the metadata of their tag only (logged once)',
  tag_mismatch: 'a tag is not a container log file name after kube_tag_prefix: its records are left as they are (logged once)',
};

export function missReason(err: unknown): MissReason {
  if (!(err instanceof KubeApiError)) return 'api_unavailable';
  if (err.tooLarge) return 'too_large';
  if (err.status === 404) return 'not_found';
  if (err.status === 401) return 'unauthorized';
  if (err.status === 403) return 'forbidden';
  return 'api_unavailable';
}
