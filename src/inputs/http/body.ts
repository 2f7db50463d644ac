/**
 * A request body to records: a JSON object, an array of objects, newline-delimited JSON (one object a
 * line), or an HTML form (`application/x-www-form-urlencoded`, one record, as Fluent Bit reads it).
 * Anything else is a `BadBodyError` whose message says what and where, for the 400 answer; so is a
 * record nested deeper than MAX_RECORD_NESTING, refused before it is queued (and answered 2xx), since
 * what the pipeline does with a record (print it, prune it) walks its nesting.
 */
import { MAX_RECORD_NESTING, nestingExceeds } from '../../core/limits.js';

export class BadBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadBodyError';
  }
}

type Record_ = Record<string, unknown>;

export function parseBody(text: string, contentType: string | undefined): Record_[] {
  if (contentType !== undefined && /^application\/x-www-form-urlencoded\b/i.test(contentType)) return [formRecord(text)];
  const start = firstNonSpace(text);
  if (start < 0) throw new BadBodyError('empty body: expected a JSON object, an array of objects, or one JSON object per line');
  if (text.charCodeAt(start) === 0x5b /* [ */) return arrayRecords(text);
  // One object (possibly pretty-printed over several lines) is the common case: try it whole first.
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch (err) {
    if (!text.includes('\n', start)) throw new BadBodyError(`invalid JSON: ${reason(err)}`);
    return lineRecords(text);
  }
  if (!isObject(whole)) throw new BadBodyError(`expected a JSON object, an array of objects or JSON lines, got ${kind(whole)}`);
  if (nestingExceeds(whole)) throw tooDeep('the record');
  return [whole];
}

function arrayRecords(text: string): Record_[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadBodyError(`invalid JSON: ${reason(err)}`);
  }
  const list = parsed as unknown[];
  for (let i = 0; i < list.length; i++) {
    if (!isObject(list[i])) throw new BadBodyError(`array element ${i} is ${kind(list[i])}, not a JSON object`);
    if (nestingExceeds(list[i])) throw tooDeep(`array element ${i}`);
  }
  return list as Record_[];
}

function lineRecords(text: string): Record_[] {
  const out: Record_[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (firstNonSpace(line) < 0) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new BadBodyError(`invalid JSON on line ${i + 1}: ${reason(err)}`);
    }
    if (!isObject(parsed)) throw new BadBodyError(`line ${i + 1} is ${kind(parsed)}, not a JSON object`);
    if (nestingExceeds(parsed)) throw tooDeep(`line ${i + 1}`);
    out.push(parsed);
  }
  return out;
}

function formRecord(text: string): Record_ {
  const record: Record_ = {};
  for (const [k, v] of new URLSearchParams(text)) record[k] = v;
  if (Object.keys(record).length === 0) throw new BadBodyError('empty form');
  return record;
}

function tooDeep(where: string): BadBodyError {
  return new BadBodyError(`${where} nests objects and arrays deeper than ${MAX_RECORD_NESTING} levels, the most a record may have`);
}

function isObject(v: unknown): v is Record_ {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstNonSpace(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
  }
  return -1;
}
