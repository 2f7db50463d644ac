/**
 * Fluent Bit's record accessor: `$key`, `$key['sub']['sub2']`, `$key["sub"]`, `$list[0]`, and `$TAG` /
 * `$TAG[n]` for the event's tag (or its n-th dot-separated part). A pattern is compiled once into a path
 * array; `get` then walks the record without allocating.
 */

export class RecordAccessorSyntaxError extends Error {
  constructor(
    readonly pattern: string,
    readonly position: number,
    reason: string,
  ) {
    super(`invalid record accessor '${pattern}' at character ${position + 1}: ${reason}`);
    this.name = 'RecordAccessorSyntaxError';
  }
}

export type PathSegment = string | number;

export interface RecordAccessor {
  /** The pattern as written, e.g. `$kubernetes['labels']['app']`. */
  readonly pattern: string;
  /** Keys from the record's root, e.g. `['kubernetes', 'labels', 'app']`. */
  readonly path: readonly PathSegment[];
  /** The last key as a string (`app`). */
  readonly lastKey: string;
  /** True for `$TAG` / `$TAG[n]`, which read the event's tag instead of the record. */
  readonly isTag: boolean;
  /** The value at the path, or undefined when any step is missing or not a container. */
  get(record: Record<string, unknown>, tag?: string): unknown;
}

// Characters allowed in a bare key name: Fluent Bit accepts more than identifiers (dashes, dots, slashes
// appear in Kubernetes label keys), so reject only what would make the grammar ambiguous.
const BARE_KEY = /[^\s[\]'"$]/;

export function compileRecordAccessor(pattern: string): RecordAccessor {
  const text = pattern.trim();
  if (text[0] !== '$') throw new RecordAccessorSyntaxError(pattern, 0, "must start with '$'");
  let i = 1;
  const start = i;
  while (i < text.length && BARE_KEY.test(text[i]!)) i++;
  if (i === start) throw new RecordAccessorSyntaxError(pattern, i, 'expected a key name after $');
  const path: PathSegment[] = [text.slice(start, i)];

  while (i < text.length) {
    if (text[i] !== '[') throw new RecordAccessorSyntaxError(pattern, i, `unexpected '${text[i]}', expected '['`);
    i++;
    const quote = text[i];
    if (quote === "'" || quote === '"') {
      const close = text.indexOf(quote, i + 1);
      if (close < 0) throw new RecordAccessorSyntaxError(pattern, i, `unterminated ${quote} quote`);
      const key = text.slice(i + 1, close);
      if (key.length === 0) throw new RecordAccessorSyntaxError(pattern, i, 'empty key');
      path.push(key);
      i = close + 1;
    } else {
      let j = i;
      while (j < text.length && text[j]! >= '0' && text[j]! <= '9') j++;
      if (j === i) throw new RecordAccessorSyntaxError(pattern, i, "expected a quoted key or an array index inside '[ ]'");
      path.push(Number(text.slice(i, j)));
      i = j;
    }
    if (text[i] !== ']') throw new RecordAccessorSyntaxError(pattern, i, "expected ']'");
    i++;
  }

  const isTag = path[0] === 'TAG';
  if (isTag && (path.length > 2 || (path.length === 2 && typeof path[1] !== 'number'))) {
    throw new RecordAccessorSyntaxError(pattern, 4, '$TAG takes at most one numeric index, e.g. $TAG[1]');
  }
  const last = path[path.length - 1]!;
  return isTag ? tagAccessor(text, path) : recordAccessor(text, path, String(last));
}

/** An accessor of a path given as keys (label_map_path), as if written `$a['b']['c']`. */
export function pathAccessor(path: readonly string[]): RecordAccessor {
  if (path.length === 0) throw new Error('an accessor needs at least one key');
  return recordAccessor(`$${path[0]}${path.slice(1).map((k) => `[${JSON.stringify(k)}]`).join('')}`, [...path], path[path.length - 1]!);
}

function recordAccessor(pattern: string, path: PathSegment[], lastKey: string): RecordAccessor {
  const depth = path.length;
  const first = path[0] as string;
  return {
    pattern,
    path,
    lastKey,
    isTag: false,
    get(record: Record<string, unknown>): unknown {
      let v: unknown = Object.hasOwn(record, first) ? record[first] : undefined;
      for (let i = 1; i < depth; i++) {
        if (v === null || typeof v !== 'object') return undefined;
        const key = path[i]!;
        if (!Object.hasOwn(v, key)) return undefined;
        v = (v as Record<PathSegment, unknown>)[key];
      }
      return v;
    },
  };
}

function tagAccessor(pattern: string, path: PathSegment[]): RecordAccessor {
  const part = path.length === 2 ? (path[1] as number) : -1;
  return {
    pattern,
    path,
    lastKey: 'tag',
    isTag: true,
    get(_record: Record<string, unknown>, tag?: string): unknown {
      if (tag === undefined || part < 0) return tag;
      return tag.split('.')[part];
    },
  };
}

/**
 * The text Fluent Bit puts in a label for a record value: strings as they are, numbers and booleans
 * printed; maps, arrays, null and missing values give undefined (the label is left out).
 */
export function scalarToString(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return undefined;
  }
}
