/**
 * A parser's `types` (`code:integer size:integer ok:bool ratio:float id:hex`), applied the way
 * Fluent Bit's flb_parser_typecast does to regex, logfmt and ltsv values (not json):
 *  - integer: C's atoll (leading digits, `12abc` → 12, `abc` → 0, clamped to 64 bits);
 *  - hex: strtoull base 16 (`ff`, `0xff`; a minus wraps around);
 *  - float: atof (`1e3`, `.5`, `inf`);
 *  - bool: `true…`/`false…` by prefix, case-insensitive; anything else stays a string;
 *  - string, or an unknown type name: kept as is.
 * Numbers are JavaScript numbers: past 2^53 they lose precision (Fluent Bit keeps 64-bit integers).
 */

export type ValueType = 'integer' | 'float' | 'bool' | 'hex' | 'string';

/** key → type; only `key:type` items count, as Fluent Bit reads them. */
export function parseTypes(spec: string): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  for (const item of spec.split(' ')) {
    const colon = item.indexOf(':');
    if (colon < 0) continue;
    const key = item.slice(0, colon);
    const name = item.slice(colon + 1).toLowerCase();
    const type: ValueType = name === 'integer' || name === 'float' || name === 'bool' || name === 'hex' ? name : 'string';
    if (!types.has(key)) types.set(key, type);
  }
  return types;
}

const INT64_MAX = 9223372036854775807;
const INT64_MIN = -9223372036854775808;
const UINT64_MAX = 18446744073709551615;

export function castValue(value: string, type: ValueType): unknown {
  switch (type) {
    case 'integer':
      return atoll(value);
    case 'hex':
      return strtoull16(value);
    case 'float':
      return atof(value);
    case 'bool': {
      if (value.length >= 4 && value.slice(0, 4).toLowerCase() === 'true') return true;
      if (value.length >= 5 && value.slice(0, 5).toLowerCase() === 'false') return false;
      return value;
    }
    default:
      return value;
  }
}

function atoll(s: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d+)/.exec(s);
  if (!m) return 0;
  const n = Number(m[2]);
  if (m[1] === '-') return n > -INT64_MIN ? INT64_MIN : -n;
  return n > INT64_MAX ? INT64_MAX : n;
}

function strtoull16(s: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/.exec(s);
  if (!m) return 0;
  const big = BigInt('0x' + m[2]);
  if (big > 0xffffffffffffffffn) return UINT64_MAX;
  const v = m[1] === '-' ? (0x10000000000000000n - big) % 0x10000000000000000n : big;
  return Number(v);
}

function atof(s: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))/i.exec(s);
  if (!m) return 0;
  const t = m[1]!.toLowerCase();
  if (t.endsWith('inf') || t.endsWith('infinity')) return t.startsWith('-') ? -Infinity : Infinity;
  if (t.endsWith('nan')) return Number.NaN;
  return Number(m[1]);
}
