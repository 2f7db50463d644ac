/**
 * What keeps the delivery promise while the multiline filter holds records: every record that goes
 * in gets a LineToken, and the records of one `process()` call share one engine hold (HeldBatch), which
 * is released once every one of them has settled, in whatever entries they ended up. An entry made
 * only of the current call's records needs no hold at all: it is returned from `process()` and settles
 * with that emit. So a tail position moves past a line only once the entry holding it was delivered,
 * and a forward chunk is acked as soon as its records are in the filter (as Fluent Bit's emitter does).
 */
import type { LogEvent } from '../../core/event.js';
import type { Hold } from '../../core/plugin.js';

/** The records of one `process()` call not yet settled, and the hold that keeps their emit open. */
export class HeldBatch {
  lines = 0;
  hold: Hold | undefined;

  /** `n` of this call's records settled. */
  done(n: number): void {
    this.lines -= n;
    if (this.lines === 0 && this.hold !== undefined) {
      const h = this.hold;
      this.hold = undefined;
      h.release();
    }
  }
}

/** One record in the filter. */
export class LineToken {
  constructor(
    readonly batch: HeldBatch,
    readonly event: LogEvent,
  ) {
    batch.lines++;
  }
}

/** An entry ready to go on: the event to send (undefined: nothing to send), and the records it was made of. */
export interface Finished {
  event: LogEvent | undefined;
  tokens: readonly LineToken[];
}

/** A hold over entries sent on with `ctx.pass`: their records settle when they do. */
export class PassedHold implements Hold {
  private open = true;
  constructor(private readonly entries: readonly Finished[]) {}

  release(): void {
    if (!this.open) return;
    this.open = false;
    for (const e of this.entries) for (const t of e.tokens) t.batch.done(1);
  }
}
