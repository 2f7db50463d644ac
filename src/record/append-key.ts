/**
 * Setting keys on records. A record may have a key named `__proto__` (JSON.parse and msgpack make it
 * an own key like any other); plain assignment would set the object's prototype instead and lose it.
 */

/** `record[key] = value`, also for a key named `__proto__`. */
export function setKey(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/**
 * Adds a key at the end of a record. Fluent Bit appends a key a filter adds even when the record has it
 * already, and the record it then shows (Fluent Bit 5.1.1, `stdout` json_lines) keeps the last one, at
 * the last one's place: so an existing key is removed first.
 */
export function appendKey(record: Record<string, unknown>, key: string, value: unknown): void {
  if (Object.hasOwn(record, key)) delete record[key];
  setKey(record, key, value);
}

/** A copy of a map or array value, so that two keys never share one object; other values as they are. */
export function copyValue(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? structuredClone(value) : value;
}
