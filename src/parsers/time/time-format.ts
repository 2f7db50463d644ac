/**
 * A parser's `time_format` with its companions (`time_offset`, `time_system_timezone`, `time_zone`,
 * `time_strict`), read the way Fluent Bit reads a time (flb_parser.c `flb_parser_time_lookup`):
 *  - a format without a year (`%b %d %H:%M:%S`, syslog) gets the current year, and the current month
 *    and day as defaults, in UTC (or in the zone the time is read in);
 *  - `%L` is a fraction of a second of 1 to 9 digits, read exactly (Fluent Bit goes through a double
 *    and can come out 1 ns lower: floki keeps the digits);
 *  - a time with no zone in its format is in `time_offset` (default UTC), in the system's zone with
 *    `time_system_timezone`, or in the IANA zone `time_zone`.
 * The result is nanoseconds since the epoch.
 */
import { newTm, strptime, timegm, type Tm } from './strptime.js';
import { ZoneClock } from './zone-clock.js';

export class TimeFormatError extends Error {
  constructor(
    /** The key the problem is about. */
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TimeFormatOptions {
  format: string;
  /** `time_offset`: `+HHMM`, `-HH:MM`, `Z`. */
  offset?: string;
  systemTimezone?: boolean;
  /** `time_zone`: an IANA zone name for times that carry no zone. */
  zone?: string;
  /** `time_strict` (default true): a time that does not fit the format is an error, not a partial read. */
  strict?: boolean;
}

const NS = 1_000_000_000n;

export class TimeFormat {
  private readonly withYear: boolean;
  /** The format before `%L` (with `%Y ` prepended when it has no year). */
  private readonly head: string;
  /** The format after `%L`, or undefined when there is no `%L`. */
  private readonly tail: string | undefined;
  private readonly withZone: boolean;
  private readonly offsetSeconds: number;
  private readonly systemTimezone: boolean;
  private readonly zone: ZoneClock | undefined;
  private readonly strict: boolean;
  private readonly tm: Tm = newTm();

  constructor(readonly options: TimeFormatOptions) {
    const fmt = options.format;
    const epoch = !fmt.includes('%Y') && !fmt.includes('%y') && fmt.includes('%s');
    this.withYear = fmt.includes('%Y') || fmt.includes('%y') || epoch;
    const full = this.withYear ? fmt : '%Y ' + fmt;
    const at = full.indexOf('%L');
    this.head = at < 0 ? full : full.slice(0, at);
    this.tail = at < 0 ? undefined : full.slice(at + 2);
    this.withZone = fmt.includes('%z') || fmt.includes('%Z') || fmt.includes('%SZ') || fmt.includes('%S.%LZ');
    this.systemTimezone = options.systemTimezone === true;
    this.strict = options.strict !== false;
    if (options.zone !== undefined && options.zone !== '') {
      if (this.systemTimezone) throw new TimeFormatError('time_zone', 'time_zone cannot be combined with time_system_timezone');
      if (options.offset !== undefined && options.offset !== '') throw new TimeFormatError('time_zone', 'time_zone cannot be combined with time_offset');
      this.zone = ZoneClock.forZone(options.zone);
      if (this.zone === undefined) throw new TimeFormatError('time_zone', `unknown time_zone ${JSON.stringify(options.zone)}`);
    }
    this.offsetSeconds = 0;
    if (!this.systemTimezone && this.zone === undefined && options.offset !== undefined && options.offset !== '') {
      const off = parseUtcOffset(options.offset);
      if (off === undefined) throw new TimeFormatError('time_offset', `invalid time_offset ${JSON.stringify(options.offset)}: expected +HHMM, -HH:MM or Z`);
      this.offsetSeconds = off;
    }
  }

  /**
   * The time `text` stands for, in ns since the epoch, or undefined when it does not fit the format
   * (with `time_strict off`, what could be read is used instead, as Fluent Bit does). `nowMs` gives
   * the year of formats without one.
   */
  parse(text: string, nowMs: number = Date.now()): bigint | undefined {
    const tm = this.tm;
    tm.year = tm.mon = tm.mday = tm.hour = tm.min = tm.sec = tm.wday = tm.yday = 0;
    let input = text;
    if (!this.withYear) {
      const today = this.today(nowMs);
      tm.mon = today.mon;
      tm.mday = today.mday;
      input = `${today.year} ${text}`;
    }
    let p = strptime(input, 0, this.head, tm);
    if (p < 0) return this.strict ? undefined : this.toNs(0);
    let frac = 0;
    if (this.tail !== undefined) {
      let digits = 0;
      while (digits < 9 && p + digits < input.length) {
        const c = input.charCodeAt(p + digits);
        if (c < 0x30 || c > 0x39) break;
        frac = frac * 10 + (c - 0x30);
        digits++;
      }
      if (digits === 0) return this.strict ? undefined : this.toNs(0);
      for (let i = digits; i < 9; i++) frac *= 10;
      p += digits;
      const gmtoff = tm.gmtoff;
      p = strptime(input, p, this.tail, tm);
      if (p < 0) {
        tm.gmtoff = gmtoff;
        return this.strict ? undefined : this.toNs(frac);
      }
    }
    return this.toNs(frac);
  }

  private toNs(frac: number): bigint {
    const tm = this.tm;
    let seconds: number;
    if (this.zone !== undefined && !this.withZone) seconds = this.zone.localToUtc(timegm(tm));
    else if (this.systemTimezone && !this.withZone) seconds = systemLocalToUtc(tm);
    else {
      if (!this.withZone) tm.gmtoff = this.offsetSeconds;
      seconds = timegm(tm) - tm.gmtoff;
    }
    return BigInt(seconds) * NS + BigInt(frac);
  }

  private today(nowMs: number): { year: number; mon: number; mday: number } {
    if (this.zone !== undefined) return this.zone.dateAt(nowMs);
    const d = new Date(nowMs);
    if (this.systemTimezone) return { year: d.getFullYear(), mon: d.getMonth(), mday: d.getDate() };
    return { year: d.getUTCFullYear(), mon: d.getUTCMonth(), mday: d.getUTCDate() };
  }
}

/** mktime(3) with tm_isdst = -1: the broken-down time read in the process's zone (TZ). */
function systemLocalToUtc(tm: Tm): number {
  const d = new Date(2000, 0, 1, 0, 0, 0, 0);
  d.setFullYear(tm.year + 1900, tm.mon, tm.mday);
  d.setHours(tm.hour, tm.min, tm.sec, 0);
  return Math.floor(d.getTime() / 1000);
}

/** flb_parser_tzone_offset: `Z`, `±HHMM` or `±HH:MM` to seconds east of UTC. */
export function parseUtcOffset(s: string): number | undefined {
  if (s.startsWith('Z')) return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(s);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3]);
  if (hours > 59 || minutes > 59) return undefined;
  const off = hours * 3600 + minutes * 60;
  return m[1] === '-' ? -off : off;
}
