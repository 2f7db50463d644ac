/**
 * A map bounded both in entries and in bytes (its keys' UTF-16 bytes plus a per-entry estimate): past
 * either limit the oldest entries go first. For maps whose keys come from what clients send (tags, pod
 * names read from tags), which can be megabytes long: a count alone does not bound their memory.
 */
export class BoundedMap<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;
  evictions = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    /** Bytes counted for an entry beside its key. */
    private readonly entryBytes = 64,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.total;
  }

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: V): void {
    this.delete(key);
    const bytes = 2 * key.length + this.entryBytes;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    while ((this.total > this.maxBytes || this.entries.size > this.maxEntries) && this.entries.size > 1) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, { value: V; bytes: number }];
      this.entries.delete(oldestKey);
      this.total -= oldest.bytes;
      this.evictions++;
    }
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.total -= entry.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** Every entry, oldest first (a copy: the loop may delete). */
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (const [key, entry] of [...this.entries]) yield [key, entry.value];
  }
}
