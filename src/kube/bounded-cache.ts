/**
 * A map bounded in bytes: each value is stored with its (estimated) size, and past the limit the least
 * recently used values go first. For copies of API objects, whose number the cluster decides.
 */
export class ByteBoundedCache<V> {
  /** In use order: the first entry is the least recently used. */
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;
  evictions = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onEvict?: (key: string, value: V) => void,
    /** Past this many entries the least recently used go too. */
    private readonly maxEntries = Infinity,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as just used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Most recently used last: delete and insert again (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The value, without marking it used. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, value: V, bytes: number): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.total -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    while ((this.total > this.maxBytes || this.entries.size > this.maxEntries) && this.entries.size > 1) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, { value: V; bytes: number }];
      this.entries.delete(oldestKey);
      this.total -= oldest.bytes;
      this.evictions++;
      this.onEvict?.(oldestKey, oldest.value);
    }
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.total -= entry.bytes;
    return true;
  }

  /** Every entry, least recently used first (a copy: the callback may delete). */
  forEach(each: (key: string, value: V) => void): void {
    for (const [key, entry] of [...this.entries]) each(key, entry.value);
  }
}

/**
 * What an entry keyed by a string a client chose (a tag, a pod name read from one) counts: two bytes a
 * character (V8's strings take one or two) plus what the entry holds beside its key.
 */
export function keyBytes(key: string, held = 64): number {
  return 2 * key.length + held;
}
