/**
 * Time zone names and offsets as Fluent Bit's strptime reads them: `%Z` against its table of
 * abbreviations (first match, case-insensitive, not followed by a letter or digit), `%z` as `Z`,
 * `±HH`, `±HHMM`, `±HH:MM`, `UT`, `UTC`, `GMT` or an RFC 822 North American zone.
 */
import type { Tm } from './strptime.js';

const H = 3600;
/** Fluent Bit's table of zone abbreviations for %Z (flb_strptime.c), first match wins. */
const ZONES: readonly [string, number, number][] = [
  ['GMT', 0, 0], ['UTC', 0, 0], ['Z', 0, 0], ['UT', 0, 0],
  ['EST', -5 * H, 0], ['EDT', -4 * H, 1], ['CST', -6 * H, 0], ['CDT', -5 * H, 1], ['MST', -7 * H, 0], ['MDT', -6 * H, 1],
  ['PST', -8 * H, 0], ['PDT', -7 * H, 1], ['AKST', -9 * H, 0], ['AKDT', -8 * H, 1], ['HST', -10 * H, 0], ['HADT', -9 * H, 1],
  ['AST', -4 * H, 0], ['ADT', -3 * H, 1], ['NST', -3.5 * H, 0], ['NDT', -2.5 * H, 1],
  ['WET', 0, 0], ['WEST', 1 * H, 1], ['CET', 1 * H, 0], ['CEST', 2 * H, 1], ['EET', 2 * H, 0], ['EEST', 3 * H, 1], ['MSK', 3 * H, 0],
  ['ART', -3 * H, 0], ['BRT', -3 * H, 0], ['BRST', -2 * H, 1], ['CLT', -4 * H, 0], ['CLST', -3 * H, 1],
  ['AEST', 10 * H, 0], ['AEDT', 11 * H, 1], ['ACST', 9.5 * H, 0], ['ACDT', 10.5 * H, 1], ['AWST', 8 * H, 0], ['NZST', 12 * H, 0], ['NZDT', 13 * H, 1],
  ['JST', 9 * H, 0], ['KST', 9 * H, 0], ['SGT', 8 * H, 0], ['IST', 5.5 * H, 0], ['GST', 4 * H, 0], ['ICT', 7 * H, 0], ['WIB', 7 * H, 0],
  ['WITA', 8 * H, 0], ['WIT', 9 * H, 0], ['MYT', 8 * H, 0], ['BDT', 6 * H, 0], ['NPT', 5.75 * H, 0],
  ['WAT', 1 * H, 0], ['CAT', 2 * H, 0], ['EAT', 3 * H, 0], ['SAST', 2 * H, 0],
  ['A', 1 * H, 0], ['B', 2 * H, 0], ['C', 3 * H, 0], ['D', 4 * H, 0], ['E', 5 * H, 0], ['F', 6 * H, 0], ['G', 7 * H, 0], ['H', 8 * H, 0],
  ['I', 9 * H, 0], ['K', 10 * H, 0], ['L', 11 * H, 0], ['M', 12 * H, 0], ['N', -1 * H, 0], ['O', -2 * H, 0], ['P', -3 * H, 0],
  ['Q', -4 * H, 0], ['R', -5 * H, 0], ['S', -6 * H, 0], ['T', -7 * H, 0], ['U', -8 * H, 0], ['V', -9 * H, 0], ['W', -10 * H, 0],
  ['X', -11 * H, 0], ['Y', -12 * H, 0],
];
const RFC822_STD = ['EST', 'CST', 'MST', 'PST'];
const RFC822_DST = ['EDT', 'CDT', 'MDT', 'PDT'];

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function startsWithCaseless(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) {
    if ((text.charCodeAt(at + i) | 0x20) !== (word.charCodeAt(i) | 0x20)) return false;
  }
  return true;
}

/** %Z at `bp`: the new position, or -1. */
export function zoneName(text: string, bp: number, tm: Tm): number {
  for (const [abbr, offset, dst] of ZONES) {
    if (startsWithCaseless(text, bp, abbr) && !isAlnum(text.charCodeAt(bp + abbr.length))) {
      tm.isdst = dst;
      tm.gmtoff = offset;
      return bp + abbr.length;
    }
  }
  return -1;
}

/** %z at `bp`: the new position, or -1. */
export function zoneOffset(text: string, bp: number, tm: Tm): number {
  while (bp < text.length && isSpace(text.charCodeAt(bp))) bp++;
  const c = text[bp++];
  let neg = false;
  switch (c) {
    case 'G':
      if (text[bp++] !== 'M' || text[bp++] !== 'T') return -1;
      tm.isdst = 0;
      tm.gmtoff = 0;
      return bp;
    case 'U':
      if (text[bp++] !== 'T') return -1;
      if (text[bp] === 'C') bp++;
      tm.isdst = 0;
      tm.gmtoff = 0;
      return bp;
    case 'Z':
      tm.isdst = 0;
      tm.gmtoff = 0;
      return bp;
    case '+':
      break;
    case '-':
      neg = true;
      break;
    default: {
      bp--;
      for (let i = 0; i < 4; i++) {
        if (startsWithCaseless(text, bp, RFC822_STD[i]!)) {
          tm.gmtoff = (-5 - i) * H;
          tm.isdst = 0;
          return bp + 3;
        }
      }
      for (let i = 0; i < 4; i++) {
        if (startsWithCaseless(text, bp, RFC822_DST[i]!)) {
          tm.isdst = 1;
          tm.gmtoff = (-4 - i) * H;
          return bp + 3;
        }
      }
      return -1;
    }
  }
  if (!isDigit(text.charCodeAt(bp)) || !isDigit(text.charCodeAt(bp + 1))) return -1;
  let offs = ((text.charCodeAt(bp) - 0x30) * 10 + (text.charCodeAt(bp + 1) - 0x30)) * H;
  bp += 2;
  if (text[bp] === ':') bp++;
  if (isDigit(text.charCodeAt(bp))) {
    offs += (text.charCodeAt(bp++) - 0x30) * 600;
    if (!isDigit(text.charCodeAt(bp))) return -1;
    offs += (text.charCodeAt(bp++) - 0x30) * 60;
  }
  tm.isdst = 0;
  tm.gmtoff = neg ? -offs : offs;
  return bp;
}
