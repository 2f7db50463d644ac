/**
 * Fluent Bit's throttle window (filter_throttle/window.c): `size` panes, one per tick of the interval,
 * each counting the records let through while it was the newest. A tick adds a pane keyed by the
 * whole second it happened in (none when a pane has that second), overwriting the oldest.
 */
export class ThrottleWindow {
  private readonly seconds: number[];
  private readonly counts: number[];
  private newest = -1;
  /** Records let through in the panes the window holds. */
  total = 0;
  private current = 0;

  constructor(readonly size: number) {
    this.seconds = new Array<number>(size).fill(0);
    this.counts = new Array<number>(size).fill(0);
  }

  tick(second: number): void {
    this.current = second;
    if (this.seconds.indexOf(second) >= 0) return;
    this.newest = this.newest === this.size - 1 ? 0 : this.newest + 1;
    this.total -= this.counts[this.newest]!;
    this.seconds[this.newest] = second;
    this.counts[this.newest] = 0;
  }

  /**
   * Lets a record through unless the average per pane has reached `rate`. The average is over the
   * whole window from the first tick: Fluent Bit divides by the window size, not by the panes filled
   * (the page's "slow start" is not what it does).
   */
  admit(rate: number): boolean {
    if (this.total / this.size >= rate) return false;
    this.counts[this.seconds.indexOf(this.current)]! += 1;
    this.total++;
    return true;
  }

  /** Records per pane over the window, as print_status shows it (an integer division). */
  rate(): number {
    return Math.floor(this.total / this.size);
  }
}
