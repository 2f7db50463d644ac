/**
 * RFC 3339 timestamps (`2026-11-25T10:00:00.123456789Z`, CRI-O's `…+00:00`) to nanoseconds since the
 * epoch as a bigint, exactly: the date arithmetic is integer, the fraction is read as digits, and no
 * double ever holds the whole value (a double cannot hold today's time to the nanosecond).
 *
 * Container runtimes stamp many lines within one second, so a time whose first 19 bytes
 * (`YYYY-MM-DDTHH:MM:SS`) are those of the time before reuses its second, converted to a bigint once
 * per distinct second; only the fraction is read and added per line.
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
  /** The `YYYY-MM-DDTHH:MM:SS` bytes of the last valid time read, and their seconds (before any offset). */
  private readonly prefix = new Uint8Array(19);
  private prefixSecond = Number.NaN;
  /** Where the time scan() read last ends (the index after its last byte). */
  end = 0;

  /**
   * Parses `bytes[start, end)` as a whole RFC 3339 timestamp. Returns nanoseconds since the epoch
   * (negative before 1970), or NOT_A_TIME when the bytes are not one (the line is malformed).
   */
  parse(b: Uint8Array, start: number, end: number): bigint {
    const t = this.scan(b, start, end);
    return this.end === end ? t : NOT_A_TIME;
  }

  /**
   * Reads the RFC 3339 timestamp that starts at `start`, reading no byte at or past `limit`; `end` is
   * then where it ends. NOT_A_TIME when no timestamp starts there.
   */
  scan(b: Uint8Array, start: number, limit: number): bigint {
    // YYYY-MM-DDTHH:MM:SS is 19 bytes, then an optional fraction, then Z or ±HH:MM.
    if (limit - start < 20) return NOT_A_TIME;
    let local: number;
    const c = this.prefix;
    // Container runtimes stamp many lines within one second: when the first 19 bytes are those of the
    // last valid time, so is their second. Compared from the seconds up, where lines differ first.
    if (
      b[start + 18] === c[18] &&
      b[start + 17] === c[17] &&
      b[start + 16] === c[16] &&
      b[start + 15] === c[15] &&
      b[start + 14] === c[14] &&
      b[start + 13] === c[13] &&
      b[start + 12] === c[12] &&
      b[start + 11] === c[11] &&
      b[start + 10] === c[10] &&
      b[start + 9] === c[9] &&
      b[start + 8] === c[8] &&
      b[start + 7] === c[7] &&
      b[start + 6] === c[6] &&
      b[start + 5] === c[5] &&
      b[start + 4] === c[4] &&
      b[start + 3] === c[3] &&
      b[start + 2] === c[2] &&
      b[start + 1] === c[1] &&
      b[start] === c[0] &&
      this.prefixSecond === this.prefixSecond
    ) {
      local = this.prefixSecond;
    } else {
      local = localSecond(b, start);
      if (local !== local) return NOT_A_TIME;
      for (let i = 0; i < 19; i++) c[i] = b[start + i]!;
      this.prefixSecond = local;
    }

    let p = start + 19;
    let nanos = 0;
    if (b[p] === 0x2e) {
      p++;
      let digits = 0;
      while (p < limit) {
        const d = b[p]! - DIGIT_0;
        if (d < 0 || d > 9) break;
        // Digits past the ninth are below a nanosecond: read and dropped.
        if (digits < 9) nanos = nanos * 10 + d;
        digits++;
        p++;
      }
      if (digits === 0) return NOT_A_TIME;
      for (let i = digits; i < 9; i++) nanos *= 10;
    }
    if (p >= limit) return NOT_A_TIME;
    let offsetSeconds = 0;
    const z = b[p];
    if (z === 0x5a || z === 0x7a) {
      p++;
    } else if (z === 0x2b || z === 0x2d) {
      if (limit - p < 6 || b[p + 3] !== 0x3a) return NOT_A_TIME;
      const oh = d2(b, p + 1);
      const om = d2(b, p + 4);
      if (oh < 0 || om < 0 || oh > 23 || om > 59) return NOT_A_TIME;
      offsetSeconds = (oh * 3600 + om * 60) * (z === 0x2b ? 1 : -1);
      p += 6;
    } else {
      return NOT_A_TIME;
    }
    this.end = p;

    const epochSecond = local - offsetSeconds;
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

/** Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS` at `start` as if UTC, or NaN when it is not one. */
function localSecond(b: Uint8Array, start: number): number {
  const year = d4(b, start);
  const month = d2(b, start + 5);
  const day = d2(b, start + 8);
  const hour = d2(b, start + 11);
  const minute = d2(b, start + 14);
  const second = d2(b, start + 17);
  if ((year | month | day | hour | minute | second) < 0) return Number.NaN;
  if (b[start + 4] !== 0x2d || b[start + 7] !== 0x2d || b[start + 13] !== 0x3a || b[start + 16] !== 0x3a) return Number.NaN;
  const t = b[start + 10];
  if (t !== 0x54 && t !== 0x74 && t !== 0x20) return Number.NaN; // 'T', 't', or ' ' (RFC 3339 allows it)
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
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
