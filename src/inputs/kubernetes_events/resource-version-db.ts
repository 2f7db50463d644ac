import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

interface DbContent {
  kube_url: string;
  namespace: string;
  resourceVersion: string;
}

/**
 * The `db` file: the last resourceVersion whose events are in the outputs' queues, as JSON. Written
 * atomically (a temporary file, fsync, rename, fsync of the folder), so a crash leaves the old or the new
 * version, never a torn one. It records the API server and namespace it belongs to: pointed at another
 * cluster, floki lists afresh rather than resume from a foreign resourceVersion.
 */
export class ResourceVersionDb {
  private wanted: string | undefined;
  private written: string | undefined;
  private writing: Promise<void> | undefined;
  /** After close(): versions settling while the outputs drain are written at once, before the process exits. */
  private synchronous = false;

  constructor(
    private readonly path: string,
    private readonly identity: { kubeUrl: string; namespace: string },
    private readonly onError: (message: string) => void,
  ) {}

  /** The stored resourceVersion for this API server and namespace, or undefined. */
  load(): string | undefined {
    mkdirSync(dirname(this.path), { recursive: true });
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(`cannot read db ${this.path}: ${(err as Error).message}`);
      return undefined;
    }
    try {
      const c = JSON.parse(text) as Partial<DbContent>;
      if (c.kube_url !== this.identity.kubeUrl || c.namespace !== this.identity.namespace) return undefined;
      if (typeof c.resourceVersion !== 'string' || c.resourceVersion.length === 0) return undefined;
      this.written = c.resourceVersion;
      return c.resourceVersion;
    } catch {
      this.onError(`db ${this.path} is not floki's JSON: listing events afresh`);
      return undefined;
    }
  }

  /** Records `resourceVersion`; writes coalesce, so a burst of batches costs one or two writes. */
  save(resourceVersion: string): void {
    this.wanted = resourceVersion;
    // A write in progress picks the newest wanted version up when it is done.
    if (resourceVersion === this.written || this.writing !== undefined) return;
    if (this.synchronous) {
      try {
        this.writeSync(resourceVersion);
        this.written = resourceVersion;
      } catch (err) {
        this.onError(`cannot write db ${this.path}: ${(err as Error).message}`);
      }
      return;
    }
    this.writing = this.drain();
  }

  /** Waits for writes in progress; later saves (events settling during shutdown) are written synchronously. */
  async close(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    this.synchronous = true;
    if (this.wanted !== undefined && this.wanted !== this.written) this.save(this.wanted);
  }

  private async drain(): Promise<void> {
    // Only after this first await may `writing` be cleared: save() assigns it when drain() returns.
    await Promise.resolve();
    try {
      while (this.wanted !== undefined && this.wanted !== this.written) {
        const rv = this.wanted;
        await this.write(rv);
        this.written = rv;
      }
    } catch (err) {
      // The next save tries again.
      this.onError(`cannot write db ${this.path}: ${(err as Error).message}`);
    } finally {
      this.writing = undefined;
    }
  }

  private content(resourceVersion: string): string {
    const content: DbContent = { kube_url: this.identity.kubeUrl, namespace: this.identity.namespace, resourceVersion };
    return JSON.stringify(content) + '\n';
  }

  private writeSync(resourceVersion: string): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, this.content(resourceVersion));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    try {
      const dir = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch {
      // Some filesystems cannot fsync a folder; the rename stands.
    }
  }

  private async write(resourceVersion: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(this.content(resourceVersion));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    // The rename is durable only once the folder's entry is.
    const dir = await open(dirname(this.path), 'r').catch(() => undefined);
    if (dir) {
      await dir.sync().catch(() => undefined);
      await dir.close();
    }
  }
}
