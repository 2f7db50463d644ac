/**
 * A key as Fluent Bit's filters name one (flb_ra_create on a single key): `$key['sub'][0]` is a record
 * accessor, anything else a top-level key taken literally (`Mem.used`, `kubernetes`). Built on the
 * record accessor's own parser (src/labels/record-accessor.ts).
 *
 * Fluent Bit ends an accessor at `.`, space, `,` or `"` outside single quotes, so `$Mem.used` reads the
 * key `Mem` (the rest is literal text that a single key ignores); floki reads it the same way.
 */
import { compileRecordAccessor } from '../labels/record-accessor.js';

export interface KeyReference {
  /** The key as written. */
  readonly text: string;
  /** The value, or undefined when the key (or a step of its path) is missing. */
  get(record: Record<string, unknown>): unknown;
}

/** Index just past the accessor token that starts at `start` (a `$`), as Fluent Bit's ra_parse_buffer scans it. */
export function accessorTokenEnd(text: string, start: number): number {
  let quotes = 0;
  let end = start + 1;
  for (; end < text.length; end++) {
    const c = text[end];
    if (c === "'") quotes++;
    else if (c === '.' && quotes % 2 === 1) continue;
    else if (c === '.' || c === ' ' || c === ',' || c === '"') break;
  }
  return end;
}

const NOTHING = (): undefined => undefined;

/** Throws RecordAccessorSyntaxError for a malformed accessor. */
export function compileKeyReference(text: string): KeyReference {
  const dollar = text.indexOf('$');
  if (dollar !== 0) {
    const key = dollar < 0 ? text : text.slice(0, dollar);
    return { text, get: (record) => (Object.hasOwn(record, key) ? record[key] : undefined) };
  }
  // `$TAG` and `$0`..`$9` name the tag and regex captures: never a value of the record.
  if (text.startsWith('$TAG') || /^\$\d/.test(text)) return { text, get: NOTHING };
  const accessor = compileRecordAccessor(text.slice(0, accessorTokenEnd(text, 0)));
  return { text, get: (record) => accessor.get(record) };
}
