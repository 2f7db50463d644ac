/**
 * About how many bytes a record takes as msgpack: enough to hold a byte budget (rewrite_tag's
 * `emitter_mem_buf_limit`) without printing the record. Walks the value once, allocating nothing.
 */
export function approximateSize(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      // UTF-16 units, one byte each for ASCII: close enough for a budget, and O(1).
      return value.length + 5;
    case 'number':
    case 'bigint':
      return 9;
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null) return 1;
      // Records come from JSON or msgpack and are trees; the depth guard is for safety only.
      if (depth > 64) return 0;
      let size = 5;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) size += approximateSize(value[i], depth + 1);
      } else {
        const map = value as Record<string, unknown>;
        for (const key in map) size += key.length + 5 + approximateSize(map[key], depth + 1);
      }
      return size;
    }
    default:
      return 0;
  }
}
