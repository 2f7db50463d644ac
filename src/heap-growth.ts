/**
 * Room for a small old generation to grow in. After each full collection V8 sets the size at which
 * the next one starts from the size left alive, times a factor it picks from how fast collections
 * were (1.1 to 4), and it starts marking early whenever that leaves less room than the young
 * generation's 16 MiB. A process whose live heap is small (a node agent forwarding records: some 13
 * MiB) then runs a full collection every few hundred milliseconds however little it promotes,
 * since most of what it allocates is young and dies there (forward-aggregator-ack's node agent: 21
 * to 52 full collections per 300k events, with 7 to 15 MiB promoted in all).
 *
 * `--initial-old-space-size=64` on the command line cut those to 6 (2.64 -> 2.22 CPU s), but it is
 * read only when the heap is made, and users do not tune. What V8 does read at every full
 * collection is `--heap-growing-percent` (the factor, in place of its own pick). So after each full
 * collection this sets it such that the next starts no sooner than at MIN_LIMIT_BYTES, while what
 * is alive is under a quarter of that; above, it gives the choice back to V8 (percent 0), so a
 * large heap grows as it always did. The memory is reserved, not used: an idle process allocates
 * nothing and its RSS does not move. A user who sets either flag keeps their choice;
 * FLOKI_STARTUP_TUNING=off turns this off.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The least old-generation size at which the next full collection may start (what --initial-old-space-size=64 sets). */
export const MIN_LIMIT_BYTES = 64 * 1024 * 1024;
/** V8's largest factor: a heap alive at more than MIN_LIMIT_BYTES / 4 is left to V8's own choice. */
const V8_MAX_FACTOR = 4;

/**
 * The `--heap-growing-percent` for a heap with `liveBytes` alive after a full collection: the
 * factor that puts the next at MIN_LIMIT_BYTES when V8's largest would not reach it, else 0 (V8's).
 */
export function growingPercentFor(liveBytes: number): number {
  if (!(liveBytes > 0) || liveBytes * V8_MAX_FACTOR >= MIN_LIMIT_BYTES) return 0;
  return Math.ceil((MIN_LIMIT_BYTES / liveBytes - 1) * 100);
}

/** Whether the user gave V8 a flag of their own about the old generation's size or growth. */
export function userSizedHeap(execArgv: readonly string[], nodeOptions: string): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => {
    const a = arg.split('=')[0]!.replace(/_/g, '-');
    return a === '--heap-growing-percent' || a === '--initial-old-space-size' || a === '--initial-heap-size';
  });
}

let observer: PerformanceObserver | undefined;
let current = 0;

function apply(percent: number): void {
  if (percent === current) return;
  current = percent;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * Bytes in use outside the young generation: what the last full collection left alive, and what was
 * promoted since (the observer hears of a collection a little after it, when the young generation may
 * have filled again: counting it would be counting garbage).
 */
function oldGenerationBytes(): number {
  let bytes = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') bytes += s.space_used_size;
  return bytes;
}

function afterFullCollection(entries: readonly PerformanceEntry[]): void {
  for (const e of entries) {
    if (((e as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      apply(growingPercentFor(oldGenerationBytes()));
      return;
    }
  }
}

/** Starts following full collections (see above). Once only; undone by stopHeapGrowth. */
export function startHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if (observer !== undefined || process.env.FLOKI_STARTUP_TUNING === 'off' || userSizedHeap(execArgv, nodeOptions)) return false;
  apply(growingPercentFor(oldGenerationBytes()));
  observer = new PerformanceObserver((list) => afterFullCollection(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return true;
}

/** Stops following collections and gives the factor back to V8. */
export function stopHeapGrowth(): void {
  observer?.disconnect();
  observer = undefined;
  apply(0);
}

/** The percent set now (0: V8's own factor). */
export function heapGrowingPercent(): number {
  return current;
}
