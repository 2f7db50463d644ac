/**
 * strptime(3) as Fluent Bit runs it (flb_strptime.c, OpenBSD's implementation with Fluent Bit's
 * additions), in the C locale: the same conversions, the same number widths and ranges, the same
 * time zone names. Trailing text after the format is allowed (Fluent Bit ignores it). `%L` (fraction
 * of a second) is not a conversion here: time-format.ts splits the format around it, as Fluent Bit does.
 */
import { civilFromDays, daysFromCivil } from './civil.js';
import { zoneName, zoneOffset } from './zone-names.js';

/** Broken-down time, as `struct tm` plus the UTC offset Fluent Bit keeps beside it. */
export interface Tm {
  year: number; // years since 1900
  mon: number; // 0-11
  mday: number;
  hour: number;
  min: number;
  sec: number;
  wday: number;
  yday: number;
  /** Seconds east of UTC, read from %z / %Z. */
  gmtoff: number;
  isdst: number;
}

export function newTm(): Tm {
  return { year: 0, mon: 0, mday: 0, hour: 0, min: 0, sec: 0, wday: 0, yday: 0, gmtoff: 0, isdst: 0 };
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const ABDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const ABMONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const FIELD_MON = 1;
const FIELD_MDAY = 2;
const FIELD_WDAY = 4;
const FIELD_YDAY = 8;
const FIELD_YEAR = 16;

const MONTH_LENGTHS = [
  [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
  [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
];

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Parse state shared by nested conversions (%T, %D…), as the C code's statics are. */
interface State {
  century: number;
  relyear: number;
  fields: number;
}

/**
 * Parses `text` from `start` with `fmt` into `tm`. Returns the index just past what was read, or -1
 * when the text does not fit the format. `tm` keeps what was read before a failure (Fluent Bit's
 * `time_strict off` uses it).
 */
export function strptime(text: string, start: number, fmt: string, tm: Tm): number {
  tm.gmtoff = 0;
  tm.isdst = -1;
  const st: State = { century: 1900, relyear: -1, fields: 0 };
  const end = conv(text, start, fmt, tm, st);
  if (end < 0) return -1;
  finish(tm, st);
  return end;
}

function conv(text: string, bp: number, fmt: string, tm: Tm, st: State): number {
  let f = 0;
  while (f < fmt.length) {
    let c = fmt.charCodeAt(f);
    if (isSpace(c)) {
      while (bp < text.length && isSpace(text.charCodeAt(bp))) bp++;
      f++;
      continue;
    }
    if (bp >= text.length) return -1;
    f++;
    if (c !== 0x25) {
      if (text.charCodeAt(bp) !== c) return -1;
      bp++;
      continue;
    }
    let alt = 0;
    for (;;) {
      if (f >= fmt.length) return -1;
      c = fmt.charCodeAt(f++);
      if (c === 0x45 /* E */ || c === 0x4f /* O */) {
        if (alt !== 0) return -1;
        alt = c === 0x45 ? 1 : 2;
        continue;
      }
      break;
    }
    const r = conversion(String.fromCharCode(c), alt, text, bp, tm, st);
    if (r < 0) return -1;
    bp = r;
  }
  return bp;
}

function nested(text: string, bp: number, fmt: string, tm: Tm, st: State): number {
  return conv(text, bp, fmt, tm, st);
}

/** One `%x` conversion at `bp`; returns the new position or -1. `alt`: 1 for %E, 2 for %O. */
/** `%E`/`%O` modifiers allowed for a conversion (E = 1, O = 2). */
function legalAlt(alt: number, allowed: number): boolean {
  return (alt & ~allowed) === 0;
}

const E = 1;
const O = 2;

function conversion(c: string, alt: number, text: string, bp: number, tm: Tm, st: State): number {
  switch (c) {
    case '%':
      if (text[bp] !== '%') return -1;
      return bp + 1;
    case 'c':
      return legalAlt(alt, E) ? nested(text, bp, '%a %b %e %H:%M:%S %Y', tm, st) : -1;
    case 'D':
      return legalAlt(alt, 0) ? nested(text, bp, '%m/%d/%y', tm, st) : -1;
    case 'F':
      return legalAlt(alt, 0) ? nested(text, bp, '%Y-%m-%d', tm, st) : -1;
    case 'R':
      return legalAlt(alt, 0) ? nested(text, bp, '%H:%M', tm, st) : -1;
    case 'r':
      return legalAlt(alt, 0) ? nested(text, bp, '%I:%M:%S %p', tm, st) : -1;
    case 'T':
      return legalAlt(alt, 0) ? nested(text, bp, '%H:%M:%S', tm, st) : -1;
    case 'X':
      return legalAlt(alt, E) ? nested(text, bp, '%H:%M:%S', tm, st) : -1;
    case 'x':
      return legalAlt(alt, E) ? nested(text, bp, '%m/%d/%y', tm, st) : -1;
    case 'A':
    case 'a': {
      if (!legalAlt(alt, 0)) return -1;
      for (let i = 0; i < 7; i++) {
        for (const name of [DAYS[i]!, ABDAYS[i]!]) {
          if (startsWithCaseless(text, bp, name)) {
            tm.wday = i;
            st.fields |= FIELD_WDAY;
            return bp + name.length;
          }
        }
      }
      return -1;
    }
    case 'B':
    case 'b':
    case 'h': {
      if (!legalAlt(alt, 0)) return -1;
      for (let i = 0; i < 12; i++) {
        for (const name of [MONTHS[i]!, ABMONTHS[i]!]) {
          if (startsWithCaseless(text, bp, name)) {
            tm.mon = i;
            st.fields |= FIELD_MON;
            return bp + name.length;
          }
        }
      }
      return -1;
    }
    case 'C': {
      if (!legalAlt(alt, E)) return -1;
      const n = num(text, bp, 0, 99);
      if (n < 0) return -1;
      st.century = numValue * 100;
      return n;
    }
    case 'e':
    case 'd': {
      if (c === 'e' && bp < text.length && isSpace(text.charCodeAt(bp))) bp++;
      if (!legalAlt(alt, O)) return -1;
      const n = num(text, bp, 1, 31);
      if (n < 0) return -1;
      tm.mday = numValue;
      st.fields |= FIELD_MDAY;
      return n;
    }
    case 'k':
    case 'H': {
      if (!legalAlt(alt, c === 'k' ? 0 : O)) return -1;
      const n = num(text, bp, 0, 23);
      if (n < 0) return -1;
      tm.hour = numValue;
      return n;
    }
    case 'l':
    case 'I': {
      if (!legalAlt(alt, c === 'l' ? 0 : O)) return -1;
      const n = num(text, bp, 1, 12);
      if (n < 0) return -1;
      tm.hour = numValue;
      return n;
    }
    case 'j': {
      if (!legalAlt(alt, 0)) return -1;
      const n = num(text, bp, 1, 366);
      if (n < 0) return -1;
      tm.yday = numValue - 1;
      st.fields |= FIELD_YDAY;
      return n;
    }
    case 'M': {
      if (!legalAlt(alt, O)) return -1;
      const n = num(text, bp, 0, 59);
      if (n < 0) return -1;
      tm.min = numValue;
      return n;
    }
    case 'm': {
      if (!legalAlt(alt, O)) return -1;
      const n = num(text, bp, 1, 12);
      if (n < 0) return -1;
      tm.mon = numValue - 1;
      st.fields |= FIELD_MON;
      return n;
    }
    case 'p': {
      if (!legalAlt(alt, 0)) return -1;
      if (startsWithCaseless(text, bp, 'AM')) {
        if (tm.hour > 12) return -1;
        if (tm.hour === 12) tm.hour = 0;
        return bp + 2;
      }
      if (startsWithCaseless(text, bp, 'PM')) {
        if (tm.hour > 12) return -1;
        if (tm.hour < 12) tm.hour += 12;
        return bp + 2;
      }
      return -1;
    }
    case 'S': {
      if (!legalAlt(alt, O)) return -1;
      const n = num(text, bp, 0, 60);
      if (n < 0) return -1;
      tm.sec = numValue;
      return n;
    }
    case 's':
      return epochSeconds(text, bp, tm, st);
    case 'U':
    case 'W':
      if (!legalAlt(alt, O)) return -1;
      return num(text, bp, 0, 53);
    case 'w': {
      if (!legalAlt(alt, O)) return -1;
      const n = num(text, bp, 0, 6);
      if (n < 0) return -1;
      tm.wday = numValue;
      st.fields |= FIELD_WDAY;
      return n;
    }
    case 'u': {
      if (!legalAlt(alt, O)) return -1;
      const n = num(text, bp, 1, 7);
      if (n < 0) return -1;
      tm.wday = numValue % 7;
      st.fields |= FIELD_WDAY;
      return n;
    }
    case 'g':
      return num(text, bp, 0, 99);
    case 'G':
      do bp++;
      while (bp < text.length && isDigit(text.charCodeAt(bp)));
      return bp;
    case 'V':
      return num(text, bp, 0, 53);
    case 'Y': {
      if (!legalAlt(alt, E)) return -1;
      const n = num(text, bp, 0, 9999);
      if (n < 0) return -1;
      st.relyear = -1;
      tm.year = numValue - 1900;
      st.fields |= FIELD_YEAR;
      return n;
    }
    case 'y': {
      if (!legalAlt(alt, E | O)) return -1;
      const n = num(text, bp, 0, 99);
      if (n < 0) return -1;
      st.relyear = numValue;
      return n;
    }
    case 'Z':
      return zoneName(text, bp, tm);
    case 'z':
      return zoneOffset(text, bp, tm);
    case 'n':
    case 't':
      if (!legalAlt(alt, 0)) return -1;
      while (bp < text.length && isSpace(text.charCodeAt(bp))) bp++;
      return bp;
    default:
      return -1;
  }
}

let numValue = 0;

/**
 * _conv_num: reads at most as many digits as `hi` has, stopping early once another digit would pass
 * `hi`; the value lands in `numValue`. Returns the new position or -1.
 */
function num(text: string, bp: number, lo: number, hi: number): number {
  let c = text.charCodeAt(bp);
  if (!isDigit(c)) return -1;
  let result = 0;
  let rulim = hi;
  do {
    result = result * 10 + (c - 0x30);
    bp++;
    rulim = Math.trunc(rulim / 10);
    c = text.charCodeAt(bp);
  } while (result * 10 <= hi && rulim !== 0 && isDigit(c));
  if (result < lo || result > hi) return -1;
  numValue = result;
  return bp;
}

/** %s: seconds since the epoch, read into the broken-down UTC time. */
function epochSeconds(text: string, bp: number, tm: Tm, st: State): number {
  let c = text.charCodeAt(bp);
  if (!isDigit(c)) return -1;
  let result = 0n;
  do {
    result = result * 10n + BigInt(c - 0x30);
    bp++;
    if (result >= 922337203685477580n) return -1;
    c = text.charCodeAt(bp);
  } while (isDigit(c));
  const secs = Number(result);
  const days = Math.floor(secs / 86400);
  const rem = secs - days * 86400;
  const [y, m, d] = civilFromDays(days);
  tm.year = y - 1900;
  tm.mon = m - 1;
  tm.mday = d;
  tm.hour = Math.floor(rem / 3600);
  tm.min = Math.floor((rem % 3600) / 60);
  tm.sec = rem % 60;
  tm.wday = (((days + 4) % 7) + 7) % 7;
  tm.gmtoff = 0;
  tm.isdst = 0;
  st.fields = 0xffff;
  return bp;
}

/** Fills what the read fields imply (two-digit years, day of year, month and day from %j). */
function finish(tm: Tm, st: State): void {
  if (st.relyear !== -1) {
    if (st.century === 1900) tm.year = st.relyear <= 68 ? st.relyear + 100 : st.relyear;
    else tm.year = st.relyear + st.century - 1900;
    st.fields |= FIELD_YEAR;
  }
  if ((st.fields & FIELD_YEAR) === 0) return;
  const year = tm.year + 1900;
  const lens = MONTH_LENGTHS[isLeap(year) ? 1 : 0]!;
  if ((st.fields & FIELD_YDAY) === 0 && (st.fields & FIELD_MON) !== 0 && (st.fields & FIELD_MDAY) !== 0) {
    tm.yday = tm.mday - 1;
    for (let i = 0; i < tm.mon; i++) tm.yday += lens[i]!;
    st.fields |= FIELD_YDAY;
  }
  if ((st.fields & FIELD_YDAY) !== 0) {
    let days = tm.yday;
    if ((st.fields & FIELD_MON) === 0) {
      tm.mon = 0;
      while (tm.mon < 12 && days >= lens[tm.mon]!) days -= lens[tm.mon++]!;
    }
    if ((st.fields & FIELD_MDAY) === 0) tm.mday = days + 1;
  }
}

function startsWithCaseless(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) {
    if ((text.charCodeAt(at + i) | 0x20) !== (word.charCodeAt(i) | 0x20)) return false;
  }
  return true;
}

/** timegm(3): the broken-down time read as UTC, with out-of-range days and times carried over. */
export function timegm(tm: Tm): number {
  const y = tm.year + 1900 + Math.floor(tm.mon / 12);
  const m = ((tm.mon % 12) + 12) % 12;
  const days = daysFromCivil(y, m + 1, 1) + tm.mday - 1;
  return days * 86400 + tm.hour * 3600 + tm.min * 60 + tm.sec;
}
