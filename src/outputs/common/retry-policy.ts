/**
 * When to send a failed request (a Loki push, a forward frame) again, and after how long. Shared by
 * every output.
 *
 * Backoff is Fluent Bit's scheduler formula with Promtail's defaults (min 500ms, max 5m, 10 retries):
 * retry n (0-based) waits a uniformly random time in [min, min(max, min * 2^n)]. The jitter spreads the
 * retries of many nodes after a Loki outage; the floor of `min` keeps a flapping Loki from being hit
 * at once. A `Retry-After` from Loki raises the wait to at least that (capped at `max`, so a stray
 * header cannot park the output for hours).
 */

export interface RetryPolicyOptions {
  /** Retries after the first attempt; Infinity for `no_limits`. */
  limit: number;
  minMs: number;
  maxMs: number;
  /** Injectable for tests; returns [0, 1). */
  random?: () => number;
}

export class RetryPolicy {
  readonly limit: number;
  readonly minMs: number;
  readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: RetryPolicyOptions) {
    this.limit = options.limit;
    this.minMs = Math.max(0, options.minMs);
    this.maxMs = Math.max(this.minMs, options.maxMs);
    this.random = options.random ?? Math.random;
  }

  /** Whether a request that failed `retriesSoFar` retries already may be sent again. */
  canRetry(retriesSoFar: number): boolean {
    return retriesSoFar < this.limit;
  }

  /** Wait before retry number `retry` (0 for the first retry), honouring a Retry-After minimum. */
  delayMs(retry: number, retryAfterMs?: number): number {
    // 2^retry overflows to Infinity for large retry counts, which min() then caps: no special case.
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** retry);
    let wait = this.minMs + this.random() * (ceiling - this.minMs);
    if (retryAfterMs !== undefined && retryAfterMs > wait) wait = Math.min(retryAfterMs, this.maxMs);
    return Math.round(wait);
  }
}

/** `retry_limit`: a number of retries, `no_limits`/`false`/`off` for unlimited, `no_retries` for none. */
export function parseRetryLimit(value: string | number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const v = String(value).trim().toLowerCase();
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'no_limits' || v === 'false' || v === 'off' || v === 'unlimited') return Infinity;
  if (v === 'no_retries') return 0;
  throw new Error(`retry_limit: expected a number of retries, no_limits or no_retries, got '${value}'`);
}

/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
