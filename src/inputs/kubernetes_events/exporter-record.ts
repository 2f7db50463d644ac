/**
 * A Kubernetes Event from the API server as the record kubernetes-event-exporter prints for it, so the
 * event_exporter filter labels it the same and Loki gets the same line whichever way the event came.
 *
 * The exporter (resmoio, v1) marshals its `EnhancedEvent` with Go's encoding/json: corev1.Event's
 * fields in struct order with their `omitempty` rules (`reason`, `message`, `count`, `type`, `series`,
 * `action`, `related` left out when empty; zero times printed as null), `managedFields` removed,
 * `clusterName`, then `involvedObject` last with `deleted`. This is its output with `omitLookup: true`:
 * floki does not fetch the involved object, so `labels`, `annotations` and `ownerReferences` (which the
 * exporter adds from a lookup) are absent, and `deleted` is false.
 *
 * The record is a plain object in that key order; the line is then `JSON.stringify` of it, which
 * differs from Go's bytes only in escaping: Go writes `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`,
 * `\u003e`, `\u0026`, `\u2028`, `\u2029`, JSON.stringify writes them as they are. Both parse to the
 * same JSON, and `| json` in LogQL reads both alike.
 */

import { timeInRange } from '../../core/limits.js';

type Obj = Record<string, unknown>;

/** corev1.ObjectReference's fields in struct order, all omitempty. */
const OBJECT_REFERENCE_KEYS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'] as const;

export function exporterRecord(event: Obj): Obj {
  const r: Obj = {};
  r.metadata = withoutManagedFields(event.metadata);
  setIfNonEmpty(r, 'reason', event.reason);
  setIfNonEmpty(r, 'message', event.message);
  r.source = isObject(event.source) ? event.source : {};
  r.firstTimestamp = timeOrNull(event.firstTimestamp);
  r.lastTimestamp = timeOrNull(event.lastTimestamp);
  if (typeof event.count === 'number' && event.count !== 0) r.count = event.count;
  setIfNonEmpty(r, 'type', event.type);
  r.eventTime = timeOrNull(event.eventTime);
  if (isObject(event.series)) r.series = event.series;
  setIfNonEmpty(r, 'action', event.action);
  if (isObject(event.related)) r.related = event.related;
  r.reportingComponent = typeof event.reportingComponent === 'string' ? event.reportingComponent : '';
  r.reportingInstance = typeof event.reportingInstance === 'string' ? event.reportingInstance : '';
  r.clusterName = '';
  const io: Obj = {};
  const source = isObject(event.involvedObject) ? event.involvedObject : {};
  for (const key of OBJECT_REFERENCE_KEYS) setIfNonEmpty(io, key, source[key]);
  io.deleted = false;
  r.involvedObject = io;
  return r;
}

/**
 * The event's time in ns: when it last happened (`lastTimestamp`, or `series.lastObservedTime` for
 * events.k8s.io-style events), else `eventTime`, `firstTimestamp`, the object's creation; undefined
 * when none parses. A repeated event (count 2, 3…) thus gets a new entry at each repetition, and the
 * same version of an event always gets the same time, so resending it is not a new entry in Loki.
 * A time Loki cannot store (before 1970, after 2262: anyone allowed to create Events can write one)
 * counts as not parsing, so the next one is taken: sent on, it would fail the whole push it is in.
 */
export function eventTimeNs(event: Obj): bigint | undefined {
  const series = isObject(event.series) ? event.series : undefined;
  const metadata = isObject(event.metadata) ? event.metadata : undefined;
  for (const value of [event.lastTimestamp, series?.lastObservedTime, event.eventTime, event.firstTimestamp, metadata?.creationTimestamp]) {
    if (typeof value !== 'string') continue;
    const ns = rfc3339ToNs(value);
    if (ns !== undefined && timeInRange(ns)) return ns;
  }
  return undefined;
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/** An RFC 3339 time (metav1.Time has seconds, MicroTime microseconds) to ns since the epoch, exactly. */
export function rfc3339ToNs(value: string): bigint | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(m[1]! + (m[3]!.toUpperCase() === 'Z' ? 'Z' : m[3]!));
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms / 1000) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function withoutManagedFields(metadata: unknown): Obj {
  if (!isObject(metadata)) return {};
  if (!('managedFields' in metadata)) return metadata;
  const out: Obj = {};
  for (const key in metadata) if (key !== 'managedFields') out[key] = metadata[key];
  return out;
}

function timeOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function setIfNonEmpty(target: Obj, key: string, value: unknown): void {
  if (typeof value === 'string' ? value.length > 0 : value !== undefined && value !== null) target[key] = value;
}

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
