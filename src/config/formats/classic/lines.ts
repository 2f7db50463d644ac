/**
 * The lines of one Fluent Bit classic (`.conf`) file, read as Fluent Bit 5.1 reads them
 * (src/config_format/flb_cf_fluentbit.c):
 * - `[NAME]` at the start of a line opens a section;
 * - `@INCLUDE path` and `@SET name=value` at the start of a line are commands;
 * - every other line is `Key Value`, indented: the first entry of the file sets the indentation, and
 *   every entry after it starts with exactly that (twice that is accepted too, as Fluent Bit's group
 *   content); the key ends at the first space, the value is the rest of the line, trimmed;
 * - `#` starts a comment line; there are no end-of-line comments.
 * Differences, on purpose: comment and whitespace-only lines are skipped at any indentation (Fluent
 * Bit refuses some), and an unknown `@COMMAND` is an error (Fluent Bit ignores it).
 */
import type { ConfigProblem } from '../../errors.js';

export type ClassicLine =
  | { type: 'section'; name: string; line: number }
  | { type: 'entry'; key: string; value: string; line: number }
  | { type: 'include'; path: string; line: number }
  | { type: 'set'; name: string; value: string; line: number };

export interface ScannedFile {
  lines: ClassicLine[];
  problems: ConfigProblem[];
}

const BLANK = /^[ \t]*$/;

export function scanClassic(text: string, file: string): ScannedFile {
  const lines: ClassicLine[] = [];
  const problems: ConfigProblem[] = [];
  const problem = (line: number, message: string) => problems.push({ file, line, message });
  let indent: string | undefined;
  let lineNo = 0;
  let start = 0;
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let raw = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (BLANK.test(raw)) {
      if (end === text.length) break;
      continue;
    }
    if (raw.trimStart().startsWith('#')) continue;

    if (raw[0] === '@') {
      const command = readCommand(raw, lineNo, problem);
      if (command) lines.push(command);
      continue;
    }

    if (raw[0] === '[') {
      const close = raw.indexOf(']');
      if (close < 0) {
        problem(lineNo, 'bad header definition: a section is [NAME]');
        continue;
      }
      const name = raw.slice(1, close).trim();
      if (!name) problem(lineNo, 'bad header definition: the section has no name');
      else lines.push({ type: 'section', name, line: lineNo });
      continue;
    }

    if (indent === undefined) {
      const lead = /^[ \t]*/.exec(raw)![0];
      if (lead.length === 0) {
        problem(lineNo, 'invalid indentation level: a key must be indented under its section');
        continue;
      }
      indent = lead;
    }
    if (!raw.startsWith(indent)) {
      const lead = /^[ \t]*/.exec(raw)![0];
      const tooLow = lead.length < indent.length && indent.startsWith(lead);
      problem(lineNo, tooLow ? 'invalid indentation level: indentation level is too low' : 'invalid indentation level: inconsistent use of tab and space');
      continue;
    }
    let content = raw.slice(indent.length);
    const extra = /^[ \t]*/.exec(content)![0];
    if (extra.length > 0) {
      if (extra !== indent) {
        problem(lineNo, 'invalid indentation level: extra indentation level found');
        continue;
      }
      content = content.slice(extra.length);
    }
    if (content[0] === '[') {
      problem(lineNo, 'a section header must start at the beginning of its line');
      continue;
    }
    const space = content.indexOf(' ');
    if (space < 0) {
      problem(lineNo, `undefined value for key '${content.trim()}' - check config is in valid classic format (Key Value, separated by a space)`);
      continue;
    }
    // Fluent Bit trims both: `Name\t dummy` is the key `Name`.
    const key = content.slice(0, space).trim();
    const value = content.slice(space + 1).trim();
    if (value.length === 0) {
      problem(lineNo, `key '${key}' has an empty value`);
      continue;
    }
    lines.push({ type: 'entry', key, value, line: lineNo });
  }
  return { lines, problems };
}

function readCommand(raw: string, line: number, problem: (line: number, message: string) => void): ClassicLine | undefined {
  const text = raw.trimEnd();
  const space = text.search(/[ \t]/);
  const name = (space < 0 ? text : text.slice(0, space)).toUpperCase();
  const rest = space < 0 ? '' : text.slice(space + 1).trim();
  if (name === '@INCLUDE') {
    if (!rest) {
      problem(line, '@INCLUDE needs a file');
      return undefined;
    }
    return { type: 'include', path: rest, line };
  }
  if (name === '@SET') {
    const eq = rest.indexOf('=');
    const varName = eq < 0 ? '' : rest.slice(0, eq).trim();
    if (!varName) {
      problem(line, `invalid @SET '${rest}': expected @SET NAME=VALUE`);
      return undefined;
    }
    return { type: 'set', name: varName, value: rest.slice(eq + 1).trim(), line };
  }
  problem(line, `unknown command '${text.slice(0, space < 0 ? undefined : space)}' (the classic format has @INCLUDE and @SET)`);
  return undefined;
}
