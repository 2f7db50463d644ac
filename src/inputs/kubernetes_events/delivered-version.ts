/**
 * The resourceVersion that may be persisted: the newest one all of whose events (and every earlier
 * one's) have settled in the outputs (delivered, or on disk for a disk-buffered output). Batches may
 * settle out of order (several Loki workers); a version is reported only once everything before it has.
 * An input that restarts from it thus resends what was in flight, never skips it.
 */
export class DeliveredVersion {
  private readonly entries: { resourceVersion: string | undefined; settled: boolean }[] = [];

  constructor(
    private readonly onVersion: (resourceVersion: string) => void,
    /** Told when every step added so far has settled. */
    private readonly onIdle?: () => void,
  ) {}

  /**
   * Appends a step, in stream order; call the returned function when its events settled (only the first
   * call counts). `settle(false)`: its events were not taken after all, so its version must not be recorded.
   */
  add(resourceVersion: string | undefined): (keepVersion?: boolean) => void {
    const entry = { resourceVersion, settled: false };
    this.entries.push(entry);
    return (keepVersion = true) => {
      if (entry.settled) return;
      entry.settled = true;
      if (!keepVersion) entry.resourceVersion = undefined;
      this.release();
    };
  }

  /** Steps not yet settled (for tests and metrics). */
  get pending(): number {
    return this.entries.length;
  }

  private release(): void {
    let newest: string | undefined;
    while (this.entries.length > 0 && this.entries[0]!.settled) {
      const entry = this.entries.shift()!;
      if (entry.resourceVersion !== undefined) newest = entry.resourceVersion;
    }
    if (newest !== undefined) this.onVersion(newest);
    if (this.entries.length === 0) this.onIdle?.();
  }
}
