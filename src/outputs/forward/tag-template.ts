/**
 * The forward output's `tag`: text with Fluent Bit record accessors in it, e.g. `app.$TAG[1]`,
 * `$kubernetes['namespace_name'].logs`. Split as Fluent Bit splits it (src/flb_record_accessor.c
 * `ra_parse_buffer`): `$TAG` and `$TAG[n]` are the event's tag or its n-th dot-separated part; any
 * other `$...` runs up to the first `.`, space, `,` or `"` outside single quotes. A template with no
 * record key in it is static: the tag depends only on the event's tag, so events keep being sent in
 * Forward mode. One with a record key makes Fluent Bit (and floki) send each event alone, in
 * Message mode, since each may get its own tag.
 *
 * Values are printed as Fluent Bit prints them: strings as they are, integers in decimal, floats
 * with six decimals (`%f`), booleans as true/false, maps as JSON, bin as hex; a missing key adds
 * nothing.
 */
import { compileRecordAccessor, RecordAccessorSyntaxError, type RecordAccessor } from '../../labels/record-accessor.js';

type Part = { text: string } | { accessor: RecordAccessor };

export class TagTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TagTemplateError';
  }
}

export class TagTemplate {
  /** No record key in it: the tag follows from the event's tag alone. */
  readonly static: boolean;
  private readonly parts: readonly Part[];

  private constructor(
    readonly pattern: string,
    parts: Part[],
  ) {
    this.parts = parts;
    this.static = parts.every((p) => 'text' in p || p.accessor.isTag);
  }

  static compile(pattern: string): TagTemplate {
    return new TagTemplate(pattern, parse(pattern));
  }

  render(tag: string, record: Record<string, unknown> | undefined): string {
    const parts = this.parts;
    if (parts.length === 1 && 'text' in parts[0]!) return parts[0].text;
    let out = '';
    for (const part of parts) {
      if ('text' in part) out += part.text;
      else out += printValue(part.accessor.isTag ? part.accessor.get({}, tag) : record === undefined ? undefined : part.accessor.get(record, tag));
    }
    return out;
  }
}

function parse(pattern: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c !== '$' || i + 1 >= pattern.length) {
      text += c;
      i++;
      continue;
    }
    if (/[0-9]/.test(pattern[i + 1]!)) throw new TagTemplateError(`tag: regex captures ($${pattern[i + 1]}) are not supported by floki in the forward output's tag`);
    let end: number;
    if (pattern.startsWith('TAG', i + 1)) {
      end = i + 4;
      if (pattern[end] === '[') {
        const close = pattern.indexOf(']', end);
        if (close < 0) throw new TagTemplateError(`tag: unterminated $TAG[ in '${pattern}'`);
        end = close + 1;
      }
    } else {
      let quotes = 0;
      for (end = i + 1; end < pattern.length; end++) {
        const e = pattern[end]!;
        if (e === "'") quotes++;
        else if (e === '.' && quotes % 2 === 1) continue;
        else if (e === '.' || e === ' ' || e === ',' || e === '"') break;
      }
    }
    if (text.length > 0) parts.push({ text });
    text = '';
    try {
      parts.push({ accessor: compileRecordAccessor(pattern.slice(i, end)) });
    } catch (err) {
      if (err instanceof RecordAccessorSyntaxError) throw new TagTemplateError(`tag: ${err.message}`);
      throw err;
    }
    i = end;
  }
  if (text.length > 0 || parts.length === 0) parts.push({ text });
  return parts;
}

function printValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isInteger(v) ? String(v) : v.toFixed(6);
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return '';
      if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('hex');
      if (Array.isArray(v)) return '';
      return JSON.stringify(v);
    default:
      return '';
  }
}
