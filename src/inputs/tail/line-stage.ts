/**
 * What a file's whole lines go through after the container formats (cri, docker) decoded and joined
 * them: a parser (`parser`), a multiline joiner (`multiline.parser` java, python, go, ruby or a user's;
 * the old `docker_mode` and `multiline`), or nothing. A stage that holds lines (an entry waiting for
 * its next line) says from which offset, so that the file's position never passes a line whose
 * record has not been made yet.
 */
import type { RecordBuilder } from './record-builder.js';

export interface LineStage {
  /**
   * A whole line. `time`: the runtime's time, undefined for the time it is read. `stream`: stdout or
   * stderr for a container runtime's line, else undefined. `offset`: where the line (its first piece)
   * starts in the file. `cr`: a `\r` before the newline was cut from `text`. `cri`: a CRI line (its
   * record has `stream` before `log`, as Fluent Bit's cri parser makes it; docker's has `log` first).
   */
  line(text: string, time: bigint | undefined, stream: string | undefined, offset: number, cr: boolean, cri: boolean): void;
  /** Offset of the first line held (no record made of it yet), or -1 when none is. */
  readonly heldFrom: number;
  /** When the first entry held falls due (ms, the `nowMs` clock), or undefined when none is held. */
  nextDueMs(): number | undefined;
  /** Sends what has waited its time. */
  flushDue(nowMs: number): void;
  /** Sends everything held (the file is closed, or floki stops without a db to resume from). */
  flushAll(): void;
}

/** No stage: each line is a record. */
export class DirectStage implements LineStage {
  readonly heldFrom = -1;

  constructor(private readonly builder: RecordBuilder) {}

  line(text: string, time: bigint | undefined, stream: string | undefined, offset: number, _cr: boolean, cri: boolean): void {
    if (stream !== undefined) this.builder.container(text, time!, stream, offset, cri);
    else this.builder.plain(text, time, offset);
  }

  nextDueMs(): undefined {
    return undefined;
  }

  flushDue(): void {}

  flushAll(): void {}
}

/**
 * The offsets of the lines a joiner holds, in file order; each is released when the entry it went
 * into is made. `first` is the earliest still held.
 */
export class HeldOffsets {
  private queue: number[] = [];
  private head = 0;
  private readonly released = new Set<number>();

  add(offset: number): void {
    this.queue.push(offset);
  }

  release(offset: number): void {
    this.released.add(offset);
  }

  get first(): number {
    const q = this.queue;
    let h = this.head;
    while (h < q.length && this.released.delete(q[h]!)) h++;
    if (h === q.length) {
      this.queue = [];
      h = 0;
    } else if (h > 1024 && h * 2 > q.length) {
      this.queue = q.slice(h);
      h = 0;
    }
    this.head = h;
    return h < this.queue.length ? this.queue[h]! : -1;
  }
}
