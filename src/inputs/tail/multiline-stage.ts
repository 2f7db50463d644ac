/**
 * `multiline.parser` beyond the container formats (go, java, python, ruby, a user's parsers): whole
 * lines joined into entries by the multiline engine, one stream per file and container stream, so
 * that a stack trace stays one entry whatever the other stream writes in between.
 *
 * - Lines of a file in no container format go in as text, as Fluent Bit's tail feeds them: an entry is
 *   `{log: …}` ending with a newline, timed when its first line was read.
 * - Lines a container format decoded go in as their records (`{log, stream, …}`), as Fluent Bit's
 *   multiline filter with `multiline.key_content log` takes them after the tail: an entry is its first
 *   line's record, time and offset, with the lines' contents joined.
 *
 * A line no parser takes ends what is pending on its stream and is sent on its own, unchanged.
 */
import type { MultilineEntry } from '../../parsers/multiline/multiline-joiner.js';
import { MultilineJoiner } from '../../parsers/multiline/multiline-joiner.js';
import type { MultilineParser } from '../../parsers/registry.js';
import type { DecoderCounts } from './decoder-counts.js';
import { HeldOffsets, type LineStage } from './line-stage.js';
import type { RecordBuilder } from './record-builder.js';

/** The stream of a line in no container format, beside stdout and stderr. */
const NO_STREAM = '';

export class MultilineStage implements LineStage {
  private readonly joiner: MultilineJoiner<number>;
  private readonly out: MultilineEntry<number>[] = [];
  private readonly held = new HeldOffsets();

  constructor(
    parsers: readonly MultilineParser[],
    private readonly builder: RecordBuilder,
    private readonly counts: DecoderCounts,
    /** The file's lines are a container runtime's: entries are made of records. */
    private readonly records: boolean,
    key: string,
    bufferLimit?: number,
  ) {
    this.joiner = new MultilineJoiner<number>(parsers, records ? { keyContent: key, bufferLimit } : { bufferLimit });
  }

  line(text: string, time: bigint | undefined, stream: string | undefined, offset: number, _cr: boolean, cri: boolean): void {
    this.held.add(offset);
    const now = performance.now();
    if (this.records) {
      const record = stream !== undefined ? this.builder.containerRecord(text, stream, offset, cri) : this.builder.plainRecord(text, offset);
      this.joiner.appendRecord(stream ?? NO_STREAM, record, time, offset, now, this.out);
    } else {
      this.joiner.appendText(NO_STREAM, text, time, offset, now, this.out);
    }
    if (this.out.length > 0) this.drain();
  }

  get heldFrom(): number {
    return this.held.first;
  }

  nextDueMs(): number | undefined {
    return this.joiner.nextDueMs();
  }

  flushDue(nowMs: number): void {
    this.joiner.flushDue(nowMs, this.out);
    this.drain();
  }

  flushAll(): void {
    this.joiner.flushAll(this.out);
    this.drain();
  }

  private drain(): void {
    for (const entry of this.out) {
      for (const t of entry.tokens) this.held.release(t);
      if (entry.truncated) this.counts.multilineTruncated++;
      if (entry.dropped) continue;
      // Records of container lines carry their file keys already; text entries get them now.
      if (this.records) this.builder.push(entry.record, entry.time);
      else this.builder.parsed(entry.record, entry.time, entry.tokens[0]!);
    }
    this.out.length = 0;
  }
}
