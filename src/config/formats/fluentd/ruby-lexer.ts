/**
 * Tokens of the Ruby that Fluentd configs embed in `"#{...}"`: string and integer literals, names,
 * and the few operators the safe subset evaluates (ruby-subset.ts). Anything else is refused here,
 * with the character that is not understood.
 */
import { embeddedCodeEnd } from './embedded-code-end.js';

export type Token =
  | { kind: 'string'; parts: StringPart[]; at: number }
  | { kind: 'int'; value: bigint; at: number }
  | { kind: 'name'; name: string; at: number }
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'end'; at: number };

/** A double-quoted literal is text and interpolated code; a single-quoted one is text only. */
export type StringPart = { text: string } | { code: string };

export class UnsupportedRuby extends Error {}

const PUNCT = ['||', '(', ')', '[', ']', ',', '.', ';', '=', '?', ':', '+', '-'];
/** After these a newline does not end a statement (Ruby continues the expression). */
const CONTINUES = new Set(['||', '(', '[', ',', '.', '=', '?', ':', '+', '-', ';']);

export function tokenize(code: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const last = (): Token | undefined => tokens[tokens.length - 1];
  while (i < code.length) {
    const c = code[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '\n') {
      const prev = last();
      if (prev !== undefined && !(prev.kind === 'punct' && CONTINUES.has(prev.text))) tokens.push({ kind: 'punct', text: ';', at: i });
      i++;
    } else if (c === '#') {
      const nl = code.indexOf('\n', i);
      i = nl < 0 ? code.length : nl;
    } else if (c === "'") {
      const [text, next] = singleQuoted(code, i + 1);
      tokens.push({ kind: 'string', parts: [{ text }], at: i });
      i = next;
    } else if (c === '"') {
      const [parts, next] = doubleQuoted(code, i + 1);
      tokens.push({ kind: 'string', parts, at: i });
      i = next;
    } else if (c >= '0' && c <= '9') {
      const m = /[0-9]+/y;
      m.lastIndex = i;
      const digits = m.exec(code)![0];
      if (/[A-Za-z_.]/.test(code[i + digits.length] ?? '')) throw new UnsupportedRuby(`number ${code.slice(i, i + digits.length + 1)}`);
      tokens.push({ kind: 'int', value: BigInt(digits), at: i });
      i += digits.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /[A-Za-z_][A-Za-z0-9_]*/y;
      m.lastIndex = i;
      let name = m.exec(code)![0];
      const prev = last();
      // A method name may end in `?` (`ipv6?`); elsewhere `?` is the conditional operator.
      if (prev?.kind === 'punct' && prev.text === '.' && code[i + name.length] === '?') name += '?';
      tokens.push({ kind: 'name', name, at: i });
      i += name.length;
    } else {
      const p = PUNCT.find((s) => code.startsWith(s, i));
      if (p === undefined || (p === '=' && /[=~>]/.test(code[i + 1] ?? '')) || (p === ':' && code[i + 1] === ':')) {
        throw new UnsupportedRuby(`'${p === undefined ? c : code.slice(i, i + 2)}'`);
      }
      tokens.push({ kind: 'punct', text: p, at: i });
      i += p.length;
    }
  }
  tokens.push({ kind: 'end', at: code.length });
  return tokens;
}

function singleQuoted(code: string, i: number): [string, number] {
  let out = '';
  while (i < code.length) {
    const c = code[i]!;
    if (c === "'") return [out, i + 1];
    if (c === '\\' && (code[i + 1] === "'" || code[i + 1] === '\\')) {
      out += code[i + 1];
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  throw new UnsupportedRuby('an unterminated string');
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', b: '\b', e: '\x1b', s: ' ', a: '\x07', v: '\v', '0': '\0' };

function doubleQuoted(code: string, i: number): [StringPart[], number] {
  const parts: StringPart[] = [];
  let text = '';
  while (i < code.length) {
    const c = code[i]!;
    if (c === '"') {
      if (text !== '' || parts.length === 0) parts.push({ text });
      return [parts, i + 1];
    }
    if (c === '\\') {
      const e = code[i + 1];
      if (e === undefined) break;
      if (e === 'u' || e === 'x' || e === 'c' || e === 'C' || e === 'M' || (e >= '1' && e <= '7')) throw new UnsupportedRuby(`the escape \\${e}`);
      // Ruby drops a backslash before any other character, and before a newline drops both.
      if (e !== '\n') text += ESCAPES[e] ?? e;
      i += 2;
    } else if (c === '#' && code[i + 1] === '{') {
      const end = embeddedCodeEnd(code, i + 2);
      if (end < 0) break;
      if (text !== '') parts.push({ text });
      text = '';
      parts.push({ code: code.slice(i + 2, end) });
      i = end + 1;
    } else {
      text += c;
      i++;
    }
  }
  throw new UnsupportedRuby('an unterminated string');
}
