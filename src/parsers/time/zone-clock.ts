/**
 * Wall-clock time in an IANA zone (`time_zone Europe/Paris`), from the ICU data Node ships with:
 * the zone's UTC offset at an instant, and the UTC instant of a local wall-clock time.
 */

const cache = new Map<string, ZoneClock | undefined>();

export class ZoneClock {
  private constructor(private readonly fmt: Intl.DateTimeFormat) {}

  /** The clock of an IANA zone, or undefined when the name is not one. */
  static forZone(name: string): ZoneClock | undefined {
    if (cache.has(name)) return cache.get(name);
    let clock: ZoneClock | undefined;
    try {
      const fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      clock = new ZoneClock(fmt);
    } catch {
      clock = undefined;
    }
    if (cache.size < 1000) cache.set(name, clock);
    return clock;
  }

  /** Seconds east of UTC at the instant `utcSeconds`. */
  offsetAt(utcSeconds: number): number {
    const p = this.parts(utcSeconds * 1000);
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000;
    return wall - utcSeconds;
  }

  /** The UTC instant of the wall-clock time `localSeconds` (read as if UTC): the first reading whose offset agrees. */
  localToUtc(localSeconds: number): number {
    const first = localSeconds - this.offsetAt(localSeconds);
    const off = this.offsetAt(first);
    const second = localSeconds - off;
    return this.offsetAt(second) === off ? second : first;
  }

  /** The local date at `ms`: year, month 0-11, day of month. */
  dateAt(ms: number): { year: number; mon: number; mday: number } {
    const p = this.parts(ms);
    return { year: p.year, mon: p.month - 1, mday: p.day };
  }

  private parts(ms: number): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
    const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    for (const part of this.fmt.formatToParts(ms)) {
      if (part.type in out) out[part.type as keyof typeof out] = Number(part.value);
    }
    return out;
  }
}
