import { ForwardProtocolError } from '../../forward/protocol-error.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** JSON's insignificant whitespace: space, tab, line feed, carriage return. */
export function isJsonWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Finds where one JSON array or object ends in a stream of them (Fluentd's in_forward reads a
 * connection whose first byte is `{` or `[` as such a stream). It only tracks nesting and strings,
 * resuming where it stopped when more bytes arrive; JSON.parse then validates the value it found.
 * The same interface as MsgpackObjectScanner, so the decoder's buffering serves both.
 */
export class JsonValueScanner {
  position = 0;
  /** 1 until the value is complete (the frame is at least one byte longer than scanned). */
  pending = 1;
  /** Deepest nesting of arrays and objects seen in the value (the frame itself is 1): for the nesting limit. */
  levels = 0;
  private origin = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  reset(start: number): void {
    this.position = start;
    this.origin = start;
    this.pending = 1;
    this.levels = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  shift(by: number): void {
    this.position -= by;
    this.origin -= by;
  }

  /** Walks `buf` up to `end`; true when the value is complete (it then ends at `position`). */
  scan(buf: Uint8Array, end: number): boolean {
    let pos = this.position;
    if (pos === this.origin && pos < end) {
      const first = buf[pos]!;
      if (first !== OPEN_ARRAY && first !== OPEN_OBJECT) {
        throw new ForwardProtocolError(`a JSON frame must be an array, got ${JSON.stringify(String.fromCharCode(first))}`);
      }
    }
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    while (pos < end) {
      const b = buf[pos++]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) {
        inString = true;
      } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
        depth += 1;
        if (depth > this.levels) this.levels = depth;
      } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
        depth -= 1;
        if (depth === 0) {
          this.position = pos;
          this.depth = 0;
          this.pending = 0;
          return true;
        }
      }
    }
    this.position = pos;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return false;
  }
}
