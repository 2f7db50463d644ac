/**
 * rewrite_tag's new tag: text with `$TAG`, `$TAG[n]`, regex captures `$0`..`$9` and record accessors
 * (`$key['sub']`), cut into parts as Fluent Bit's ra_parse_buffer cuts it and rendered as its
 * flb_ra_translate renders each part.
 */
import { compileRecordAccessor, type RecordAccessor } from '../labels/record-accessor.js';
import { accessorTokenEnd } from './key-reference.js';

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'tag' }
  | { kind: 'tag_part'; index: number }
  | { kind: 'capture'; index: number }
  | { kind: 'key'; accessor: RecordAccessor };

export class TagTemplate {
  private readonly parts: Part[] = [];

  /** Throws RecordAccessorSyntaxError for a malformed accessor. */
  constructor(readonly text: string) {
    const len = text.length;
    let pre = 0;
    let end = 0;
    let i = 0;
    for (; i < len; i++) {
      if (text[i] !== '$') continue;
      if (i > pre) this.parts.push({ kind: 'text', text: text.slice(pre, i) });
      pre = i;
      const n = i + 1;
      if (n >= len) break;
      if (text[n]! >= '0' && text[n]! <= '9') {
        this.parts.push({ kind: 'capture', index: parseInt(text.slice(n), 10) });
        i++;
        pre = i + 1;
        continue;
      }
      if (n + 2 < len && text.startsWith('TAG', n)) {
        if (n + 4 < len && text[n + 3] === '[') {
          const t = n + 3;
          const close = text.indexOf(']', t);
          end = close <= t ? -1 : close - t;
          this.parts.push({ kind: 'tag_part', index: parseInt(text.slice(t + 1), 10) || 0 });
          i = t + end + 1;
          pre = i;
          continue;
        }
        if (n + 4 < len) end = -1;
        this.parts.push({ kind: 'tag' });
        // As Fluent Bit: the character after `$TAG` is not looked at for a `$`.
        i = n + 3;
        pre = n + 3;
        continue;
      }
      end = accessorTokenEnd(text, i);
      this.parts.push({ kind: 'key', accessor: compileRecordAccessor(text.slice(i, end)) });
      pre = end;
      i = end;
    }
    // Fluent Bit's condition for keeping the text after the last placeholder.
    if ((i - 1 > end && pre < i) || i === 1) {
      if (pre < len) this.parts.push({ kind: 'text', text: text.slice(pre) });
    }
  }

  /** The tag for `record` under `tag`, with `match` the rule's regex match. */
  render(tag: string, record: Record<string, unknown>, match: RegExpExecArray): string {
    let out = '';
    for (const p of this.parts) {
      switch (p.kind) {
        case 'text':
          out += p.text;
          break;
        case 'tag':
          out += tag;
          break;
        case 'tag_part':
          out += tagPart(tag, p.index);
          break;
        case 'capture':
          // Fluent Bit keeps no captures at all for a pattern without groups: then even $0 is empty.
          if (match.length > 1) out += match[p.index] ?? '';
          break;
        case 'key':
          out += valueText(p.accessor.get(record));
          break;
      }
    }
    return out;
  }
}

function tagPart(tag: string, index: number): string {
  if (!tag.includes('.')) return index === 0 ? tag : '';
  return tag.split('.')[index] ?? '';
}

/** A record value in a tag: strings as they are, integers, floats as `%f`, maps as JSON; arrays and missing keys are empty. */
export function valueText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'bigint':
      return value.toString();
    case 'number':
      if (Number.isInteger(value)) return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
      return Number.isFinite(value) ? value.toFixed(6) : '';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? '' : JSON.stringify(value);
    default:
      return '';
  }
}
