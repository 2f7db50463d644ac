/**
 * One log event as it flows through floki.
 *
 * `time` is nanoseconds since the Unix epoch as a bigint: the forward protocol's EventTime and CRI
 * timestamps carry nanoseconds, and a double cannot hold today's time to the nanosecond.
 */
export interface LogEvent {
  tag: string;
  time: bigint;
  record: Record<string, unknown>;
  /** Forward protocol v1.5 entry metadata (`[[EventTime, {metadata}], record]`), kept when present. */
  metadata?: Record<string, unknown>;
  /** Loki labels set by filters (the event_exporter filter sets type, reason, kind, namespace). */
  labels?: Record<string, string>;
  /** The exact Loki line when a filter fixed it (the exporter's JSON as printed); otherwise formatted from `record`. */
  line?: string;
  /**
   * The record as the msgpack bytes it arrived in, while nothing has read `record` yet (the forward
   * input's packed entries): a filter may take what it needs from them without building the object.
   * Undefined once `record` was read or replaced. Read-only: the bytes belong to the input.
   */
  readonly msgpack?: MsgpackRecord | undefined;
}

/** A record's msgpack bytes: `buf[start, end)`, a map. */
export interface MsgpackRecord {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  /** The record's JSON text (JSON.stringify of the decoded record), when a worker thread printed it ahead. */
  readonly json: string | undefined;
  /**
   * The time as it arrived, when the event's time is still that one: whole seconds (-1 when not
   * known or changed since) and nanoseconds. Lets an output write it back without `time`'s bigint.
   */
  readonly wireSeconds?: number;
  readonly wireNanos?: number;
}

export const NS_PER_SECOND = 1_000_000_000n;
export const NS_PER_MS = 1_000_000n;

// Wall clock with nanosecond resolution: the monotonic clock offset by the wall clock at an anchor.
// Adding hrtime's sub-millisecond part to Date.now() instead would step backwards whenever the two
// clocks' millisecond boundaries disagree. Re-anchored when the wall clock is stepped (NTP).
let anchorNs = BigInt(Date.now()) * NS_PER_MS - process.hrtime.bigint();

export function nowNs(): bigint {
  const now = anchorNs + process.hrtime.bigint();
  const wallMs = Date.now();
  const driftMs = Number(now / NS_PER_MS) - wallMs;
  if (driftMs > 100 || driftMs < -100) {
    anchorNs = BigInt(wallMs) * NS_PER_MS - process.hrtime.bigint();
    return anchorNs + process.hrtime.bigint();
  }
  return now;
}

/** Seconds (integer or float) to nanoseconds, exact for integers. */
export function secondsToNs(seconds: number): bigint {
  if (Number.isInteger(seconds)) return BigInt(seconds) * NS_PER_SECOND;
  const whole = Math.floor(seconds);
  return BigInt(whole) * NS_PER_SECOND + BigInt(Math.round((seconds - whole) * 1e9));
}
