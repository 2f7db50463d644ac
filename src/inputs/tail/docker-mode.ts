/**
 * Fluent Bit's old `docker_mode` (plugins/in_tail/tail_dockermode.c), for configs written before
 * `multiline.parser docker`: docker json-file lines whose `log` does not end with a newline are pieces
 * of a longer line. The pieces' `log` values are joined, as written (escaped), into the JSON line of
 * the last piece, and that line goes on to `parser` (usually `docker`) or is sent as it is.
 *
 * With `docker_mode_parser`, whole lines are joined too: a line that parser matches starts an entry,
 * and the lines after it are added until the next one it matches (once it has matched one line).
 * Lines are joined whatever their stream, as Fluent Bit does. A line that is not a JSON object with a
 * string `log` sends what is pending and goes on as it is. Pending pieces wait `docker_mode_flush`
 * seconds after the last one.
 */
import type { Parser } from '../../parsers/registry.js';
import type { LineStage } from './line-stage.js';

export class DockerModeStage implements LineStage {
  /** The escaped `log` values joined so far. */
  private joined = '';
  /** The last JSON line, and where its `log` value is in it. */
  private last: string | undefined;
  private valueStart = 0;
  private valueEnd = 0;
  private complete = false;
  /** docker_mode_parser has matched a line of this file (Fluent Bit never unsets it). */
  private firstlineSeen = false;
  private firstOffset = -1;
  private lastAppendMs = 0;

  constructor(
    /** Where joined lines, and lines that are not docker's, go: `parser`, or nothing. */
    private readonly next: LineStage,
    private readonly flushMs: number,
    private readonly firstline: Parser | undefined,
  ) {}

  line(text: string, time: bigint | undefined, stream: string | undefined, offset: number, cr: boolean): void {
    if (this.firstline !== undefined) {
      const first = this.firstline.parse(text) !== undefined;
      if (first) this.firstlineSeen = true;
      if (this.last !== undefined && this.complete && (first || !this.firstlineSeen)) this.flush();
    }
    const log = dockerLog(text);
    if (log === undefined) {
      this.flush();
      this.next.line(text, time, stream, offset, cr, false);
      return;
    }
    if (this.last === undefined && this.joined.length === 0) this.firstOffset = offset;
    this.joined += text.slice(log.start, log.end);
    this.last = text;
    this.valueStart = log.start;
    this.valueEnd = log.end;
    this.complete = log.complete;
    this.lastAppendMs = performance.now();
    if (this.complete && this.firstline === undefined) this.flush();
  }

  get heldFrom(): number {
    return this.last === undefined ? -1 : this.firstOffset;
  }

  nextDueMs(): number | undefined {
    return this.last === undefined ? undefined : this.lastAppendMs + this.flushMs;
  }

  flushDue(nowMs: number): void {
    if (this.last !== undefined && nowMs - this.lastAppendMs >= this.flushMs) this.flush();
  }

  flushAll(): void {
    this.flush();
  }

  private flush(): void {
    const last = this.last;
    if (last === undefined) return;
    const line = last.slice(0, this.valueStart) + this.joined + last.slice(this.valueEnd);
    const offset = this.firstOffset;
    this.last = undefined;
    this.joined = '';
    this.firstOffset = -1;
    this.next.line(line, undefined, undefined, offset, false, false);
  }
}

interface DockerLog {
  /** The `log` string's escaped text in the line: [start, end), quotes excluded. */
  start: number;
  end: number;
  /** Its value ends with a newline: a whole line, not a piece. */
  complete: boolean;
}

/** The first top-level `log` string of a JSON object line, or undefined when the line is not one. */
export function dockerLog(text: string): DockerLog | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const span = topLevelValue(text, 'log');
  if (span === undefined || text.charCodeAt(span.start) !== 0x22) return undefined;
  const start = span.start + 1;
  const end = span.end - 1;
  const value = JSON.parse(text.slice(span.start, span.end)) as string;
  return { start, end, complete: value.endsWith('\n') };
}

/** Where the value of the first top-level `key` (as written) is in a valid JSON object text. */
function topLevelValue(text: string, key: string): { start: number; end: number } | undefined {
  let i = 1;
  for (;;) {
    i = skipSpace(text, i);
    if (text.charCodeAt(i) !== 0x22) return undefined;
    const keyEnd = stringEnd(text, i);
    const name = text.slice(i + 1, keyEnd - 1);
    i = skipSpace(text, keyEnd);
    i = skipSpace(text, i + 1); // the colon
    const valueEnd = valueEndAt(text, i);
    if (name === key) return { start: i, end: valueEnd };
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) !== 0x2c) return undefined; // '}' : the end
    i++;
  }
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** The index just after the string starting at `i` (its opening quote). */
function stringEnd(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return text.length;
}

/** The index just after the JSON value starting at `i`. */
function valueEndAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (; i < text.length; i++) {
      const d = text.charCodeAt(i);
      if (d === 0x22) i = stringEnd(text, i) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
    }
    return text.length;
  }
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) return i;
  }
  return i;
}
