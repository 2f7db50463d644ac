/**
 * `parser`: each line parsed by a named parser (Fluent Bit's tail `parser`). A match is its record,
 * timed by the parser's time (or the time it is read); a line the parser does not match is sent as
 * it is, with its `\r` (Fluent Bit packs the raw line then), and counted; so is one nested deeper
 * than a record may be (counted apart too).
 */
import type { Parser } from '../../parsers/registry.js';
import type { DecoderCounts } from './decoder-counts.js';
import type { LineStage } from './line-stage.js';
import type { RecordBuilder } from './record-builder.js';

export class ParserStage implements LineStage {
  readonly heldFrom = -1;

  constructor(
    private readonly parser: Parser,
    private readonly builder: RecordBuilder,
    private readonly counts: DecoderCounts,
  ) {}

  line(text: string, _time: bigint | undefined, _stream: string | undefined, offset: number, cr: boolean): void {
    const deepBefore = this.parser.tooDeep;
    const r = this.parser.parse(text);
    if (r === undefined) {
      this.counts.unparsed++;
      if (this.parser.tooDeep !== deepBefore) this.counts.tooDeep++;
      this.builder.plain(cr ? text + '\r' : text, undefined, offset);
      return;
    }
    // Fluent Bit takes a time of exactly 0 for no time.
    this.builder.parsed(r.record, r.time === 0n ? undefined : r.time, offset);
  }

  nextDueMs(): undefined {
    return undefined;
  }

  flushDue(): void {}

  flushAll(): void {}
}
