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

export interface WatchChange {
  type: WatchEventType;
  object: KubeObject;
}

/**
 * What becomes of the objects. Each call may return a promise (backpressure): the list's next page,
 * or the watch's next chunk, is read only once it settles, and the resourceVersion moves past a page
 * or chunk only then (a failed call means its objects come again).
 */
export interface ListWatchHandler {
  /** One page of a list (`first`: the first page of a new list). */
  listPage(items: KubeObject[], first: boolean): void | Promise<void>;
  /** The list is complete: every object of it went to listPage. */
  listed(resourceVersion: string, count: number): void;
  /** Changes the watch saw, in order; `resourceVersion` is where the stream is after them. */
  changes(changes: WatchChange[], resourceVersion: string | undefined): void | Promise<void>;
}

export interface ListWatchOptions {
  /** Collection path, e.g. `/api/v1/pods`. */
  path: string;
  /** Query parameters of both list and watch, e.g. a fieldSelector. */
  selector?: Record<string, string>;
  /** Objects per list page (continue tokens between pages); 0: the whole list in one answer. */
  pageSize: number;
  /** Largest object accepted (a watch line; a list page may hold pageSize of them); 0: no limit. */
  maxObjectBytes: number;
  /** Each watch asks the server to end it after this long; a new one starts from the last version. */
  watchTimeoutMs: number;
  /** Start by watching from this version (kept from an earlier run) instead of listing. */
  resourceVersion?: string;
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
  ) {
    this.resourceVersion = options.resourceVersion;
  }

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
    let count = 0;
    let continueToken: string | undefined;
    let listVersion: string | undefined;
    const { pageSize, maxObjectBytes } = this.options;
    do {
      const params = new URLSearchParams(this.options.selector);
      if (pageSize > 0) params.set('limit', String(pageSize));
      if (continueToken !== undefined) params.set('continue', continueToken);
      const query = params.size > 0 ? `?${params}` : '';
      let page: KubeObject;
      try {
        page = (await this.connection.client.getJson(this.options.path + query, {
          signal: this.stopController.signal,
          maxBytes: maxObjectBytes > 0 && pageSize > 0 ? Math.min(maxObjectBytes * pageSize, MAX_PAGE_BYTES) : 0,
        })) as KubeObject;
        this.options.onRequest?.('list', 200);
      } catch (err) {
        this.options.onRequest?.('list', err instanceof KubeApiError ? err.status : 0);
        // An expired continue token: the snapshot is gone, start the list over.
        if (err instanceof KubeApiError && err.status === 410 && continueToken !== undefined) throw new ResourceExpired();
        throw err;
      }
      const metadata = isObject(page.metadata) ? page.metadata : {};
      const first = listVersion === undefined;
      listVersion ??= typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
      continueToken = typeof metadata.continue === 'string' && metadata.continue.length > 0 ? metadata.continue : undefined;
      const items = Array.isArray(page.items) ? (page.items as unknown[]).filter(isObject) : [];
      count += items.length;
      await this.handler.listPage(items, first);
    } while (continueToken !== undefined && !this.stopped);
    if (this.stopped) return;
    if (listVersion === undefined) throw new KubeApiError(`GET ${this.options.path}: the list has no metadata.resourceVersion`, 200);
    this.handler.listed(listVersion, count);
    this.resourceVersion = listVersion;
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      this.wakeSyncWaiters();
    }
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
    const changes: WatchChange[] = [];
    let version = this.resourceVersion;
    let failure: Error | undefined;
    for (const line of lines) {
      let event: KubeObject;
      try {
        event = JSON.parse(line) as KubeObject;
      } catch {
        this.log.warn({ line: line.slice(0, 200) }, 'watch sent a line that is not JSON: skipped');
        continue;
      }
      const object = isObject(event.object) ? event.object : {};
      const rv = isObject(object.metadata) && typeof object.metadata.resourceVersion === 'string' && object.metadata.resourceVersion.length > 0 ? object.metadata.resourceVersion : undefined;
      if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') changes.push({ type: event.type, object });
      else if (event.type === 'ERROR') {
        const code = typeof object.code === 'number' ? object.code : 0;
        failure = code === 410 ? new ResourceExpired() : new KubeApiError(`watch error: ${code} ${typeof object.message === 'string' ? object.message : ''}`.trim(), code);
        break;
      }
      if (rv !== undefined) version = rv;
    }
    // What came before an error is handled first, and the stream resumes after it.
    await this.handler.changes(changes, version);
    this.resourceVersion = version;
    if (failure !== undefined) throw failure;
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
