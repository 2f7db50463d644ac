/**
 * Fluentd's record accessor (lib/fluent/plugin_helper/record_accessor.rb, `Accessor.parse_parameter`):
 * `$.a.b[0]` (dot notation, array indexes in brackets), `$['a'][0]["b"]` (bracket notation), or a
 * plain key, which is one top-level key whatever it holds (`a.b` is the key "a.b").
 */
export type FluentdKey = string | number;

/** The keys of an accessor; throws an Error naming it when Fluentd would refuse it (ConfigError). */
export function parseFluentdAccessor(param: string): FluentdKey[] {
  if (param.startsWith('$.')) return dotNotation(param);
  if (param.startsWith('$[')) return bracketNotation(param);
  return [param];
}

function dotNotation(param: string): FluentdKey[] {
  const result: FluentdKey[] = [];
  for (const key of param.slice(2).split('.')) {
    if (key.length === 0) continue; // Ruby's split drops trailing empties; a middle one is kept below
    if (!key.includes('[')) {
      result.push(key);
      continue;
    }
    const start = key.indexOf('[');
    if (start > 0) result.push(key.slice(0, start));
    let rest = key.slice(start + 1);
    let inBracket = true;
    while (rest.length > 0) {
      if (inBracket) {
        const i = rest.indexOf(']');
        if (i < 0) throw new Error(`'[' found but ']' not found. Invalid syntax: ${param}`);
        result.push(integer(rest.slice(0, i), param));
        rest = rest.slice(i + 1);
        inBracket = false;
      } else {
        const i = rest.indexOf('[');
        if (i < 0) throw new Error(`found more characters after ']'. Invalid syntax: ${param}`);
        rest = rest.slice(i + 1);
        inBracket = true;
      }
    }
  }
  if (result.length === 0) throw new Error(`empty keys in dot notation: ${param}`);
  for (const k of result) if (typeof k === 'string' && /\s/.test(k)) throw new Error(`whitespace character is not allowed in dot notation. Use bracket notation: ${k}`);
  return result;
}

function bracketNotation(orig: string): FluentdKey[] {
  const result: FluentdKey[] = [];
  let param = orig.slice(1);
  let inBracket = false;
  while (param.length > 0) {
    if (inBracket) {
      if (param[0] === "'" || param[0] === '"') {
        let i = param.indexOf("']");
        if (i < 0) i = param.indexOf('"]');
        if (i < 0) throw new Error(`Incomplete bracket. Invalid syntax: ${orig}`);
        if (param[0] !== param[i]) throw new Error(`Mismatched quotes. Invalid syntax: ${orig}`);
        result.push(param.slice(1, i));
        param = param.slice(i + 2);
      } else {
        const i = param.indexOf(']');
        if (i < 0) throw new Error(`'[' found but ']' not found. Invalid syntax: ${orig}`);
        result.push(integer(param.slice(0, i), orig));
        param = param.slice(i + 1);
      }
      inBracket = false;
    } else {
      const i = param.indexOf('[');
      if (i < 0) throw new Error(`found more characters after ']'. Invalid syntax: ${orig}`);
      param = param.slice(i + 1);
      inBracket = true;
    }
  }
  if (result.length === 0) throw new Error(`empty keys in bracket notation: ${orig}`);
  return result;
}

function integer(text: string, param: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) throw new Error(`invalid array index '${text}' in ${param}`);
  return Number(text);
}

/** `r.dig(*keys)`: undefined when a step is missing or not a container. */
export function digFluentd(record: unknown, keys: readonly FluentdKey[]): unknown {
  let v: unknown = record;
  for (const k of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    if (Array.isArray(v)) {
      if (typeof k !== 'number') return undefined;
      v = v[k < 0 ? v.length + k : k];
    } else {
      if (typeof k !== 'string') return undefined;
      v = Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
    }
  }
  return v;
}

/**
 * Accessor#delete / delete_nest: the last key removed from the container the others lead to. The
 * containers on the way are copied first, never changed in place: records share maps (the kubernetes
 * filter gives every record of a container the same `kubernetes` map), and another route may hold the
 * same record.
 */
export function deleteFluentd(record: Record<string, unknown>, keys: readonly FluentdKey[]): void {
  const last = keys[keys.length - 1]!;
  if (keys.length === 1) {
    if (typeof last === 'string') delete record[last];
    return;
  }
  if (digFluentd(record, keys) === undefined && !hasLast(digFluentd(record, keys.slice(0, -1)), last)) return;
  let parent: Record<string, unknown> | unknown[] = record;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    const child: unknown = Array.isArray(parent) ? parent[(k as number) < 0 ? parent.length + (k as number) : (k as number)] : (parent as Record<string, unknown>)[k as string];
    const copy: Record<string, unknown> | unknown[] = Array.isArray(child) ? child.slice() : { ...(child as Record<string, unknown>) };
    if (Array.isArray(parent)) parent[(k as number) < 0 ? parent.length + (k as number) : (k as number)] = copy;
    else (parent as Record<string, unknown>)[k as string] = copy;
    parent = copy;
  }
  if (Array.isArray(parent)) {
    if (typeof last === 'number') {
      const i = last < 0 ? parent.length + last : last;
      if (i >= 0 && i < parent.length) parent.splice(i, 1);
    }
  } else if (typeof last === 'string') delete parent[last];
}

/** The container holds the key (so deleting it changes something). */
function hasLast(container: unknown, last: FluentdKey): boolean {
  if (container === null || typeof container !== 'object') return false;
  if (Array.isArray(container)) return typeof last === 'number' && (last < 0 ? container.length + last >= 0 : last < container.length);
  return typeof last === 'string' && Object.hasOwn(container, last);
}
