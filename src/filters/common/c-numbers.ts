/** C's strtod (atof), as Fluent Bit reads numbers: the longest prefix that is a number, else 0. */
export function strtod(s: string): number {
  const rest = s.slice(/^[ \t\n\v\f\r]*/.exec(s)![0].length);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?/.exec(rest);
  if (hex && (hex[2]!.length > 0 || (hex[3] ?? '').length > 0)) {
    const digits = hex[2]! + (hex[3] ?? '');
    const mantissa = Number(BigInt('0x' + (digits || '0')));
    const value = mantissa * 2 ** (Number(hex[4] ?? 0) - 4 * (hex[3] ?? '').length);
    return hex[1] === '-' ? -value : value;
  }
  const special = /^([+-]?)(inf(?:inity)?|nan)/i.exec(rest);
  if (special) {
    const v = special[2]!.toLowerCase().startsWith('inf') ? Infinity : NaN;
    return special[1] === '-' ? -v : v;
  }
  const m = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
  return m ? Number(m[0]) : 0;
}

/** The length of the number strtod reads at the start of `s` (0 when none). */
export function strtodLength(s: string): number {
  const m = /^[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s);
  return m ? m[0].length : 0;
}
