/**
 * RFC 3339 timestamps (`2026-11-25T10:00:00.123456789Z`, CRI-O's `…+00:00`) to nanoseconds since the
 * epoch as a bigint, exactly: the date arithmetic is integer, the fraction is read as digits, and no
 * double ever holds the whole value (a double cannot hold today's time to the nanosecond).
 *
 * Container runtimes stamp many lines within one second, so the seconds part is converted to a bigint
 * once per distinct second and only the fraction is added per line.
 */

const NS_PER_SECOND = 1_000_000_000n;

/**
 * What parse() returns for bytes that are not an RFC 3339 time: far below any time it can return
 * (years 0000 to 9999), so that a time before 1970 (negative) is still a time, which the caller may
 * refuse for being out of Loki's range rather than take the line for another format.
 */
export const NOT_A_TIME = -(1n << 80n);
const DIGIT_0 = 0x30;

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export class Rfc3339Parser {
  private lastSecond = Number.NaN;
  private lastSecondNs = 0n;
  private readonly scratch = Buffer.allocUnsafe(64);

  /**
   * Parses `bytes[start, end)` as a whole RFC 3339 timestamp. Returns nanoseconds since the epoch
   * (negative before 1970), or NOT_A_TIME when the bytes are not one (the line is malformed).
   */
  parse(b: Uint8Array, start: number, end: number): bigint {
    // YYYY-MM-DDTHH:MM:SS is 19 bytes, then an optional fraction, then Z or ±HH:MM.
    if (end - start < 20) return NOT_A_TIME;
    const year = d4(b, start);
    const month = d2(b, start + 5);
    const day = d2(b, start + 8);
    const hour = d2(b, start + 11);
    const minute = d2(b, start + 14);
    const second = d2(b, start + 17);
    if ((year | month | day | hour | minute | second) < 0) return NOT_A_TIME;
    if (b[start + 4] !== 0x2d || b[start + 7] !== 0x2d || b[start + 13] !== 0x3a || b[start + 16] !== 0x3a) return NOT_A_TIME;
    const t = b[start + 10];
    if (t !== 0x54 && t !== 0x74 && t !== 0x20) return NOT_A_TIME; // 'T', 't', or ' ' (RFC 3339 allows it)
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return NOT_A_TIME;

    let p = start + 19;
    let nanos = 0;
    if (b[p] === 0x2e) {
      p++;
      let digits = 0;
      while (p < end) {
        const c = b[p]! - DIGIT_0;
        if (c < 0 || c > 9) break;
        // Digits past the ninth are below a nanosecond: read and dropped.
        if (digits < 9) nanos = nanos * 10 + c;
        digits++;
        p++;
      }
      if (digits === 0) return NOT_A_TIME;
      for (let i = digits; i < 9; i++) nanos *= 10;
    }
    let offsetSeconds = 0;
    const z = b[p];
    if (z === 0x5a || z === 0x7a) {
      p++;
    } else if (z === 0x2b || z === 0x2d) {
      if (end - p < 6 || b[p + 3] !== 0x3a) return NOT_A_TIME;
      const oh = d2(b, p + 1);
      const om = d2(b, p + 4);
      if (oh < 0 || om < 0 || oh > 23 || om > 59) return NOT_A_TIME;
      offsetSeconds = (oh * 3600 + om * 60) * (z === 0x2b ? 1 : -1);
      p += 6;
    } else {
      return NOT_A_TIME;
    }
    if (p !== end) return NOT_A_TIME;

    const epochSecond = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
    if (epochSecond !== this.lastSecond) {
      this.lastSecond = epochSecond;
      this.lastSecondNs = BigInt(epochSecond) * NS_PER_SECOND;
    }
    return nanos === 0 ? this.lastSecondNs : this.lastSecondNs + BigInt(nanos);
  }

  /** The same, for a timestamp held in a string (docker's `time`). */
  parseString(s: string): bigint {
    if (s.length > this.scratch.length) return NOT_A_TIME;
    const n = this.scratch.write(s, 0, 'latin1');
    return this.parse(this.scratch, 0, n);
  }
}

function d2(b: Uint8Array, i: number): number {
  const x = b[i]! - DIGIT_0;
  const y = b[i + 1]! - DIGIT_0;
  if (x < 0 || x > 9 || y < 0 || y > 9) return -1;
  return x * 10 + y;
}

function d4(b: Uint8Array, i: number): number {
  const hi = d2(b, i);
  const lo = d2(b, i + 2);
  if (hi < 0 || lo < 0) return -1;
  return hi * 100 + lo;
}
