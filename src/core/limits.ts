/**
 * What every input checks before it accepts (acks, answers 2xx for) a record, so that nothing it
 * accepted can fail further on: the README's "Reliability and limits" table states them.
 */

/**
 * Maps and arrays nested at most this many levels in a record (the record itself is level 1).
 * Deeper records are refused at decode: printing, pruning and encoding them walk the nesting, and
 * decoders (msgpackr, JSON.stringify) recurse on it. It is also the depth up to which packed forward
 * records are walked without being decoded (msgpack/value-end.ts).
 */
export const MAX_RECORD_NESTING = 64;

/**
 * Latest time Loki can store: it keeps an entry's time as int64 nanoseconds since the epoch
 * (2262-04-11T23:47:16.854775807Z). Earlier than the epoch is not storable either.
 */
export const MAX_TIME_NS = (1n << 63n) - 1n;

/** Whole seconds at or below this are in range (9223372036 s is 2262-04-11T23:47:16Z). */
export const MAX_TIME_SECONDS = 9_223_372_036;

/** A time in nanoseconds Loki can store: from the epoch up to MAX_TIME_NS. */
export function timeInRange(ns: bigint): boolean {
  return ns >= 0n && ns <= MAX_TIME_NS;
}

/**
 * Whether a decoded value nests maps and arrays deeper than `limit` levels (the value itself, if a
 * map or an array, is level 1). Recursion stops at `limit` levels, so any depth is safe to ask about.
 * Only arrays and plain objects count: a Buffer, an EventTime or a Date is a leaf.
 */
export function nestingExceeds(value: unknown, limit: number = MAX_RECORD_NESTING): boolean {
  return isContainer(value) && deeperThan(value, limit);
}

function deeperThan(container: object, levels: number): boolean {
  if (levels <= 0) return true;
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const v: unknown = container[i];
      if (isContainer(v) && deeperThan(v, levels - 1)) return true;
    }
    return false;
  }
  const map = container as Record<string, unknown>;
  for (const key in map) {
    const v = map[key];
    if (isContainer(v) && deeperThan(v, levels - 1)) return true;
  }
  return false;
}

function isContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
