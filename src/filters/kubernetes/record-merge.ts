/**
 * The record the filter writes, key by key as Fluent Bit writes it: the record's own keys in their
 * order (`log` kept or dropped per keep_log), then the keys merged from `log` (or merge_log_key with
 * them), then `kubernetes`, then `kubernetes_namespace`.
 *
 * merge_log, as Fluent Bit's: `log` holding a map is merged as it is; a string is parsed by the pod's
 * parser (annotation) if it has one, else merge_parser if set, else as JSON (a single object only) —
 * one of them, never a second try. A failed parse leaves `log` alone; so does a `log` nesting deeper
 * than a record may be (MAX_RECORD_NESTING, one level less under merge_log_key), counted in `tooDeep`.
 */
import { MAX_RECORD_NESTING, nestingExceeds } from '../../core/limits.js';
import type { Parser } from '../../parsers/registry.js';

export interface MergeOptions {
  mergeLog: boolean;
  mergeLogKey: string | undefined;
  mergeLogTrim: boolean;
  keepLog: boolean;
  mergeParser: Parser | undefined;
}

/** What became of `log`. */
const enum Merge {
  /** No `log` key, or merge_log off. */
  Absent,
  /** Not parsed (not JSON, no parser match). */
  None,
  Parsed,
  /** `log` was already a map. */
  Map,
  /** `log` of another type (a number...): kept with keep_log, dropped without, as Fluent Bit does. */
  Other,
}

export interface MergeResult {
  record: Record<string, unknown>;
  /** The time a parser read from `log`, if any. */
  time: bigint | undefined;
  /** `log` strings left unmerged so far because they nest too deeply (the filter may export it). */
  tooDeep?: number;
}

const HAS = Object.prototype.hasOwnProperty;

/**
 * The output record. `kube` and `namespace` are the maps to add (undefined: not added). `record` is
 * changed in place when nothing but appending the maps is needed; otherwise a new object is returned.
 */
export function mergeRecord(
  record: Record<string, unknown>,
  kube: Record<string, unknown> | undefined,
  namespace: Record<string, unknown> | undefined,
  parser: Parser | undefined,
  options: MergeOptions,
  out: MergeResult,
): void {
  out.time = undefined;
  let merge = Merge.Absent;
  let parsed: Record<string, unknown> | undefined;
  let log: unknown;
  if (options.mergeLog && HAS.call(record, 'log')) {
    log = record.log;
    if (isMap(log)) {
      merge = Merge.Map;
      parsed = log;
    } else if (typeof log === 'string') {
      const p = parser ?? options.mergeParser;
      const levels = options.mergeLogKey === undefined ? MAX_RECORD_NESTING : MAX_RECORD_NESTING - 1;
      if (p !== undefined) {
        const deepBefore = p.tooDeep;
        let result = p.parse(log);
        let deep = p.tooDeep !== deepBefore;
        if (result !== undefined && options.mergeLogKey !== undefined && nestingExceeds(result.record, levels)) {
          result = undefined;
          deep = true;
        }
        if (deep) out.tooDeep = (out.tooDeep ?? 0) + 1;
        if (result !== undefined) {
          merge = Merge.Parsed;
          parsed = result.record;
          out.time = result.time;
        } else merge = Merge.None;
      } else {
        parsed = parseJsonObject(log);
        if (parsed !== undefined && nestingExceeds(parsed, levels)) {
          parsed = undefined;
          out.tooDeep = (out.tooDeep ?? 0) + 1;
        }
        merge = parsed === undefined ? Merge.None : Merge.Parsed;
      }
    } else merge = Merge.Other;
  }
  // Nothing merged (no `log`, or one that is not JSON, which stays as it is): the record's own keys
  // keep their places, so the maps can be appended to it rather than to a copy.
  if ((merge === Merge.Absent || merge === Merge.None) && appendInPlace(record, kube, namespace)) {
    out.record = record;
    return;
  }
  const result: Record<string, unknown> = {};
  for (const key in record) {
    if ((key === 'kubernetes' && kube !== undefined) || (key === 'kubernetes_namespace' && namespace !== undefined)) continue;
    if (key === 'log' && merge !== Merge.Absent) {
      if (options.keepLog || merge === Merge.None) result.log = log;
      continue;
    }
    result[key] = record[key];
  }
  if (parsed !== undefined) {
    const trim = merge === Merge.Parsed && options.mergeLogTrim;
    if (options.mergeLogKey !== undefined) {
      if (hasKeys(parsed)) result[options.mergeLogKey] = trim ? trimmedCopy(parsed) : parsed;
    } else {
      for (const key in parsed) result[key] = trim ? trimValue(parsed[key]) : parsed[key];
    }
  }
  if (kube !== undefined) result.kubernetes = kube;
  if (namespace !== undefined) result.kubernetes_namespace = namespace;
  out.record = result;
}

/**
 * Appends the maps to the record itself when that keeps Fluent Bit's order: the record has neither key
 * yet, or has them last already (the tail input's file name metadata is `kubernetes`, its last key).
 */
function appendInPlace(record: Record<string, unknown>, kube: Record<string, unknown> | undefined, namespace: Record<string, unknown> | undefined): boolean {
  const hasKube = kube !== undefined && HAS.call(record, 'kubernetes');
  const hasNamespace = namespace !== undefined && HAS.call(record, 'kubernetes_namespace');
  if (hasKube || hasNamespace) {
    let last: string | undefined;
    let beforeLast: string | undefined;
    for (const key in record) {
      beforeLast = last;
      last = key;
    }
    let inOrder: boolean;
    if (hasKube && hasNamespace) inOrder = beforeLast === 'kubernetes' && last === 'kubernetes_namespace';
    else if (hasKube) inOrder = last === 'kubernetes';
    else inOrder = kube === undefined && last === 'kubernetes_namespace';
    if (!inOrder) return false;
  }
  if (kube !== undefined) record.kubernetes = kube;
  if (namespace !== undefined) record.kubernetes_namespace = namespace;
  return true;
}

/** A JSON object, or undefined: Fluent Bit merges a single JSON map only (not an array, a string, two maps). */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isMap(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function hasKeys(o: Record<string, unknown>): boolean {
  for (const _ in o) return true;
  return false;
}

function trimmedCopy(parsed: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in parsed) out[key] = trimValue(parsed[key]);
  return out;
}

/**
 * merge_log_trim, as Fluent Bit does it: from the end of a string value, drop newlines and the
 * two-character sequences `\n` and `\r` (a backslash and a letter), never the first character.
 */
export function trimValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let size = value.length;
  for (let i = size - 1; i > 0; i--) {
    const c = value.charCodeAt(i);
    if (c === 0x0a) {
      size--;
      continue;
    }
    if (value.charCodeAt(i - 1) === 0x5c && (c === 0x6e || c === 0x72)) {
      size -= 2;
      i--;
    } else break;
  }
  return size === value.length ? value : value.slice(0, size);
}
