import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { MsgpackJsonTranscoder } from '../../msgpack/json-transcoder.js';
import { PRINTED_FIELDS, type PrintedFields, type PrintedFieldsRecord } from '../../msgpack/printed-fields.js';
import { eventLabels, isExporterEvent, labelsOf, parseExporterLine, withoutNewline } from './recognise.js';
import { setKey } from '../../record/append-key.js';

/** The record's fields that make it an exporter event and give its labels, in this order (PRINTED_FIELDS'). */
const TYPE = 0;
const REASON = 1;
const KIND = 2;
const NAMESPACE = 3;
/**
 * Bytes of the label sets kept for sharing (two a character, plus a fixed cost per set): the cache
 * starts over past this. A set whose values are longer than a label Loki takes is never kept: 600
 * events with distinct 2 MiB reasons held 2.4 GiB once delivered when the bound was 10,000 sets.
 */
const MAX_LABEL_SET_BYTES = 4 * 1024 * 1024;
const MAX_SHARED_VALUE_CHARS = 4096;
const LABEL_SET_OVERHEAD_BYTES = 200;
const transcoder = new MsgpackJsonTranscoder(PRINTED_FIELDS);
/** The exporter prints involvedObject last: a record without these bytes is not an event. */
const INVOLVED_OBJECT_KEY = Buffer.from('\xaeinvolvedObject', 'latin1');

export const EVENT_EXPORTER_RECORDS_METRIC = 'floki_filter_event_exporter_records_total';

export const eventExporterOptions: readonly OptionSpec[] = [
  {
    name: 'key',
    type: 'list',
    default: ['log', 'message'],
    description:
      "Record keys that may hold the exporter's JSON line as a string, tried in order (`log` from tail, `message` from some forwarders). A record that is itself the event is recognised regardless.",
  },
  {
    name: 'reserve_data',
    type: 'bool',
    default: false,
    description:
      "When an event is parsed from a key, keep the record's other keys (e.g. `stream`, kubernetes metadata) next to the event's own; the event's keys win.",
  },
];

/**
 * For an event: `labels` gets type, reason, kind and namespace; `line` is the JSON exactly as the
 * exporter printed it (Go escapes `<>&` and orders keys, so re-serialising would change it); `record`
 * becomes the parsed event, so record accessors such as `$involvedObject['name']` see its fields.
 * Anything else passes through untouched.
 */
export class EventExporterFilter implements Filter {
  private readonly keys: string[];
  private readonly reserveData: boolean;
  /** type → reason → kind → namespace → labels. */
  private readonly labelSets = new Map<string, Map<string, Map<string, Map<string | undefined, Record<string, string>>>>>();
  private labelSetBytes = 0;
  /** The labels of the transcode thread's captured values (held while the pool holds them). */
  private readonly printedLabels = new WeakMap<PrintedFields, Record<string, string>>();
  private readonly counted: { event: { inc(n: number): void }; notEvent: { inc(n: number): void } };

  constructor(options: ResolvedOptions, ctx: PluginContext) {
    this.keys = (options.key as string[] | undefined) ?? ['log', 'message'];
    this.reserveData = options.reserve_data === true;
    const counter = ctx.metrics.counter(
      EVENT_EXPORTER_RECORDS_METRIC,
      'Records the event_exporter filter saw, by whether they were kubernetes-event-exporter events',
      ['name', 'result'],
    );
    // Bound children once: per-batch increments then skip the label lookup.
    this.counted = { event: counter.labels(ctx.name, 'event'), notEvent: counter.labels(ctx.name, 'not_event') };
  }

  process(events: LogEvent[]): LogEvent[] {
    let recognised = 0;
    for (let i = 0; i < events.length; i++) {
      if (this.apply(events[i]!)) recognised++;
    }
    if (recognised > 0) this.counted.event.inc(recognised);
    if (recognised < events.length) this.counted.notEvent.inc(events.length - recognised);
    return events;
  }

  /**
   * One frozen labels object per distinct (type, reason, kind, namespace): events share it, and the
   * Loki output renders its label string once per object instead of once per event. Looked up by
   * one map per field: the values are interned strings whose hashes V8 keeps, where a joined key
   * was a new string to build and hash for every event.
   */
  private sharedLabels(type: string, reason: string, kind: string, namespace: string | undefined): Record<string, string> {
    const chars = type.length + reason.length + kind.length + (namespace?.length ?? 0);
    if (chars > MAX_SHARED_VALUE_CHARS) return labelsOf(type, reason, kind, namespace);
    let byReason = this.labelSets.get(type);
    if (byReason === undefined) this.labelSets.set(type, (byReason = new Map()));
    let byKind = byReason.get(reason);
    if (byKind === undefined) byReason.set(reason, (byKind = new Map()));
    let byNamespace = byKind.get(kind);
    if (byNamespace === undefined) byKind.set(kind, (byNamespace = new Map()));
    let labels = byNamespace.get(namespace);
    if (labels === undefined) {
      labels = Object.freeze(labelsOf(type, reason, kind, namespace));
      this.labelSetBytes += LABEL_SET_OVERHEAD_BYTES + 2 * chars;
      if (this.labelSetBytes > MAX_LABEL_SET_BYTES) {
        this.labelSets.clear();
        this.labelSetBytes = 0;
        // The maps on the way here were just dropped: start the path again.
        return this.sharedLabels(type, reason, kind, namespace);
      }
      byNamespace.set(namespace, labels);
    }
    return labels;
  }

  private apply(event: LogEvent): boolean {
    const raw = event.msgpack;
    if (raw !== undefined) {
      // A record still in its msgpack bytes (forward input): the line as a worker thread printed it
      // already, or straight from the bytes, and the record is never built unless something later
      // reads it. Printing here is for events only: the exporter prints involvedObject last, so a
      // record without those bytes is not one (a quick search that spares printing other records).
      // The thread captured the fields as it printed (printed-fields.ts), unless their values were too long to keep.
      let line = raw.json;
      let f: PrintedFields = transcoder.fields;
      let printed: PrintedFields | undefined;
      if (line !== undefined) {
        printed = (raw as Partial<PrintedFieldsRecord>).printedFields;
        if (printed !== undefined) f = printed;
        else if (!transcoder.capture(raw.buf, raw.start, raw.end)) line = undefined;
      } else if (raw.buf.lastIndexOf(INVOLVED_OBJECT_KEY, raw.end - INVOLVED_OBJECT_KEY.length) >= raw.start) {
        line = transcoder.transcode(raw.buf, raw.start, raw.end);
      }
      if (line !== undefined && typeof f[TYPE] === 'string' && typeof f[REASON] === 'string' && typeof f[KIND] === 'string') {
        if (event.labels !== undefined) event.labels = labelsOf(f[TYPE], f[REASON], f[KIND], f[NAMESPACE], event.labels);
        else if (printed === undefined) event.labels = this.sharedLabels(f[TYPE], f[REASON], f[KIND], f[NAMESPACE]);
        else {
          // The thread's values are one array per distinct set: one lookup instead of four.
          let labels = this.printedLabels.get(printed);
          if (labels === undefined) {
            labels = this.sharedLabels(f[TYPE], f[REASON], f[KIND], f[NAMESPACE]);
            this.printedLabels.set(printed, labels);
          }
          event.labels = labels;
        }
        event.line = line;
        return true;
      }
    }
    const record = event.record;
    if (isExporterEvent(record)) {
      event.labels = eventLabels(record, event.labels);
      event.line = JSON.stringify(record);
      return true;
    }
    const keys = this.keys;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const value = record[key];
      if (typeof value !== 'string') continue;
      const parsed = parseExporterLine(value);
      if (parsed === undefined) continue;
      event.labels = eventLabels(parsed, event.labels);
      event.line = withoutNewline(value);
      event.record = this.reserveData ? reserve(record, key, parsed) : parsed;
      return true;
    }
    return false;
  }
}

/** The record's other keys, then the event's (which win); a key named `__proto__` stays a key. */
function reserve(original: Record<string, unknown>, sourceKey: string, parsed: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const k of Object.keys(original)) if (k !== sourceKey) setKey(merged, k, original[k]);
  for (const k of Object.keys(parsed)) setKey(merged, k, parsed[k]);
  return merged;
}
