/**
 * The text a record value gives a label or a structured metadata pair, as Fluent Bit's record
 * accessor prints it (flb_ra_translate, checked on the 5.1.1 binary): strings as they are, integers
 * and booleans printed, null as `null`, maps and arrays as their JSON. A missing value gives undefined
 * (the pair is left out), as does an empty string (the caller checks).
 *
 * One difference: Fluent Bit prints a float with printf's %f (`1.5` as `1.500000`); JavaScript
 * cannot tell the float 1.0 from the integer 1 once decoded, so numbers print as JavaScript does.
 */
import { toJson } from './json-text.js';

export function labelValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : toJson(value);
    default:
      return undefined;
  }
}
