/**
 * Reads Loki's error texts (grafana/loki pkg/validation, pkg/ingester/stream.go), so that a rejected
 * push is counted under the reason Loki gave and a rate limit is applied to what it names:
 * - 400: `out_of_order` (entry out of order, entry too far behind), `too_old`, `too_new`,
 *   `line_too_long`, `invalid_labels` (parse errors, missing labels, name/value too long, duplicate
 *   names, too many names), `structured_metadata`; any other 4xx is `http_<status>`.
 * - 429: Loki names the stream in a per-stream rate limit ("Per stream rate limit exceeded ... for
 *   stream '{...}'"); the tenant's ingestion rate limit and stream limit name no stream.
 * - 400 for an entry's time names a bound (Loki 2.8 and 3: "has timestamp too old: <t>, oldest
 *   acceptable timestamp is: <bound>", "has timestamp too new: <t>", RFC 3339 to the second), so the
 *   sender can set aside every entry past it at once rather than one by one.
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

const NS_PER_SECOND = 1_000_000_000n;
const TOO_OLD_BOUND = /has timestamp too old: [^,]*, oldest acceptable timestamp is: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))/;
const TOO_NEW = /has timestamp too new: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))/;

/**
 * Times a 400's text shows Loki refuses, whatever the entry: `before` (ns) when it named the oldest
 * time it accepts (every entry older is too old), `from` when it named a time too new (every entry
 * a second or more past it is too new as well). Loki prints whole seconds, cut down: an entry within
 * the printed second is left to the split. Undefined when the text names neither.
 */
export function refusedTimes(body: string): { before?: bigint; from?: bigint } | undefined {
  const old = TOO_OLD_BOUND.exec(body);
  const young = TOO_NEW.exec(body);
  const before = old ? secondsOf(old[1]!) : undefined;
  const newSecond = young ? secondsOf(young[1]!) : undefined;
  if (before === undefined && newSecond === undefined) return undefined;
  return {
    before: before === undefined ? undefined : before * NS_PER_SECOND,
    from: newSecond === undefined ? undefined : (newSecond + 1n) * NS_PER_SECOND,
  };
}

/** Whole seconds since the epoch of an RFC 3339 time, cut down; undefined when it does not parse. */
function secondsOf(rfc3339: string): bigint | undefined {
  const ms = Date.parse(rfc3339);
  if (!Number.isFinite(ms)) return undefined;
  return BigInt(Math.floor(ms / 1000));
}
