/**
 * Who to tell when entries reach their final outcome (every output's batches and frames). A batch
 * carries a run-length list of targets in the order its entries arrived: in memory mode the inputs'
 * `Delivery` objects, in disk mode the segment files the entries were read from (a segment is deleted
 * once all its entries are settled).
 */

/** Anything that counts entries down to a final outcome: a core `Delivery`, a disk segment. */
export interface Settleable {
  settle(n: number): void;
}

/** Consecutive entries of one batch that share a target, so a batch settles them in one call. */
export interface SettleRun {
  target: Settleable;
  count: number;
}

export function addRun(runs: SettleRun[], target: Settleable | undefined, count = 1): void {
  if (target === undefined) return;
  const last = runs[runs.length - 1];
  if (last !== undefined && last.target === target) last.count += count;
  else runs.push({ target, count });
}

export function settleRuns(runs: readonly SettleRun[]): void {
  for (const r of runs) r.target.settle(r.count);
}

/**
 * A batch split in parts (a 429 naming some of its streams): its runs are settled once every part is
 * final. Each part settles one unit of this.
 */
export class SharedSettlement implements Settleable {
  constructor(
    private readonly runs: readonly SettleRun[],
    private remaining: number,
  ) {}

  settle(n: number): void {
    this.remaining -= n;
    if (this.remaining === 0) settleRuns(this.runs);
  }
}
