/**
 * The Loki line of an event: `LogEvent.line` when a filter fixed it, otherwise the record (after
 * `remove_keys` and the keys placed in labels) as `json` or `key_value`, as Fluent Bit's out_loki does.
 *
 * `drop_single_key` (Fluent Bit): when one key remains, send only its value. `on` keeps the value in
 * the line format (json: a string stays quoted); `raw` sends a string value unquoted.
 *
 * key_value differs from Fluent Bit on purpose: string values are quoted with escapes (Fluent Bit
 * leaves inner quotes as they are) and maps/arrays are quoted JSON (Fluent Bit prints Go-like
 * `map[...]`), so Loki's `| logfmt` parser reads every line back.
 */
import type { LogEvent, MsgpackRecord } from '../core/event.js';
import type { PrintedFieldsRecord } from '../msgpack/printed-fields.js';
import type { PathSegment } from './record-accessor.js';
import { RecordPruner, REMOVED, type PruneNode } from './record-pruner.js';
import { isSharedMap } from './shared-map.js';
import { MsgpackJsonTranscoder } from '../msgpack/json-transcoder.js';
import { MAX_JSON_CHARS, toJson } from './json-text.js';
import { LineArena } from './line-arena.js';
import { fluentdKeyValueLine, rubyToS } from './fluentd-key-value.js';

/** fluentd_key_value: fluent-plugin-grafana-loki's key_value (see fluentd-key-value.ts). */
export type LineFormat = 'json' | 'key_value' | 'fluentd_key_value';
export type DropSingleKey = 'off' | 'on' | 'raw';

export const LINE_FORMATS: readonly LineFormat[] = ['json', 'key_value', 'fluentd_key_value'];
export const DROP_SINGLE_KEY_VALUES: readonly string[] = ['off', 'on', 'raw', 'false', 'true', 'no', 'yes'];

export function parseDropSingleKey(value: string): DropSingleKey {
  const v = value.trim().toLowerCase();
  if (v === 'raw') return 'raw';
  if (v === 'on' || v === 'true' || v === 'yes') return 'on';
  if (v === 'off' || v === 'false' || v === 'no') return 'off';
  throw new Error(`drop_single_key: expected on, off or raw, got '${value}'`);
}

export interface LineFormatterOptions {
  format: LineFormat;
  dropSingleKey: DropSingleKey;
  /** `remove_keys` paths plus the paths placed in labels. */
  removePaths: readonly (readonly PathSegment[])[];
  /**
   * Longest line worth writing when a record can only be printed by the slow path (see json-text.ts):
   * just over `max_line_size`, which cuts it (and counts it) after. Default: no practical limit.
   */
  maxChars?: number;
}

/** A top-level key under which shared maps were seen: `,"key":`, what is removed under it, each map's text. */
interface SharedKey {
  readonly prefix: string;
  readonly node: PruneNode | undefined;
  /** Null when the map is not one to keep text of. */
  readonly texts: WeakMap<object, Buffer | null>;
}

const hasOwnProperty = Object.prototype.hasOwnProperty;

/** Longest string value writeLine writes, in UTF-16 units (a record with a longer one: the general way). */
const MAX_ARENA_STRING = 16 * 1024;

/** Top-level keys whose shared maps' texts are kept (the kubernetes filter's: `kubernetes`, `kubernetes_namespace`). */
const MAX_SHARED_KEYS = 16;
/** Top-level keys whose `"key":` texts are kept (records of one input share a few). */
const MAX_KEY_TEXTS = 256;
/** Places in a record whose last key writeJsonWithShared keeps, and the longest `"key":` text it keeps (32 KiB in all). */
const MAX_WALK_KEYS = 32;
const MAX_WALK_KEY_BYTES = 1024;

export class LineFormatter {
  private readonly pruner: RecordPruner;
  private readonly keyValue: boolean;
  private readonly fluentdKeyValue: boolean;
  private readonly dropSingleKey: DropSingleKey;

  /** The line is the whole record as JSON: nothing removed, no single-key rule. */
  private readonly wholeJson: boolean;
  private readonly printer = new MsgpackJsonTranscoder([]);
  private readonly maxChars: number;
  /** json, drop_single_key off: a record ending with shared maps is printed with their kept texts. */
  private readonly sharedJson: boolean;
  private readonly sharedKeys = new Map<string, SharedKey>();
  private readonly keyTexts = new Map<string, Buffer>();
  /** The keys before the shared maps in the last record writeJsonWithShared walked, in order, and their texts. */
  private readonly walkKeys: string[] = [];
  private readonly walkTexts: Buffer[] = [];
  /** Whether writeLine wrote the last record it was given. */
  private wroteLast = false;
  /** Where jsonWithShared writes a line before reading it back (made at its first line). */
  private scratch: LineArena | undefined;
  /** The shared map sharedText last found a text for, under which key, and that text. */
  private lastShared: object | undefined;
  private lastSharedKey = '';
  private lastSharedText: Buffer | undefined;
  /** The last line jsonWithShared made, and its UTF-8 length. */
  private lastLine: string | undefined;
  private lastBytes = 0;

  constructor(options: LineFormatterOptions) {
    this.maxChars = options.maxChars ?? MAX_JSON_CHARS;
    this.pruner = new RecordPruner(options.removePaths);
    this.keyValue = options.format === 'key_value';
    this.fluentdKeyValue = options.format === 'fluentd_key_value';
    this.dropSingleKey = options.dropSingleKey;
    this.sharedJson = !this.keyValue && !this.fluentdKeyValue && this.dropSingleKey === 'off';
    this.wholeJson = this.sharedJson && options.removePaths.length === 0;
  }

  /** The line of `event`. `sharedTried`: writeLine refused it, so the shared-map walk would fail again and is skipped. */
  lineFor(event: LogEvent, sharedTried = false): string {
    this.lastLine = undefined;
    const line = event.line;
    if (line !== undefined) {
      // A line a filter took from the thread's print (the event_exporter filter's): its UTF-8 length
      // is known, and utf8Bytes need not count it again.
      const raw = event.msgpack;
      if (raw !== undefined) this.notePrinted(raw, line);
      return line;
    }
    // A record still in its msgpack bytes (forward input) is printed from them: as a worker thread
    // printed it ahead, or here. The same text as format(), and the same whichever prints it.
    const raw = this.wholeJson ? event.msgpack : undefined;
    if (raw !== undefined) {
      const printed = raw.json;
      if (printed !== undefined) {
        this.notePrinted(raw, printed);
        return printed;
      }
      const json = this.printer.transcode(raw.buf, raw.start, raw.end);
      if (json !== undefined) return json;
    }
    return this.format(event.record, sharedTried);
  }

  /** When `line` is the text the transcode thread printed for `raw` and knows the length of, utf8Bytes takes that length. */
  private notePrinted(raw: MsgpackRecord, line: string): void {
    const printed = raw as Partial<PrintedFieldsRecord>;
    const bytes = printed.printedBytes;
    if (bytes !== undefined && bytes >= 0 && printed.printedJson === line) {
      this.lastLine = line;
      this.lastBytes = bytes;
    }
  }

  format(record: Record<string, unknown>, sharedTried = false): string {
    this.lastLine = undefined;
    if (this.sharedJson && !sharedTried) {
      const line = this.jsonWithShared(record);
      if (line !== undefined) return line;
    }
    const rec = this.pruner.prune(record);
    if (this.dropSingleKey !== 'off') {
      const only = singleKey(rec);
      if (only !== undefined) return this.fluentdKeyValue ? rubyToS(rec[only]) : this.formatSingle(rec[only]);
    }
    if (this.fluentdKeyValue) return fluentdKeyValueLine(rec, this.maxChars);
    return this.keyValue ? keyValueLine(rec, this.maxChars) : toJson(rec, this.maxChars);
  }

  /** The UTF-8 length of a line this formatter just returned: known, not counted again, when it wrote or a thread printed it. */
  utf8Bytes(line: string): number {
    return line === this.lastLine ? this.lastBytes : Buffer.byteLength(line);
  }

  /**
   * The json line of a record whose last keys hold shared maps (see shared-map.ts; the kubernetes
   * filter's `kubernetes` map, some 700 bytes of the line): their text, pruned, is printed once per map
   * and kept, and only the keys before them are printed per record. The same text as the general way;
   * undefined when the record does not end with such a map, or its other keys cannot be printed by
   * JSON.stringify (then the general way prints it). Written by writeJsonWithShared into a scratch
   * arena and read back: the string path (the disk buffer, a line to cut) and the memory buffer's
   * bytes come from one walk.
   */
  private jsonWithShared(record: Record<string, unknown>): string | undefined {
    if (!hasFrozenValue(record)) return undefined;
    const arena = (this.scratch ??= new LineArena());
    arena.begin();
    const n = this.writeJsonWithShared(record, arena);
    const line = n < 0 ? undefined : arena.chunk.toString('utf8', arena.start, arena.pos);
    arena.rollback();
    if (line !== undefined) {
      this.lastLine = line;
      this.lastBytes = n;
    }
    return line;
  }

  /**
   * Writes the line of `event` into `arena` as UTF-8 (see line-arena.ts) and returns its length in
   * bytes, when it is a record that jsonWithShared prints (json, a record ending with shared maps);
   * otherwise -1, nothing written, and lineFor makes the line. The same bytes as lineFor's line.
   */
  writeLine(event: LogEvent, arena: LineArena): number {
    if (!this.sharedJson || event.line !== undefined || (this.wholeJson && event.msgpack !== undefined)) return -1;
    const record = event.record;
    // After a record it wrote, the next one (of the same input, most likely) is walked without
    // looking for a frozen map first: a record without one is written, then refused (once).
    if (!this.wroteLast && !hasFrozenValue(record)) return -1;
    arena.begin();
    const n = this.writeJsonWithShared(record, arena);
    this.wroteLast = n >= 0;
    if (n < 0) arena.rollback();
    return n;
  }

  /** jsonWithShared, written into an arena: the same walk, the same text, the same cases left to the general way (-1). */
  private writeJsonWithShared(record: Record<string, unknown>, arena: LineArena): number {
    arena.byte(0x7b); // {
    let printed = false;
    let sawShared = false;
    let place = 0;
    for (const key in record) {
      // hasOwnProperty, not Object.hasOwn: V8 folds it to a map check in a for-in (a third of the walk's own time otherwise).
      if (!hasOwnProperty.call(record, key)) continue;
      const value = record[key];
      const shared = this.sharedText(key, value);
      if (shared !== undefined) {
        // Nothing before it in the line: without its leading comma.
        if (shared.length > 0) arena.bytes(shared, arena.length === 1 ? 1 : 0);
        sawShared = true;
        continue;
      }
      if (sawShared) return -1;
      // Records of one input have the same keys in the same order: the last walk's key at this
      // place, when it is this one, has passed the checks and has its text at hand (no Map lookups).
      let keyText: Buffer;
      if (this.walkKeys[place] === key) keyText = this.walkTexts[place]!;
      else {
        if (key === 'toJSON' || this.pruner.under(key) !== undefined) return -1;
        keyText = this.keyText(key);
        if (place < MAX_WALK_KEYS && keyText.length <= MAX_WALK_KEY_BYTES) {
          this.walkKeys[place] = key;
          this.walkTexts[place] = keyText;
        }
      }
      place++;
      const t = typeof value;
      if (t === 'undefined' || t === 'function' || t === 'symbol') continue;
      if (t === 'bigint') return -1;
      if (t === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') return -1;
      if (printed) arena.byte(0x2c); // ,
      arena.bytes(keyText);
      switch (t) {
        case 'string': {
          const v = value as string;
          if (v.length > MAX_ARENA_STRING) return -1;
          arena.jsonString(v);
          break;
        }
        case 'number':
          arena.ascii(Number.isFinite(value) ? String(value) : 'null');
          break;
        case 'boolean':
          arena.ascii(value ? 'true' : 'false');
          break;
        default: {
          let text: string;
          try {
            text = JSON.stringify(value);
          } catch {
            return -1;
          }
          if (text.length > MAX_ARENA_STRING) return -1;
          arena.utf8(text);
        }
      }
      printed = true;
    }
    // No shared map: the general way.
    if (!sawShared) return -1;
    arena.byte(0x7d); // }
    return arena.length;
  }

  /** `"key":` as JSON.stringify prints a key, in UTF-8, kept for the keys records have in common. */
  private keyText(key: string): Buffer {
    let kept = this.keyTexts.get(key);
    if (kept === undefined) {
      kept = Buffer.from(`${JSON.stringify(key)}:`, 'utf8');
      if (this.keyTexts.size < MAX_KEY_TEXTS) this.keyTexts.set(key, kept);
    }
    return kept;
  }

  /** `,"key":<text>` in UTF-8 of a shared map under a top-level key (empty when the key is removed), else undefined. */
  private sharedText(key: string, value: unknown): Buffer | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    // Records come in runs from one file or pod, sharing one map: the last one's text is at hand.
    if (value === this.lastShared && key === this.lastSharedKey) return this.lastSharedText;
    if (!Object.isFrozen(value)) return undefined;
    const shared = this.findSharedText(key, value);
    if (shared !== undefined) {
      this.lastShared = value;
      this.lastSharedKey = key;
      this.lastSharedText = shared;
    }
    return shared;
  }

  private findSharedText(key: string, value: object): Buffer | undefined {
    let entry = this.sharedKeys.get(key);
    if (entry === undefined) {
      if (this.sharedKeys.size >= MAX_SHARED_KEYS) return undefined;
      entry = { prefix: `,${JSON.stringify(key)}:`, node: this.pruner.under(key), texts: new WeakMap() };
      this.sharedKeys.set(key, entry);
    }
    let shared = entry.texts.get(value);
    if (shared === undefined) {
      shared = null;
      if (isSharedMap(value)) {
        const pruned = RecordPruner.pruneUnder(value, entry.node);
        try {
          shared = Buffer.from(pruned === REMOVED ? '' : entry.prefix + JSON.stringify(pruned), 'utf8');
        } catch {
          // Longer than V8's strings: printed the general way (which cuts it).
        }
      }
      entry.texts.set(value, shared);
    }
    return shared ?? undefined;
  }

  private formatSingle(value: unknown): string {
    if (typeof value === 'string' && (this.keyValue || this.dropSingleKey === 'raw')) return value;
    return this.keyValue ? keyValueValue(value, this.maxChars) : toJson(value, this.maxChars);
  }
}

/** Whether a value of the record is a frozen map (cheap: records with no shared map skip jsonWithShared). */
function hasFrozenValue(record: Record<string, unknown>): boolean {
  for (const key in record) {
    const v = record[key];
    if (v !== null && typeof v === 'object' && Object.isFrozen(v)) return true;
  }
  return false;
}

/** The only own key of a map, or undefined when it has none or several. */
function singleKey(rec: Record<string, unknown>): string | undefined {
  let found: string | undefined;
  for (const key in rec) {
    if (!Object.hasOwn(rec, key)) continue;
    if (found !== undefined) return undefined;
    found = key;
  }
  return found;
}

function keyValueLine(rec: Record<string, unknown>, maxChars: number): string {
  let out = '';
  for (const key in rec) {
    if (!Object.hasOwn(rec, key)) continue;
    const v = rec[key];
    if (v === undefined) continue;
    if (out.length > 0) out += ' ';
    out += `${key}=${keyValueValue(v, maxChars)}`;
    if (out.length > maxChars) break;
  }
  return out;
}

function keyValueValue(v: unknown, maxChars: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'null';
    default:
      return v === null ? 'null' : JSON.stringify(toJson(v, maxChars));
  }
}
