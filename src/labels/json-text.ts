/**
 * A value as JSON text that never throws, for lines and structured metadata: an acked record must
 * not be lost because it cannot be printed.
 *
 * JSON.stringify first (native, fast). It throws on a record nested a few thousand levels deep
 * (V8's recursion runs out of stack: issue #11 had one 100,000 deep), on a bigint (msgpack int64),
 * on a cycle, and on text past V8's longest string. Then the same text is written by a loop with its
 * own stack instead: bigints as decimal strings, a value that contains itself as "[Circular]", and
 * the text cut off at `maxChars` (the Loki output cuts the line at max_line_size anyway).
 */

/** Longest text the fallback writes: well under V8's string limit (2^29 - 24 characters). */
export const MAX_JSON_CHARS = 2 ** 28;

export function toJson(value: unknown, maxChars = MAX_JSON_CHARS): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return iterativeJson(value, maxChars);
  }
}

interface Frame {
  readonly container: object;
  /** Object keys; undefined for an array. */
  readonly keys: string[] | undefined;
  readonly length: number;
  next: number;
  /** An object member was written (the next one needs a comma). */
  wrote: boolean;
}

const SKIP = Symbol('skip');

/** The value JSON.stringify would print for `holder[key]`: toJSON applied, boxed scalars unwrapped, bigint as a string. */
function prepare(value: unknown, key: string): unknown {
  let v = value;
  if (v !== null && (typeof v === 'object' || typeof v === 'bigint') && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return v.valueOf();
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return SKIP;
  return v;
}

/** JSON.stringify's text for `root`, written with a heap stack: any depth, bigints as strings. */
export function iterativeJson(root: unknown, maxChars = MAX_JSON_CHARS): string {
  const parts: string[] = [];
  let size = 0;
  const stack: Frame[] = [];
  const open = new Set<object>();

  const write = (text: string): void => {
    const room = maxChars - size;
    const kept = text.length > room ? text.slice(0, room) : text;
    parts.push(kept);
    size += kept.length;
  };
  const value = (v: unknown): void => {
    switch (typeof v) {
      case 'string':
        write(quote(v, maxChars - size));
        return;
      case 'number':
        write(Number.isFinite(v) ? String(v) : 'null');
        return;
      case 'boolean':
        write(v ? 'true' : 'false');
        return;
      default:
        break;
    }
    if (v === null || typeof v !== 'object') {
      write('null');
      return;
    }
    if (open.has(v)) {
      write('"[Circular]"');
      return;
    }
    open.add(v);
    if (Array.isArray(v)) {
      write('[');
      stack.push({ container: v, keys: undefined, length: v.length, next: 0, wrote: false });
    } else {
      const keys = Object.keys(v);
      write('{');
      stack.push({ container: v, keys, length: keys.length, next: 0, wrote: false });
    }
  };

  const first = prepare(root, '');
  if (first === SKIP) return 'null';
  value(first);
  while (stack.length > 0 && size < maxChars) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.length) {
      write(frame.keys === undefined ? ']' : '}');
      open.delete(frame.container);
      stack.pop();
      continue;
    }
    const i = frame.next++;
    if (frame.keys === undefined) {
      if (i > 0) write(',');
      const item = prepare((frame.container as unknown[])[i], String(i));
      if (item === SKIP) write('null');
      else value(item);
    } else {
      const key = frame.keys[i]!;
      const item = prepare((frame.container as Record<string, unknown>)[key], key);
      if (item === SKIP) continue;
      write(`${frame.wrote ? ',' : ''}${JSON.stringify(key)}:`);
      frame.wrote = true;
      value(item);
    }
  }
  return parts.join('');
}

/** A JSON string of at most about `room` characters: a longer value is cut first (escapes may grow it sixfold). */
function quote(s: string, room: number): string {
  const cut = s.length > room ? s.slice(0, Math.max(0, room)) : s;
  try {
    return JSON.stringify(cut);
  } catch {
    return JSON.stringify(cut.slice(0, Math.floor(room / 6)));
  }
}
