/**
 * Recognising a kubernetes-event-exporter event: Go's JSON encoding of its `EnhancedEvent`
 * (a corev1.Event plus `clusterName`, with `involvedObject` last).
 */
import { nestingExceeds } from '../../core/limits.js';

type EventRecord = Record<string, unknown> & { involvedObject: Record<string, unknown> };

const OPEN_BRACE = 0x7b; // '{'
const NEWLINE = 0x0a;
const INVOLVED_OBJECT = '"involvedObject"';

/** True when `value` has the shape of an exporter event: `involvedObject.kind`, `reason` and `type` strings. */
export function isExporterEvent(value: unknown): value is EventRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const io = v.involvedObject;
  return (
    io !== null &&
    typeof io === 'object' &&
    typeof (io as Record<string, unknown>).kind === 'string' &&
    typeof v.reason === 'string' &&
    typeof v.type === 'string'
  );
}

/**
 * Parses one line the exporter printed. Returns the event, or undefined for anything else (its own log
 * lines, torn JSON, JSON nested deeper than MAX_RECORD_NESTING). A cheap check comes first so that non-event lines rarely reach JSON.parse.
 */
export function parseExporterLine(line: string): EventRecord | undefined {
  if (line.charCodeAt(0) !== OPEN_BRACE) return undefined;
  // The exporter prints involvedObject last, so searching from the end finds it after a few hundred bytes.
  if (line.lastIndexOf(INVOLVED_OBJECT) < 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  // A line nested deeper than a record may be is not taken for an event (it stays the line it was).
  return isExporterEvent(parsed) && !nestingExceeds(parsed) ? parsed : undefined;
}

/** The line as the exporter printed it: docker's json-file keeps the trailing newline, CRI does not. */
export function withoutNewline(line: string): string {
  return line.charCodeAt(line.length - 1) === NEWLINE ? line.slice(0, -1) : line;
}

/**
 * The Loki labels of an event, merged over `base` (labels an earlier filter set). A label whose value
 * is empty or missing is left out, and removed from `base`: a cluster-scoped object (a Node) has no
 * namespace, and the namespace of the exporter's own pod would be wrong for it.
 */
export function eventLabels(event: EventRecord, base?: Record<string, string>): Record<string, string> {
  const io = event.involvedObject;
  return labelsOf(event.type, event.reason, io.kind, io.namespace, base);
}

/** eventLabels from the four values. */
export function labelsOf(type: unknown, reason: unknown, kind: unknown, namespace: unknown, base?: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = base === undefined ? {} : { ...base };
  setOrDelete(labels, 'type', type);
  setOrDelete(labels, 'reason', reason);
  setOrDelete(labels, 'kind', kind);
  setOrDelete(labels, 'namespace', namespace);
  return labels;
}

function setOrDelete(labels: Record<string, string>, name: string, value: unknown): void {
  if (typeof value === 'string' && value.length > 0) labels[name] = value;
  else if (name in labels) delete labels[name];
}
