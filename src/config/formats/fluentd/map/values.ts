/** Fluentd's value forms, in floki's: `/regex/` literals, `$.a.b` record accessors, time formats, JSON lists. */

/** The body of a `/regex/` (flags after the last `/` returned apart); a value without slashes is the regex itself. */
export function regexBody(value: string): { source: string; flags: string } {
  const v = value.trim();
  if (v.startsWith('/')) {
    const end = v.lastIndexOf('/');
    if (end > 0) return { source: v.slice(1, end), flags: v.slice(end + 1) };
  }
  return { source: v, flags: '' };
}

/**
 * A Fluentd record accessor (`$.a.b`, `$['a']['b']`, `$.a[0]`) or a plain key, as floki's record
 * accessor (Fluent Bit's `$a['b']`). A plain key stays as it is.
 */
export function accessorOf(key: string): string {
  const k = key.trim();
  if (!k.startsWith('$.') && !k.startsWith('$[')) return k;
  const parts: (string | number)[] = [];
  let i = 1;
  while (i < k.length) {
    if (k[i] === '.') {
      let j = i + 1;
      while (j < k.length && k[j] !== '.' && k[j] !== '[') j++;
      parts.push(k.slice(i + 1, j));
      i = j;
    } else if (k[i] === '[') {
      const end = k.indexOf(']', i);
      const inner = k.slice(i + 1, end < 0 ? k.length : end);
      const quoted = /^(['"])(.*)\1$/.exec(inner);
      parts.push(quoted ? quoted[2]! : /^\d+$/.test(inner) ? Number(inner) : inner);
      i = end < 0 ? k.length : end + 1;
    } else i++;
  }
  if (parts.length === 0) return k;
  const [first, ...rest] = parts;
  return `$${first}${rest.map((p) => (typeof p === 'number' ? `[${p}]` : `['${p}']`)).join('')}`;
}

/** The last part of an accessor's path (`$.kubernetes.labels.app` → `app`), for a label's name. */
export function accessorLeaf(key: string): string {
  const parts = key.split(/[.[\]'"]+/).filter((p) => p !== '' && p !== '$');
  return parts[parts.length - 1] ?? key;
}

/**
 * A Ruby strptime format in floki's (Fluent Bit's): `%N`, `%3N`, `%6N`, `%9N` (fractions) become
 * `%L` (1 to 9 digits, read exactly), `%:z` and `%::z` become `%z`.
 */
export function timeFormatOf(format: string): string {
  return format.replace(/%[369]?N/g, '%L').replace(/%::?z/g, '%z');
}

/** Fluentd's `array` parameter: a JSON array, or a comma-separated list. */
export function listOf(value: string): string[] {
  const v = value.trim();
  if (v.startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (Array.isArray(parsed)) return parsed.map((x) => String(x));
    } catch {
      // Not JSON: a comma list after all.
    }
  }
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Fluentd's `hash` parameter: a JSON object, or `k1:v1,k2:v2`. Undefined when neither. */
export function hashOf(value: string): Record<string, string> | undefined {
  const v = value.trim();
  if (v.startsWith('{')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]));
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const pair of v.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf(':');
    if (at < 0) return undefined;
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

/** A Fluentd size (`8m`, `256k`, `1g`, bytes) in bytes; undefined when it is not one. */
export function sizeOf(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$/i.exec(value);
  if (!m) return undefined;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * scale);
}

/** A Fluentd time (`10s`, `5m`, `1h`, `1d`, seconds) in milliseconds; undefined when it is not one. */
export function durationOf(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/i.exec(value);
  if (!m) return undefined;
  const scale = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * scale * 1000);
}

/** Milliseconds as a floki duration (`1500ms`). */
export function msText(ms: number): string {
  return `${ms}ms`;
}
