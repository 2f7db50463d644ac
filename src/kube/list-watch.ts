/**
 * Keeps a local copy of a set of API objects current, as client-go's reflector does: list them (in
 * pages), then watch from the list's resourceVersion with bookmarks, resuming each new watch where the
 * last one stopped; after 410 Gone (the version was compacted away) list again. A 401 re-reads the
 * token file; other failures are retried with exponential backoff, logged once per outage.
 */
import type { Logger } from 'pino';
import { KubeApiError, type WatchHandle } from './api-client.js';
import type { KubeConnection } from './connection.js';

export type KubeObject = Record<string, unknown>;
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListWatchHandler {
  /** A complete list: these are all the objects now (what is missing was deleted meanwhile). */
  replace(items: KubeObject[]): void;
  /** One change seen by the watch. */
  apply(type: WatchEventType, object: KubeObject): void;
}

export interface ListWatchOptions {
  /** Collection path, e.g. `/api/v1/pods`. */
  path: string;
  /** Query parameters of both list and watch, e.g. a fieldSelector. */
  selector?: Record<string, string>;
  /** Objects per list page (continue tokens between pages). */
  pageSize: number;
  /** Largest object accepted (a watch line; a list page may hold pageSize of them); 0: no limit. */
  maxObjectBytes: number;
  /** Each watch asks the server to end it after this long; a new one starts from the last version. */
  watchTimeoutMs: number;
  /** Counts each request: verb and HTTP status (0: no answer). */
  onRequest?: (verb: 'list' | 'watch', code: number) => void;
  /** Told of an object skipped for its size. */
  onTooLarge?: () => void;
}

class ResourceExpired extends Error {}

const MIN_BACKOFF_MS = 200;
/** A list page is bounded too: pageSize objects of maxObjectBytes, at most this. */
const MAX_PAGE_BYTES = 64 << 20;
const MAX_BACKOFF_MS = 30_000;

export class ListWatch {
  private resourceVersion: string | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private watchHandle: WatchHandle | undefined;
  private readonly stopController = new AbortController();
  private failures = 0;
  private syncedFlag = false;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly connection: KubeConnection,
    private readonly options: ListWatchOptions,
    private readonly handler: ListWatchHandler,
    private readonly log: Logger,
  ) {}

  /** True once a list has completed: the copy then holds every object (as of the list, plus what the watch told since). */
  get synced(): boolean {
    return this.syncedFlag;
  }

  /** True while the copy is being kept current (listed, and no failure since). */
  get healthy(): boolean {
    return this.syncedFlag && this.failures === 0;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    this.watchHandle?.abort();
    this.wakeSyncWaiters();
    await this.loop;
  }

  /** Resolves once synced, or after `timeoutMs` (false then). */
  whenSynced(timeoutMs: number): Promise<boolean> {
    if (this.syncedFlag) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(this.syncedFlag);
      };
      this.syncWaiters.push(done);
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        await this.watch();
        this.recovered();
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof ResourceExpired) {
          this.log.info({ path: this.options.path, resource_version: this.resourceVersion }, 'resourceVersion expired (410 Gone): listing again');
          this.resourceVersion = undefined;
          continue;
        }
        if (err instanceof KubeApiError && err.status === 401 && this.connection.token.reload()) {
          this.log.info('API server answered 401: the token file changed, retrying with the new token');
          continue;
        }
        await this.backoff(err as Error);
      }
    }
  }

  private async list(): Promise<void> {
    const items: KubeObject[] = [];
    let continueToken: string | undefined;
    let listVersion: string | undefined;
    const { pageSize, maxObjectBytes } = this.options;
    do {
      const params = new URLSearchParams({ ...this.options.selector, limit: String(pageSize) });
      if (continueToken !== undefined) params.set('continue', continueToken);
      let page: KubeObject;
      try {
        page = (await this.connection.client.getJson(`${this.options.path}?${params}`, {
          signal: this.stopController.signal,
          maxBytes: maxObjectBytes > 0 ? Math.min(maxObjectBytes * pageSize, MAX_PAGE_BYTES) : 0,
        })) as KubeObject;
        this.options.onRequest?.('list', 200);
      } catch (err) {
        this.options.onRequest?.('list', err instanceof KubeApiError ? err.status : 0);
        // An expired continue token: the snapshot is gone, start the list over.
        if (err instanceof KubeApiError && err.status === 410) throw new ResourceExpired();
        throw err;
      }
      const metadata = isObject(page.metadata) ? page.metadata : {};
      listVersion ??= typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
      continueToken = typeof metadata.continue === 'string' && metadata.continue.length > 0 ? metadata.continue : undefined;
      if (Array.isArray(page.items)) for (const item of page.items) if (isObject(item)) items.push(item);
    } while (continueToken !== undefined && !this.stopped);
    if (this.stopped) return;
    if (listVersion === undefined) throw new KubeApiError(`GET ${this.options.path}: the list has no metadata.resourceVersion`, 200);
    this.handler.replace(items);
    this.resourceVersion = listVersion;
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      this.wakeSyncWaiters();
    }
    this.log.debug({ path: this.options.path, objects: items.length, resource_version: listVersion }, 'listed');
  }

  private async watch(): Promise<void> {
    const params = new URLSearchParams({
      ...this.options.selector,
      watch: '1',
      resourceVersion: this.resourceVersion!,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(Math.max(1, Math.round(this.options.watchTimeoutMs / 1000))),
    });
    const handle = this.connection.client.watch(`${this.options.path}?${params}`, this.options.watchTimeoutMs, (lines) => this.onLines(lines), {
      maxLineBytes: this.options.maxObjectBytes,
      onSkippedLine: () => this.options.onTooLarge?.(),
    });
    this.watchHandle = handle;
    const started = performance.now();
    try {
      await handle.done;
      this.options.onRequest?.('watch', 200);
      // A server that ends watches at once would otherwise be asked again in a tight loop.
      if (performance.now() - started < 1000) await this.sleep(MIN_BACKOFF_MS);
    } catch (err) {
      if (err instanceof ResourceExpired) throw err;
      this.options.onRequest?.('watch', err instanceof KubeApiError ? err.status : 0);
      if (err instanceof KubeApiError && err.status === 410) throw new ResourceExpired();
      throw err;
    } finally {
      this.watchHandle = undefined;
    }
  }

  private async onLines(lines: string[]): Promise<void> {
    // A watch that delivers is healthy: the next failure starts the backoff from the bottom.
    this.recovered();
    for (const line of lines) {
      let event: KubeObject;
      try {
        event = JSON.parse(line) as KubeObject;
      } catch {
        this.log.warn({ line: line.slice(0, 200) }, 'watch sent a line that is not JSON: skipped');
        continue;
      }
      const object = isObject(event.object) ? event.object : {};
      const rv = isObject(object.metadata) && typeof object.metadata.resourceVersion === 'string' ? object.metadata.resourceVersion : undefined;
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED':
        case 'DELETED':
          this.handler.apply(event.type, object);
          break;
        case 'ERROR': {
          const code = typeof object.code === 'number' ? object.code : 0;
          if (code === 410) throw new ResourceExpired();
          throw new KubeApiError(`watch error: ${code} ${typeof object.message === 'string' ? object.message : ''}`.trim(), code);
        }
        default:
          break;
      }
      if (rv !== undefined) this.resourceVersion = rv;
    }
  }

  private recovered(): void {
    if (this.failures > 0) this.log.info({ path: this.options.path }, 'API server reachable again: watching');
    this.failures = 0;
  }

  private async backoff(err: Error): Promise<void> {
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.failures);
    this.failures++;
    // The first failure of an outage is a warning; repeats are at debug level: one line, not a flood.
    const level = this.failures === 1 ? 'warn' : 'debug';
    this.log[level]({ path: this.options.path, err: err.message, retry_in_ms: delay }, 'list/watch failed');
    await this.sleep(delay);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = this.stopController.signal;
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private wakeSyncWaiters(): void {
    for (const wake of this.syncWaiters.splice(0)) wake();
  }
}

export function isObject(value: unknown): value is KubeObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
