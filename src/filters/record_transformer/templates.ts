/**
 * record_transformer's `${...}` templates, compiled once, as Fluentd expands them
 * (lib/fluent/plugin/filter_record_transformer.rb, v1.19):
 *
 * Without enable_ruby (`PlaceholderExpander`): the placeholders are exactly `${tag}`, `${hostname}`,
 * `${time}` (`Time.at(time).to_s`), `${tag_parts[N]}`, `${tag_prefix[N]}`, `${tag_suffix[N]}` (N from
 * -size to size-1) and `${record["key"]}` (a top-level key, double quotes: `prepare_placeholders`).
 * Anything else in `${...}` (or `__UPPER__`) is unknown: Fluentd warns and puts nil. With auto_typecast
 * a value that is one placeholder and nothing else keeps the value's type; otherwise each placeholder
 * is replaced by its `to_s` (nil: nothing) in the text (`expand`).
 *
 * With enable_ruby (`RubyPlaceholderExpander`) the inside of `${...}` is Ruby. floki runs no Ruby: it
 * accepts the expressions that are lookups — `tag`, `hostname`, `time`, `tag_parts[N]`, `tag_prefix[N]`,
 * `tag_suffix[N]`, `record["a"]["b"]...` (quotes of either kind, integer indexes), `record.dig("a", 0)` —
 * and refuses any other at load, naming the template. `record["a"]["b"]` where `record["a"]` is nil is
 * an error in Ruby (NoMethodError): the event is dropped, as Fluentd sends it to its error stream.
 */
import { rubyToS } from '../../labels/fluentd-key-value.js';
import { digFluentd, type FluentdKey } from '../common/fluentd-accessor.js';

/** What one event's templates may read. */
export interface TemplateScope {
  tag: string;
  tagParts: string[];
  tagPrefix: string[];
  tagSuffix: string[];
  hostname: string;
  /** `Time.at(time).to_s`. */
  time: string;
  record: Record<string, unknown>;
}

/** A compiled template: the value it gives for an event. */
export type Template = (scope: TemplateScope) => unknown;

/** A template refused at load (the message names it). */
export class TemplateError extends Error {}

/** An error Ruby would raise while expanding: the event goes to Fluentd's error stream. */
export class ExpandError extends Error {}

type Lookup = (scope: TemplateScope) => unknown;

export interface TemplateOptions {
  enableRuby: boolean;
  autoTypecast: boolean;
  /** Fluentd warns of an unknown placeholder (per record; floki once per placeholder). */
  unknown(placeholder: string): void;
}

const PLACEHOLDER = /(\$\{[^}]+\}|__[A-Z_]+__)/g;
const SINGLE_PLACEHOLDER = /^(\$\{[^}]+\}|__[A-Z_]+__)$/;

/** Compiles one template string; `forceString` for a key of the `record` map (always text). */
export function compileTemplate(text: string, options: TemplateOptions, forceString = false): Template {
  return options.enableRuby ? compileRuby(text, options, forceString) : compilePlain(text, options, forceString);
}

function compilePlain(text: string, options: TemplateOptions, forceString: boolean): Template {
  if (options.autoTypecast && !forceString && SINGLE_PLACEHOLDER.test(text)) {
    const lookup = plainLookup(text, options);
    return (scope) => lookup(scope) ?? null;
  }
  const parts: (string | Lookup)[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index! > last) parts.push(text.slice(last, m.index));
    parts.push(plainLookup(m[0], options));
    last = m.index! + m[0].length;
  }
  if (last === 0 && parts.length === 0) return () => text;
  if (last < text.length) parts.push(text.slice(last));
  return (scope) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : rubyToS(p(scope));
    return out;
  };
}

/** The lookup of one placeholder of `prepare_placeholders`, or a warning and nil. */
function plainLookup(placeholder: string, options: TemplateOptions): Lookup {
  switch (placeholder) {
    case '${tag}':
      return (s) => s.tag;
    case '${hostname}':
      return (s) => s.hostname;
    case '${time}':
      return (s) => s.time;
    default:
      break;
  }
  const indexed = /^\$\{(tag_parts|tag_prefix|tag_suffix)\[(-?(?:0|[1-9]\d*))\]\}$/.exec(placeholder);
  if (indexed !== null) {
    const list = listOf(indexed[1]!);
    const n = Number(indexed[2]);
    // Only indexes from -size to size-1 exist as placeholders; any other is unknown.
    return (s) => {
      const parts = list(s);
      if (n >= parts.length || n < -parts.length) {
        options.unknown(placeholder);
        return undefined;
      }
      return parts[n < 0 ? parts.length + n : n];
    };
  }
  const record = /^\$\{record\["([^"]*)"\]\}$/.exec(placeholder);
  if (record !== null) {
    const key = record[1]!;
    return (s) => {
      if (!Object.hasOwn(s.record, key)) {
        options.unknown(placeholder);
        return undefined;
      }
      return s.record[key];
    };
  }
  return () => {
    options.unknown(placeholder);
    return undefined;
  };
}

function listOf(name: string): (s: TemplateScope) => string[] {
  if (name === 'tag_parts') return (s) => s.tagParts;
  if (name === 'tag_prefix') return (s) => s.tagPrefix;
  return (s) => s.tagSuffix;
}

/** `preprocess_map`: one `${expr}` and nothing else keeps its type (auto_typecast); else `%Q[...#{expr}...]`. */
function compileRuby(text: string, options: TemplateOptions, forceString: boolean): Template {
  const count = text.split('${').length - 1;
  if (options.autoTypecast && !forceString && count === 1 && text.startsWith('${') && text.endsWith('}')) {
    const lookup = rubyExpression(text.slice(2, -1), text);
    return (scope) => lookup(scope) ?? null;
  }
  const parts: (string | Lookup)[] = [];
  let i = 0;
  let literal = '';
  while (i < text.length) {
    if (text.startsWith('${', i)) {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new TemplateError(`record_transformer: '${text}': a \${ without its closing }`);
      if (literal.length > 0) parts.push(literal);
      literal = '';
      parts.push(rubyExpression(text.slice(i + 2, end), text));
      i = end + 1;
    } else literal += text[i++];
  }
  if (literal.length > 0) parts.push(literal);
  return (scope) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : rubyToS(p(scope));
    return out;
  };
}

/** The `}` closing an interpolation that starts at `from`, past quoted strings and nested braces. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

const STRING = /^\s*(?:"((?:[^"\\#]|\\.|#(?![{$@]))*)"|'((?:[^'\\]|\\.)*)')\s*/;
const INTEGER = /^\s*(-?\d+)\s*/;

/** A Ruby expression that is a lookup, compiled; any other is refused naming the template. */
function rubyExpression(source: string, template: string): Lookup {
  const refuse = (): never => {
    throw new TemplateError(
      `record_transformer: enable_ruby expression '${source.trim()}' in '${template}' is not a lookup floki can run (tag, hostname, time, tag_parts[N], tag_prefix[N], tag_suffix[N], record["a"]["b"], record.dig(...)); floki runs no Ruby`,
    );
  };
  const expr = source.trim();
  if (expr === 'tag') return (s) => s.tag;
  if (expr === 'hostname') return (s) => s.hostname;
  if (expr === 'time') return (s) => s.time;
  const indexed = /^(tag_parts|tag_prefix|tag_suffix)\s*\[\s*(-?\d+)\s*\]$/.exec(expr);
  if (indexed !== null) {
    const list = listOf(indexed[1]!);
    const n = Number(indexed[2]);
    return (s) => {
      const parts = list(s);
      return parts[n < 0 ? parts.length + n : n];
    };
  }
  if (!expr.startsWith('record')) return refuse();
  let rest = expr.slice('record'.length);
  const dig = /^\s*(?:\.|&\.)dig\s*\((.*)\)\s*$/.exec(rest);
  if (dig !== null) {
    const keys: FluentdKey[] = [];
    let args = dig[1]!;
    while (args.trim().length > 0) {
      const key = readKey(args);
      if (key === undefined) return refuse();
      keys.push(key.value);
      args = key.rest.replace(/^\s*,/, '');
      if (args === key.rest && args.trim().length > 0) return refuse();
    }
    if (keys.length === 0) return refuse();
    return (s) => digFluentd(s.record, keys);
  }
  const keys: FluentdKey[] = [];
  while (rest.trim().length > 0) {
    const m = /^\s*\[/.exec(rest);
    if (m === null) return refuse();
    const key = readKey(rest.slice(m[0].length));
    if (key === undefined) return refuse();
    const close = /^\s*\]/.exec(key.rest);
    if (close === null) return refuse();
    keys.push(key.value);
    rest = key.rest.slice(close[0].length);
  }
  if (keys.length === 0) return (s) => s.record;
  return (s) => index(s.record, keys, expr);
}

function readKey(text: string): { value: FluentdKey; rest: string } | undefined {
  const str = STRING.exec(text);
  if (str !== null) {
    const raw = str[1] ?? str[2]!;
    const value = str[1] !== undefined ? raw.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[c] ?? c) : raw.replace(/\\([\\'])/g, '$1');
    return { value, rest: text.slice(str[0].length) };
  }
  const int = INTEGER.exec(text);
  if (int !== null) return { value: Number(int[1]), rest: text.slice(int[0].length) };
  return undefined;
}

/** `record[k1][k2]...` as Ruby evaluates it: nil[...] and a string key on an array raise. */
function index(record: Record<string, unknown>, keys: readonly FluentdKey[], expr: string): unknown {
  let v: unknown = record;
  for (const k of keys) {
    if (v === null || v === undefined) throw new ExpandError(`undefined method '[]' for nil (${expr})`);
    if (typeof v === 'string') {
      // String#[]: a string gives itself when found inside, an integer the character there.
      if (typeof k === 'string') v = v.includes(k) ? k : undefined;
      else {
        const chars = Array.from(v);
        v = chars[k < 0 ? chars.length + k : k];
      }
    } else if (Array.isArray(v)) {
      if (typeof k !== 'number') throw new ExpandError(`no implicit conversion of String into Integer (${expr})`);
      v = v[k < 0 ? v.length + k : k];
    } else if (typeof v === 'object') {
      v = typeof k === 'string' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
    } else throw new ExpandError(`cannot index ${typeof v} (${expr})`);
  }
  return v;
}
