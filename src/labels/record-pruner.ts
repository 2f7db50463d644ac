/**
 * Removes keys (`remove_keys`, and keys placed in labels) from a record without touching the original:
 * the router may hand the same event to several outputs, so only the maps on a removed key's path are
 * copied, and a record holding none of the keys is returned as it is (no copy in the common case).
 */
import type { PathSegment } from './record-accessor.js';

export interface PruneNode {
  /** Remove this key entirely. */
  remove: boolean;
  children: Map<string, PruneNode>;
}

/** A key removed entirely. */
export const REMOVED = Symbol('removed');

export class RecordPruner {
  private readonly root: PruneNode = { remove: false, children: new Map() };
  readonly empty: boolean;

  constructor(paths: readonly (readonly PathSegment[])[]) {
    for (const path of paths) {
      let node = this.root;
      for (let i = 0; i < path.length && !node.remove; i++) {
        const key = String(path[i]);
        let child = node.children.get(key);
        if (child === undefined) {
          child = { remove: false, children: new Map() };
          node.children.set(key, child);
        }
        node = child;
      }
      // A shorter path removes the whole subtree, so anything below it is moot.
      node.remove = true;
      node.children.clear();
    }
    this.empty = this.root.children.size === 0;
  }

  prune(record: Record<string, unknown>): Record<string, unknown> {
    return this.empty ? record : pruneMap(record, this.root);
  }

  /** What is removed under a top-level key: undefined when nothing is. */
  under(key: string): PruneNode | undefined {
    return this.root.children.get(key);
  }

  /** `value` (a record's value under a key) as `under(key)` leaves it: REMOVED when the whole key goes. */
  static pruneUnder(value: unknown, node: PruneNode | undefined): unknown {
    if (node === undefined) return value;
    if (node.remove) return REMOVED;
    return isMap(value) ? pruneMap(value, node) : value;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function pruneMap(obj: Record<string, unknown>, node: PruneNode): Record<string, unknown> {
  let changes: Map<string, unknown> | undefined;
  for (const [key, child] of node.children) {
    if (!Object.hasOwn(obj, key)) continue;
    if (child.remove) {
      (changes ??= new Map()).set(key, REMOVED);
      continue;
    }
    const v = obj[key];
    if (isMap(v)) {
      const pruned = pruneMap(v, child);
      if (pruned !== v) (changes ??= new Map()).set(key, pruned);
    }
  }
  if (changes === undefined) return obj;
  // Rebuild rather than spread-and-delete: keeps key order and keeps V8's fast object shape.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const value = changes.has(key) ? changes.get(key) : obj[key];
    if (value === REMOVED) continue;
    // A `__proto__` key (JSON.parse makes one) stays a key: assigned, it would set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}
