/**
 * Fluent Bit's old multiline mode (`multiline on`, plugins/in_tail/tail_multiline.c), for configs
 * written before `multiline.parser`:
 *
 * - a line `parser_firstline` matches starts a record: the fields it parsed, timed by its time (or the
 *   time it was read); what was pending is sent first;
 * - a line after it is tried with each `parser_N` in order: the first that matches adds its fields;
 * - a line none matches is appended, after a newline, to the last field of the record when that field
 *   is a string (to the last field of the latest `parser_N` match, if any); otherwise (no record
 *   started, or its last field is not a string) it is sent on its own as `{log: …}`.
 *
 * The record goes out when the next first line comes, `multiline_flush` after its last line, or when
 * the file is closed. Its keys are `path_key`, then the fields in order; a field given twice keeps its
 * first place and its last value (Fluent Bit writes both). Lines are held until their record is made.
 */
import type { Parser } from '../../parsers/registry.js';
import type { DecoderCounts } from './decoder-counts.js';
import type { LineStage } from './line-stage.js';
import type { RecordBuilder } from './record-builder.js';

/** A parsed part of the record, with the lines appended to its last field. */
interface Part {
  fields: Record<string, unknown>;
  appended: string[];
}

export class OldMultilineStage implements LineStage {
  private parts: Part[] = [];
  private time = 0n;
  /** The first line's last field is a string: lines no parser matches are appended to it. */
  private appendable = false;
  private firstOffset = -1;
  private lastAppendMs = 0;

  constructor(
    private readonly firstline: Parser,
    private readonly continuation: readonly Parser[],
    private readonly flushMs: number,
    private readonly builder: RecordBuilder,
    private readonly counts: DecoderCounts,
  ) {}

  line(text: string, _time: bigint | undefined, _stream: string | undefined, offset: number): void {
    const deepBefore = this.firstline.tooDeep;
    const first = this.firstline.parse(text);
    if (this.firstline.tooDeep !== deepBefore) this.counts.tooDeep++;
    if (first !== undefined) {
      this.flush();
      const values = Object.values(first.record);
      this.appendable = typeof values[values.length - 1] === 'string';
      this.time = first.time !== undefined && first.time !== 0n ? first.time : this.builder.now();
      this.parts.push({ fields: first.record, appended: [] });
      this.firstOffset = offset;
      this.lastAppendMs = performance.now();
      return;
    }
    for (const p of this.continuation) {
      const r = p.parse(text);
      if (r === undefined) continue;
      if (this.parts.length === 0) {
        // Fluent Bit keeps it for a record that never comes: floki sends it on its own.
        this.builder.parsed(r.record, undefined, offset);
        return;
      }
      this.parts.push({ fields: r.record, appended: [] });
      this.lastAppendMs = performance.now();
      return;
    }
    if (this.parts.length > 0 && this.appendable) {
      this.parts[this.parts.length - 1]!.appended.push(text);
      this.lastAppendMs = performance.now();
      return;
    }
    this.counts.unparsed++;
    this.builder.plain(text, undefined, offset);
  }

  get heldFrom(): number {
    return this.parts.length > 0 ? this.firstOffset : -1;
  }

  nextDueMs(): number | undefined {
    return this.parts.length > 0 ? this.lastAppendMs + this.flushMs : undefined;
  }

  flushDue(nowMs: number): void {
    if (this.parts.length > 0 && nowMs - this.lastAppendMs >= this.flushMs) this.flush();
  }

  flushAll(): void {
    this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const record: Record<string, unknown> = {};
    for (const part of this.parts) {
      const keys = Object.keys(part.fields);
      keys.forEach((k, i) => {
        let v = part.fields[k];
        if (i === keys.length - 1 && typeof v === 'string' && part.appended.length > 0) v = [v, ...part.appended].join('\n');
        if (k === '__proto__') Object.defineProperty(record, k, { value: v, enumerable: true, writable: true, configurable: true });
        else record[k] = v;
      });
    }
    this.parts = [];
    this.firstOffset = -1;
    this.builder.pathFirst(record, this.time);
  }
}
