/**
 * `decode_field` / `decode_field_as` rules of a parser (Fluent Bit's flb_parser_decoder.c), applied
 * to the parsed record:
 *  - `decode_field_as <decoder> <key> [action]` replaces the key's string value with what the
 *    decoder made of it (an object for `json`, a string for the others);
 *  - `decode_field <decoder> <key> [action]` keeps the value and appends the keys of the object the
 *    `json` decoder made of it to the end of the record (only the last such key's are kept, as in
 *    Fluent Bit);
 *  - decoders: `json` (a JSON object, possibly after leading spaces and followed by trailing text),
 *    `escaped`, `escaped_utf8`, `mysql_quoted`;
 *  - actions: none (stop after the first rule that ran), `try_next` (on failure go on, on success
 *    stop), `do_next` (go on either way; the next rule sees the decoded text).
 * Rules of a key run in the order they were written; a key decoded as an object takes no more rules.
 * A `json` value nested deeper than a record may be (its keys' values included) fails to decode,
 * as text that is not JSON does, and is counted in `tooDeep`.
 */
import { MAX_RECORD_NESTING } from '../core/limits.js';
import { parseOneJsonValue, TOO_DEEP } from './formats/json-text.js';
import { unescapeEscaped, unescapeUtf8, unquoteMysql } from './unescape.js';

export type DecoderBackend = 'json' | 'escaped' | 'escaped_utf8' | 'mysql_quoted';
export type DecoderAction = 'none' | 'try_next' | 'do_next';

export interface DecoderRule {
  /** `decode_field_as` replaces the value; `decode_field` adds the decoded keys. */
  as: boolean;
  backend: DecoderBackend;
  action: DecoderAction;
}

export class DecoderConfigError extends Error {}

const BACKENDS = new Set<DecoderBackend>(['json', 'escaped', 'escaped_utf8', 'mysql_quoted']);

export class Decoders {
  /** Rules by key, keys in the order they first appeared. */
  private readonly byKey = new Map<string, DecoderRule[]>();
  /** `json` values left undecoded for nesting deeper than a record may. */
  tooDeep = 0;

  get empty(): boolean {
    return this.byKey.size === 0;
  }

  /** Adds one `decode_field[_as]` entry's value: `<decoder> <key> [action]`. */
  add(as: boolean, value: string): void {
    const parts = splitThree(value);
    if (parts.length < 2) throw new DecoderConfigError(`expected "<decoder> <key> [action]", got ${JSON.stringify(value)}`);
    const backend = parts[0]!.toLowerCase() as DecoderBackend;
    if (!BACKENDS.has(backend)) throw new DecoderConfigError(`unknown decoder ${JSON.stringify(parts[0])} (json, escaped, escaped_utf8 or mysql_quoted)`);
    const a = parts[2]?.toLowerCase();
    const action: DecoderAction = a === 'try_next' || a === 'do_next' ? a : 'none';
    const key = parts[1]!;
    let rules = this.byKey.get(key);
    if (rules === undefined) this.byKey.set(key, (rules = []));
    rules.push({ as, backend, action });
  }

  /** Applies the rules to `record` in place (keys keep their places). */
  apply(record: Record<string, unknown>): void {
    let extra: Record<string, unknown> | undefined;
    for (const [key, rules] of this.byKey) {
      const original = record[key];
      if (typeof original !== 'string') continue;
      let data = original;
      let asValue: unknown;
      let decodedAs = false;
      let added: Record<string, unknown> | undefined;
      let decoded = false;
      let addsKeys = false;
      for (const rule of rules) {
        if (!rule.as) addsKeys = true;
        if (!rule.as && rule.action === 'do_next' && decoded) continue;
        if (decodedAs && typeof asValue !== 'string') continue;
        let out = decode(rule.backend, data, rule.as);
        if (out === TOO_DEEP) {
          this.tooDeep++;
          out = undefined;
        }
        if (out === undefined) {
          if (rule.action === 'try_next' || rule.action === 'do_next') continue;
          break;
        }
        if (rule.as) {
          asValue = out;
          decodedAs = true;
          if (typeof out === 'string') data = out;
        } else {
          decoded = true;
          // A string cannot be added as keys (Fluent Bit logs "string type is not allowed").
          added = typeof out === 'object' ? (out as Record<string, unknown>) : undefined;
        }
        if (rule.action !== 'do_next') break;
      }
      if (decodedAs) record[key] = asValue;
      if (addsKeys) extra = added;
    }
    if (extra !== undefined) {
      for (const k of Object.keys(extra)) {
        // Fluent Bit appends the keys; printed, a repeated key shows its last value in its last place.
        delete record[k];
        record[k] = extra[k];
      }
    }
  }
}

/**
 * The decoded value, undefined when it does not decode, TOO_DEEP for JSON nested too deeply: a value
 * that replaces a key's (`as`) is one level down in the record; keys added go at its top.
 */
function decode(backend: DecoderBackend, text: string, as: boolean): unknown {
  switch (backend) {
    case 'json': {
      let i = 0;
      while (text.charCodeAt(i) === 0x20) i++;
      const c = text.charCodeAt(i);
      if (c !== 0x7b && c !== 0x5b) return undefined;
      const v = parseOneJsonValue(i === 0 ? text : text.slice(i), as ? MAX_RECORD_NESTING - 1 : MAX_RECORD_NESTING);
      if (v === TOO_DEEP) return v;
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
    }
    case 'escaped':
      return unescapeEscaped(text);
    case 'escaped_utf8':
      return unescapeUtf8(text);
    case 'mysql_quoted':
      return unquoteMysql(text);
  }
}

/** flb_utils_split(value, ' ', 3): at most three parts, the last one keeps the rest. */
function splitThree(value: string): string[] {
  const out: string[] = [];
  let rest = value.trim();
  while (rest.length > 0 && out.length < 2) {
    const sp = rest.indexOf(' ');
    if (sp < 0) break;
    out.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1).trimStart();
  }
  if (rest.length > 0) out.push(rest);
  return out;
}
