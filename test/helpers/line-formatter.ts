/** Shared by the line formatter's tests: a json formatter removing some paths, and the general way's line to compare with. */
import { toJson } from '../../src/labels/json-text.js';
import { LineFormatter } from '../../src/labels/line-formatter.js';
import { compileRecordAccessor } from '../../src/labels/record-accessor.js';
import { RecordPruner } from '../../src/labels/record-pruner.js';

/** Paths into the kubernetes map a Loki output takes as labels (and so removes from the line). */
export const REMOVE = ["$kubernetes['namespace_name']", "$kubernetes['pod_name']", "$kubernetes['container_name']", "$kubernetes['labels']['app']"];

export function formatter(remove: string[]): LineFormatter {
  return new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: remove.map((k) => compileRecordAccessor(k).path) });
}

/** The line the general way gives (prune, then JSON): what every shared-map line must equal. */
export function general(record: Record<string, unknown>, remove: string[]): string {
  return toJson(new RecordPruner(remove.map((k) => compileRecordAccessor(k).path)).prune(record));
}
