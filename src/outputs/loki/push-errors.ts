/**
 * Reads Loki's error texts (grafana/loki pkg/validation, pkg/ingester/stream.go), so that a rejected
 * push is counted under the reason Loki gave and a rate limit is applied to what it names:
 * - 400: `out_of_order` (entry out of order, entry too far behind), `too_old`, `too_new`,
 *   `line_too_long`, `invalid_labels` (parse errors, missing labels, name/value too long, duplicate
 *   names, too many names), `structured_metadata`; any other 4xx is `http_<status>`.
 * - 429: Loki names the stream in a per-stream rate limit ("Per stream rate limit exceeded ... for
 *   stream '{...}'"); the tenant's ingestion rate limit and stream limit name no stream.
 */

export type RejectReason = 'out_of_order' | 'too_old' | 'too_new' | 'line_too_long' | 'invalid_labels' | 'structured_metadata' | `http_${number}`;

const REASONS: readonly (readonly [RejectReason, RegExp])[] = [
  ['out_of_order', /entry out of order|out of order|too far behind/i],
  ['too_old', /timestamp too old/i],
  ['too_new', /timestamp too new/i],
  ['line_too_long', /max entry size '?\d+'? bytes exceeded|line too long/i],
  [
    'invalid_labels',
    /error parsing labels|at least one label pair is required|label name too long|label value too long|duplicate label name|label names; limit|invalid label|invalid metric name/i,
  ],
  ['structured_metadata', /structured metadata/i],
];

/**
 * The reason of a non-retryable rejection. A body listing several reasons (Loki joins the errors of
 * many entries) is counted under the one it names first.
 */
export function rejectReason(status: number, body: string): RejectReason {
  if (status !== 400) return `http_${status}`;
  let best: RejectReason | undefined;
  let bestAt = Infinity;
  for (const [reason, pattern] of REASONS) {
    const m = pattern.exec(body);
    if (m && m.index < bestAt) {
      best = reason;
      bestAt = m.index;
    }
  }
  return best ?? 'http_400';
}

/** The batch's stream label strings that a 429 body names (a per-stream rate limit). */
export function streamsNamedIn(body: string, labelStrings: Iterable<string>): string[] {
  const named: string[] = [];
  if (!/stream/i.test(body)) return named;
  for (const labels of labelStrings) if (body.includes(labels)) named.push(labels);
  return named;
}
