/**
 * `line_format fluentd_key_value`: the line fluent-plugin-grafana-loki writes with its default
 * `line_format key_value` (grafana/loki clients/cmd/fluentd/lib/fluent/plugin/out_loki.rb,
 * `record_to_line`), which differs from Fluent Bit's key_value:
 *
 * - each `k=v` joined by one space, the key as it is;
 * - v is Ruby's `v.to_s` (a string as it is, nil as nothing, a float as Ruby prints it, a map or array
 *   as Ruby 3.4's `inspect`: `{"a" => 1}`, `["x", nil]`), then `"` and `\` get a backslash before them;
 * - v is quoted `"..."` only when it holds a space or `=`.
 *
 * With drop_single_key and one key left, the plugin sends that value alone (`to_s` for a non-string
 * here: the plugin would send a JSON number Loki refuses).
 */

export function fluentdKeyValueLine(record: Record<string, unknown>, maxChars: number): string {
  let out = '';
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const value = record[key];
    if (value === undefined) continue;
    const v = rubyToS(value).replace(/(["\\])/g, '\\$1');
    if (out.length > 0) out += ' ';
    out += v.includes(' ') || v.includes('=') ? `${key}="${v}"` : `${key}=${v}`;
    if (out.length > maxChars) break;
  }
  return out;
}

/** Ruby's `to_s` of a value decoded from JSON or msgpack. */
export function rubyToS(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return rubyInspect(value);
}

/** Ruby 3.4's `inspect`. */
export function rubyInspect(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return rubyStringInspect(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      return rubyNumber(value);
    case 'undefined':
      return 'nil';
    default:
      break;
  }
  if (value === null) return 'nil';
  if (Array.isArray(value)) return `[${value.map(rubyInspect).join(', ')}]`;
  if (value instanceof Uint8Array) return rubyStringInspect(Buffer.from(value).toString('latin1'));
  const parts: string[] = [];
  for (const key in value as Record<string, unknown>) parts.push(`${rubyStringInspect(key)} => ${rubyInspect((value as Record<string, unknown>)[key])}`);
  return `{${parts.join(', ')}}`;
}

/**
 * A number as Ruby prints it. Integers (msgpack and JSON integers decode to whole numbers) as
 * Integer#to_s; others as Float#to_s: plain between 1e-4 and 1e16, else `1.5e-07` / `1.0e+20`.
 */
export function rubyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e-4 && abs < 1e16) return String(n);
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string];
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  const sign = exponent.startsWith('-') ? '-' : '+';
  const digits = exponent.replace(/^[-+]/, '').padStart(2, '0');
  return `${m}e${sign}${digits}`;
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\f': '\\f', '\v': '\\v', '\b': '\\b', '\x07': '\\a', '\x1b': '\\e' };

/** String#inspect of a UTF-8 string: quotes, backslash escapes, `#{` `#$` `#@` escaped, other controls as \uXXXX. */
export function rubyStringInspect(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    const escape = ESCAPES[c];
    if (escape !== undefined) out += escape;
    else if (c === '#' && (s[i + 1] === '{' || s[i + 1] === '$' || s[i + 1] === '@')) out += '\\#';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0xfffe || code === 0xffff) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += c;
  }
  return out + '"';
}
