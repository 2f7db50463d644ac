/**
 * A file's position may move only past lines whose events are settled. Each emit of a file's lines is
 * recorded, in file order, with the offset that is safe to resume from once it and everything before it
 * are settled; the committed offset is that of the longest settled prefix. Settlements may arrive in
 * any order (several outputs, retries), the commit never jumps a gap.
 */

interface Step {
  offset: number;
  settled: boolean;
}

export class SettledOffsets {
  private readonly steps: Step[] = [];
  private head = 0;
  private committed_: number;

  constructor(startOffset: number) {
    this.committed_ = startOffset;
  }

  /** The offset every line before which is settled. */
  get committed(): number {
    return this.committed_;
  }

  /** Emits not settled yet. */
  get outstanding(): number {
    return this.steps.length - this.head;
  }

  /**
   * Records an emit whose lines end where resuming at `offset` is safe; returns the callback to call
   * when its events are settled. Offsets must not decrease.
   */
  add(offset: number): () => void {
    const step: Step = { offset, settled: false };
    this.steps.push(step);
    return () => this.settle(step);
  }

  /** Moves past lines that produced no events (all skipped, or pieces still waiting to be joined). */
  advance(offset: number): void {
    if (this.outstanding === 0) {
      if (offset > this.committed_) this.committed_ = offset;
    } else {
      this.steps.push({ offset, settled: true });
    }
  }

  private settle(step: Step): void {
    if (step.settled) return;
    step.settled = true;
    const steps = this.steps;
    let h = this.head;
    while (h < steps.length && steps[h]!.settled) {
      if (steps[h]!.offset > this.committed_) this.committed_ = steps[h]!.offset;
      h++;
    }
    this.head = h;
    // Drop the settled prefix now and then rather than shifting on every settlement.
    if (h > 1024 && h * 2 > steps.length) {
      steps.splice(0, h);
      this.head = 0;
    } else if (h === steps.length) {
      steps.length = 0;
      this.head = 0;
    }
  }
}
