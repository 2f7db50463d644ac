/**
 * Tells an input when the events of one emit have reached their final outcome in every output they
 * were routed to: delivered (or persisted, for a disk-buffered output), or given up on for good
 * (rejected by Loki, retry limit). Entries abandoned at shutdown are never settled, so an input that
 * commits progress on settlement (the tail input's positions) resends them after a restart.
 */
export class Delivery {
  private pending = 1; // a guard held by the engine until it has routed the whole emit

  constructor(private readonly onSettled: () => void) {}

  /** The engine adds the count of entries it hands to outputs. */
  add(n: number): void {
    this.pending += n;
  }

  /** Outputs call this as entries reach their final outcome. */
  settle(n: number): void {
    this.pending -= n;
    if (this.pending === 0) this.onSettled();
    else if (this.pending < 0) throw new Error(`delivery settled ${-this.pending} more entries than it was given`);
  }

  /** The engine releases its guard once every output has the events. */
  routed(): void {
    this.settle(1);
  }
}
