/**
 * Which version (resourceVersion) of each event (uid) was already sent, so that a relist after `410
 * Gone` sends only what changed. Bounded: past `max` entries the oldest are forgotten (a forgotten event
 * may then be sent again, which Loki stores once: same time, same line).
 */
export class SeenEvents {
  private map = new Map<string, string>();

  constructor(private readonly max = 100_000) {}

  get size(): number {
    return this.map.size;
  }

  has(uid: string, resourceVersion: string): boolean {
    return this.map.get(uid) === resourceVersion;
  }

  add(uid: string, resourceVersion: string): void {
    // Delete first so an updated event moves to the young end.
    this.map.delete(uid);
    this.map.set(uid, resourceVersion);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  delete(uid: string): void {
    this.map.delete(uid);
  }

  /** After a full list: events not in it have expired from the API server and cannot come back. */
  keepOnly(uids: ReadonlySet<string>): void {
    for (const uid of this.map.keys()) if (!uids.has(uid)) this.map.delete(uid);
  }
}
