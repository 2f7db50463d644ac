/**
 * What the value readers share: the reader's cursor and error reporting, the unset marker of
 * `use_nil`/`use_default`, and the reading of embedded code (`#{...}`), used in double-quoted strings
 * and in JSON values alike.
 */
import { embeddedCodeEnd } from './embedded-code-end.js';
import type { Scanner } from './scanner.js';

/** A value, or the unset marker that `"#{use_nil}"` and `"#{use_default}"` give. */
export type Literal = string | Unset;
export interface Unset {
  unset: 'nil' | 'default';
}

export interface LiteralReader {
  readonly sc: Scanner;
  /** A syntax error at the cursor (or `pos`): parsing of the file stops. */
  fail(message: string, pos?: number): never;
  /**
   * The value of the embedded code starting at `pos`; on code floki cannot evaluate, records the
   * problem and returns '' so that the rest of the file is still checked.
   */
  embedded(code: string, pos: number): Literal;
}

export function isUnset(v: Literal | null): v is Unset {
  return v !== null && typeof v === 'object';
}

/** Reads embedded code after `#{` up to its `}` and evaluates it. */
export function readEmbedded(r: LiteralReader, codeStart: number): Literal {
  const sc = r.sc;
  const end = embeddedCodeEnd(sc.text, codeStart);
  if (end < 0) r.fail('embedded Ruby code "#{" is not closed by "}"', codeStart - 2);
  const code = sc.text.slice(codeStart, end);
  sc.pos = end + 1;
  return r.embedded(code, codeStart - 2);
}

