/** Shared by the line formatter's tests: a json formatter removing some paths, and the general way's line to compare with. */
import { toJson } from '../../src/labels/json-text.js';
import { LineFormatter } from '../../src/labels/line-formatter.js';
import { compileRecordAccessor } from '../../src/labels/record-accessor.js';
import { RecordPruner } from '../../src/labels/record-pruner.js';
import { freezeShared } from '../../src/labels/shared-map.js';

/** Paths into the kubernetes map a Loki output takes as labels (and so removes from the line). */
export const REMOVE = ["$kubernetes['namespace_name']", "$kubernetes['pod_name']", "$kubernetes['container_name']", "$kubernetes['labels']['app']"];

export function formatter(remove: string[]): LineFormatter {
  return new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: remove.map((k) => compileRecordAccessor(k).path) });
}

/** The line the general way gives (prune, then JSON): what every shared-map line must equal. */
export function general(record: Record<string, unknown>, remove: string[]): string {
  return toJson(new RecordPruner(remove.map((k) => compileRecordAccessor(k).path)).prune(record));
}

/** The removal sets both shared-map line tests run every record through. */
export const REMOVE_SETS: string[][] = [[], REMOVE, ['$kubernetes'], ["$kubernetes['labels']", '$stream'], ['$kubernetes_namespace', "$kubernetes['list'][2]"]];

/**
 * Records the shared-map line tests (the string way and the arena's bytes) both check against the
 * general way: `shared` a frozen shared map, `kube` makes an unfrozen copy of its contents.
 */
export function sharedMapRecords(shared: object, kube: () => Record<string, unknown>): Record<string, unknown>[] {
  return [
    { stream: 'stdout', log: 'hello "x" \\ y', kubernetes: shared },
    { stream: 'stdout', level: 'info', n: 1.5, nested: { a: [1, { b: null }] }, kubernetes: shared },
    { kubernetes: shared },
    { stream: 'stderr', kubernetes: shared, kubernetes_namespace: freezeShared({ name: 'shop', labels: { team: 'a' } }) },
    // A shared map that is not last: printed the general way.
    { kubernetes: shared, log: 'after' },
    // Not frozen all the way down: printed the general way (and never kept).
    { log: 'x', kubernetes: Object.freeze(kube()) },
    { log: 'x', kubernetes: kube() },
    // Keys JSON.stringify treats specially.
    { toJSON: 'not a function', kubernetes: shared },
    { '2': 'integer-like key', a: 'b', kubernetes: shared },
    // Values JSON.stringify prints in its own ways: skipped, null, toJSON called with the key.
    { u: undefined, f: () => 1, s: Symbol('s'), nan: NaN, inf: -Infinity, z: -0, t: true, no: false, n: null, kubernetes: shared },
    { d: new Date(0), kubernetes: shared },
    { o: { toJSON: (key: string) => `key ${key}` }, kubernetes: shared },
    { arr: [undefined, () => 1, NaN, 'x'], 'a"b\\c\n': 'escaped key', lone: '\ud800 \u2028 \u0007 ☃', kubernetes: shared },
    { log: 'no shared map', frozen: Object.freeze({ a: 1 }) },
  ];
}
