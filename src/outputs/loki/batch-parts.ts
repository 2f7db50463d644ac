/**
 * How a batch Loki refused is cut into parts to send again (see batch-sender.ts): in halves, or by
 * a time bound Loki named; and how many requests finding the refused entries may cost.
 */
import type { LokiEntry } from './encoder.js';

/**
 * Requests a refused batch of n entries may spend finding what Loki refuses, per level of halving
 * (⌈log2 n⌉ levels): finding one refused entry takes 2 per level, so this finds about four.
 */
export const ISOLATION_REQUESTS_PER_LEVEL = 8;

export function isolationBudget(entries: number): number {
  return ISOLATION_REQUESTS_PER_LEVEL * Math.max(1, Math.ceil(Math.log2(entries)));
}

export function countEntries(streams: ReadonlyMap<string, LokiEntry[]>): number {
  let n = 0;
  for (const entries of streams.values()) n += entries.length;
  return n;
}

/**
 * Two halves of a batch holding at least two entries: whole streams while there are several (a stream
 * Loki refuses whole, for its labels, is found by stream), else the one stream's entries, earlier
 * half first. Both halves are non-empty.
 */
export function halve(streams: ReadonlyMap<string, LokiEntry[]>): [Map<string, LokiEntry[]>, Map<string, LokiEntry[]>] {
  const a = new Map<string, LokiEntry[]>();
  const b = new Map<string, LokiEntry[]>();
  if (streams.size === 1) {
    const [labels, entries] = streams.entries().next().value as [string, LokiEntry[]];
    const mid = entries.length >> 1;
    a.set(labels, entries.slice(0, mid));
    b.set(labels, entries.slice(mid));
    return [a, b];
  }
  const half = countEntries(streams) / 2;
  let n = 0;
  for (const [labels, entries] of streams) {
    if (a.size === 0 || n + entries.length <= half) {
      a.set(labels, entries);
      n += entries.length;
    } else b.set(labels, entries);
  }
  return [a, b];
}

/** Entries for which `refused` holds, and the others, each grouped by stream (empty streams left out). */
export function partition(streams: ReadonlyMap<string, LokiEntry[]>, refused: (e: LokiEntry) => boolean): [Map<string, LokiEntry[]>, Map<string, LokiEntry[]>] {
  const yes = new Map<string, LokiEntry[]>();
  const no = new Map<string, LokiEntry[]>();
  for (const [labels, entries] of streams) {
    const r = entries.filter(refused);
    if (r.length > 0) yes.set(labels, r);
    if (r.length < entries.length) no.set(labels, r.length === 0 ? entries : entries.filter((e) => !refused(e)));
  }
  return [yes, no];
}
