/**
 * Maps that many records share, frozen all the way down: the kubernetes filter's `kubernetes` (and
 * `kubernetes_namespace`) map is one object per container, put into each of its records. Since such a
 * map can never change, what the Loki output derives from it (its part of the line, the labels read
 * from it) is worked out once per map and kept by identity, in a WeakMap that lets go of it with the
 * map: the filter's own caches bound how many there are.
 *
 * Nothing here trusts the freezing: `isSharedMap` walks a map once (when its text is first asked for)
 * and accepts only plain objects and arrays, frozen at every level, holding JSON values.
 */
import { MAX_RECORD_NESTING } from '../core/limits.js';

/** Freezes a map and every map and array in it; returns it. */
export function freezeShared<T extends object>(map: T): T {
  const stack: [object, number][] = [[map, 1]];
  while (stack.length > 0) {
    const [o, depth] = stack.pop()!;
    if (Object.isFrozen(o)) continue;
    Object.freeze(o);
    if (depth >= MAX_RECORD_NESTING) continue;
    for (const v of Object.values(o)) if (v !== null && typeof v === 'object') stack.push([v, depth + 1]);
  }
  return map;
}

/**
 * True when `value` is a plain map (or array) frozen at every level, whose values are strings,
 * numbers, booleans, null and such maps and arrays only, nested at most MAX_RECORD_NESTING levels:
 * its JSON text is then fixed for as long as it lives.
 */
export function isSharedMap(value: unknown): value is object {
  if (!isPlainContainer(value) || !Object.isFrozen(value)) return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [o, depth] = stack.pop()!;
    for (const v of Object.values(o)) {
      switch (typeof v) {
        case 'string':
        case 'number':
        case 'boolean':
          continue;
        case 'object':
          if (v === null) continue;
          if (!isPlainContainer(v) || !Object.isFrozen(v) || depth >= MAX_RECORD_NESTING) return false;
          stack.push([v, depth + 1]);
          continue;
        default:
          // undefined, bigint, function, symbol: JSON.stringify skips, throws or calls something.
          return false;
      }
    }
  }
  return true;
}

function isPlainContainer(v: unknown): v is object {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return Object.getPrototypeOf(v) === Array.prototype;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
