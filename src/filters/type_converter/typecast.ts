/**
 * Fluent Bit's flb_typecast on floki's values: C's conversions (strtoimax, strtoumax, strtod, casts of
 * doubles to 64-bit integers on x86-64, printf's %.1f and %.16g) written out, so that each value
 * converts as it does there. Results are JavaScript numbers: integers past 2^53 are the nearest double.
 */
import { strtod } from '../common/c-numbers.js';

export type CastType = 'int' | 'uint' | 'float' | 'hex' | 'string' | 'bool';
export type SourceType = 'string' | 'int' | 'uint' | 'float';

/** Fluent Bit's names, in the order it tries a prefix of them. */
const TYPE_NAMES: readonly CastType[] = ['int', 'uint', 'float', 'hex', 'string', 'bool'];

/** `s`, `STR` and `string` all name `string`, as strncasecmp on the name's length does; undefined if none. */
export function castType(name: string): CastType | undefined {
  if (name.length === 0) return undefined;
  const lower = name.toLowerCase();
  return TYPE_NAMES.find((t) => t.startsWith(lower));
}

const TWO_63 = 2n ** 63n;
const TWO_64 = 2n ** 64n;
const UINT64_MAX = TWO_64 - 1n;
const INT64_MIN = -TWO_63;
const INT64_MAX = TWO_63 - 1n;

/** The converted value, or undefined when Fluent Bit's conversion fails. */
export function typecast(value: unknown, from: SourceType, to: CastType): unknown {
  switch (from) {
    case 'string':
      return typeof value === 'string' ? fromString(value, to) : undefined;
    case 'int': {
      const n = integerOf(value);
      return n === undefined ? undefined : fromInt(n, to);
    }
    case 'uint': {
      const n = integerOf(value);
      return n === undefined ? undefined : fromUint(BigInt.asUintN(64, n), to);
    }
    case 'float':
      // A float whose fraction is zero (`5.0`) is an integer once in JavaScript: float_key takes it too.
      return typeof value === 'number' ? fromFloat(value, to) : undefined;
  }
}

function integerOf(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return undefined;
}

function fromInt(n: bigint, to: CastType): unknown {
  switch (to) {
    case 'string':
      return n.toString();
    case 'float':
      return Number(n);
    case 'uint':
      return Number(BigInt.asUintN(64, n));
    default:
      return undefined;
  }
}

function fromUint(u: bigint, to: CastType): unknown {
  switch (to) {
    case 'string':
      return u.toString();
    case 'float':
      return Number(u);
    case 'int':
      return Number(BigInt.asIntN(64, u));
    default:
      return undefined;
  }
}

function fromFloat(x: number, to: CastType): unknown {
  switch (to) {
    case 'string':
      return Number.isInteger(x) && Math.abs(x) < 2 ** 63 ? x.toFixed(1) : formatG16(x);
    case 'int':
      return Number(doubleToInt64(x));
    case 'uint':
      return Number(doubleToUint64(x));
    default:
      return undefined;
  }
}

function fromString(s: string, to: CastType): unknown {
  switch (to) {
    case 'int': {
      const n = strtoimax(s);
      return n === 0n ? undefined : Number(n);
    }
    case 'uint':
    case 'hex': {
      const n = strtoumax(s, to === 'hex' ? 16 : 10);
      return n === 0n ? undefined : Number(n);
    }
    case 'float':
      return strtod(s);
    case 'bool': {
      const lower = s.slice(0, 5).toLowerCase();
      if (lower.startsWith('true')) return true;
      if (lower === 'false') return false;
      return undefined;
    }
    case 'string':
      return undefined;
  }
}

/** x86-64's cvttsd2si: truncation, and INT64_MIN for what does not fit. */
function doubleToInt64(x: number): bigint {
  if (Number.isNaN(x) || x >= 2 ** 63 || x < -(2 ** 63)) return INT64_MIN;
  return BigInt(Math.trunc(x));
}

/** What gcc's (uint64_t) cast of a double gives on x86-64. */
function doubleToUint64(x: number): bigint {
  if (x >= 2 ** 63) {
    const rest = x - 2 ** 63;
    return Number.isNaN(rest) || rest >= 2 ** 63 ? 0n : BigInt(Math.trunc(rest)) + TWO_63;
  }
  return BigInt.asUintN(64, doubleToInt64(x));
}

const C_SPACE = /^[ \t\n\v\f\r]*/;

function strtoimax(s: string): bigint {
  const m = /^([+-]?)(\d+)/.exec(s.slice(C_SPACE.exec(s)![0].length));
  if (!m) return 0n;
  const v = BigInt(m[1] === '-' ? '-' + m[2] : m[2]!);
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v;
}

function strtoumax(s: string, base: 10 | 16): bigint {
  const rest = s.slice(C_SPACE.exec(s)![0].length);
  const m = base === 10 ? /^([+-]?)(\d+)/.exec(rest) : /^([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/.exec(rest);
  if (!m) return 0n;
  const v = BigInt(base === 16 ? '0x' + m[2] : m[2]!);
  if (v > UINT64_MAX) return UINT64_MAX;
  return m[1] === '-' ? BigInt.asUintN(64, -v) : v;
}

/** printf's %.16g. */
export function formatG16(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, exp] = x.toExponential(15).split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 16) {
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(15 - e);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
