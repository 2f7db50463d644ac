import type { Counter } from 'prom-client';
import { NS_PER_MS, nowNs, type LogEvent } from '../../core/event.js';
import type { Input, InputContext } from '../../core/plugin.js';
import { KubeApiError, type KubeApiClient, type WatchHandle } from '../../kube/api-client.js';
import { KubeConnection } from '../../kube/connection.js';
import type { ServiceAccountToken } from '../../kube/token.js';
import { eventTimeNs, exporterRecord } from './exporter-record.js';
import type { KubernetesEventsOptions } from './options.js';
import { DeliveredVersion } from './delivered-version.js';
import { ResourceVersionDb } from './resource-version-db.js';
import { SeenEvents } from './seen-events.js';

type Obj = Record<string, unknown>;

/** Events to emit, and the uid, resourceVersion pairs (flat) to mark as sent once they are queued. */
interface Batch {
  events: LogEvent[];
  versions: string[];
}

/** Raised inside the loop when the API server no longer has the resourceVersion we watch from. */
class ResourceExpired extends Error {}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 30_000;

/**
 * Fluent Bit's kubernetes_events input: lists the Events of the cluster (or of kube_namespace), then
 * watches them from the list's resourceVersion, with bookmarks, resuming each new watch where the last
 * one stopped. When the API server answers 410 Gone (the resourceVersion was compacted away) it lists
 * again and sends only the events whose uid and resourceVersion it has not sent yet.
 *
 * Each event is emitted as the record kubernetes-event-exporter prints (see exporter-record.ts), at the
 * time it last happened, and the resourceVersion moves (in memory and in `db`) only past events the
 * pipeline has queued. Added and modified events are sent; deletions (expiry) are not events.
 */
export class KubernetesEventsInput implements Input {
  private readonly client: KubeApiClient;
  private readonly token: ServiceAccountToken;
  private readonly db: ResourceVersionDb | undefined;
  /** What `db` may record: versions whose events settled in the outputs, in stream order. */
  private readonly delivered: DeliveredVersion;
  private readonly seen = new SeenEvents();
  private readonly tag: string;
  private readonly eventsPath: string;
  private readonly records: { emitted: Counter.Internal; duplicate: Counter.Internal; tooOld: Counter.Internal };
  private readonly requests: Counter<string>;
  private resourceVersion: string | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private watchHandle: WatchHandle | undefined;
  private readonly stopController = new AbortController();
  private resumeWaiters: (() => void)[] = [];
  private pausedFlag = false;
  private failures = 0;

  constructor(
    private readonly options: KubernetesEventsOptions,
    private readonly ctx: InputContext,
  ) {
    this.tag = options.tag ?? ctx.name;
    this.eventsPath = options.namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${options.namespace}/events`;
    const connection = new KubeConnection(
      { url: options.url, caFile: options.caFile, tokenFile: options.tokenFile, tokenTtlMs: options.tokenTtlMs, tlsVerify: options.tlsVerify },
      ctx.log,
    );
    this.client = connection.client;
    this.token = connection.token;
    if (options.db !== undefined) {
      this.db = new ResourceVersionDb(options.db, { kubeUrl: options.url.href, namespace: options.namespace ?? '' }, (message) => ctx.log.warn(message));
    }
    this.delivered = new DeliveredVersion((rv) => this.db?.save(rv));
    const counter = ctx.metrics.counter(
      'floki_input_kubernetes_events_total',
      'Kubernetes events seen by a kubernetes_events input, by what became of them.',
      ['name', 'result'],
    );
    this.records = {
      emitted: counter.labels(ctx.name, 'emitted'),
      duplicate: counter.labels(ctx.name, 'already_sent'),
      tooOld: counter.labels(ctx.name, 'older_than_retention'),
    };
    this.requests = ctx.metrics.counter(
      'floki_input_kubernetes_api_requests_total',
      'Requests a kubernetes_events input made of the API server, by verb and status (0: no answer).',
      ['name', 'verb', 'code'],
    );
  }

  async start(): Promise<void> {
    this.resourceVersion = this.db?.load();
    this.ctx.log.info(
      { url: this.options.url.href, namespace: this.options.namespace ?? '(all)', resume_from: this.resourceVersion ?? null },
      'kubernetes_events input starting',
    );
    this.loop = this.run();
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    this.watchHandle?.abort();
    this.wake();
    await this.loop;
    await this.db?.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        await this.watch();
        this.failures = 0;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof ResourceExpired) {
          this.ctx.log.info({ resource_version: this.resourceVersion }, 'resourceVersion expired (410 Gone): listing events again');
          this.resourceVersion = undefined;
          continue;
        }
        if (err instanceof KubeApiError && err.status === 401 && this.token.reload()) {
          this.ctx.log.info('API server answered 401: the token file changed, retrying with the new token');
          continue;
        }
        await this.backoff(err as Error);
      }
    }
  }

  /** Lists every event (page by page when kube_request_limit is set); the watch then starts from the list's resourceVersion. */
  private async list(): Promise<void> {
    const present = new Set<string>();
    let continueToken: string | undefined;
    let listVersion: string | undefined;
    let count = 0;
    do {
      const params = new URLSearchParams();
      if (this.options.requestLimit > 0) params.set('limit', String(this.options.requestLimit));
      if (continueToken !== undefined) params.set('continue', continueToken);
      const query = params.size > 0 ? `?${params}` : '';
      let page: Obj;
      try {
        page = (await this.client.getJson(this.eventsPath + query, this.stopController.signal)) as Obj;
        this.requests.inc({ name: this.ctx.name, verb: 'list', code: '200' });
      } catch (err) {
        this.requests.inc({ name: this.ctx.name, verb: 'list', code: String(err instanceof KubeApiError ? err.status : 0) });
        // An expired continue token: the snapshot is gone, start the list over.
        if (err instanceof KubeApiError && err.status === 410 && continueToken !== undefined) throw new ResourceExpired();
        throw err;
      }
      const metadata = isObject(page.metadata) ? page.metadata : {};
      listVersion ??= typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
      continueToken = typeof metadata.continue === 'string' && metadata.continue.length > 0 ? metadata.continue : undefined;
      const items = Array.isArray(page.items) ? (page.items as unknown[]) : [];
      const batch: Batch = { events: [], versions: [] };
      for (const item of items) {
        if (!isObject(item)) continue;
        const uid = uidOf(item);
        if (uid !== undefined) present.add(uid);
        this.consider(item, batch);
      }
      count += items.length;
      await this.emit(batch, undefined);
    } while (continueToken !== undefined && !this.stopped);
    if (this.stopped) return;
    if (listVersion === undefined) throw new KubeApiError(`GET ${this.eventsPath}: the list has no metadata.resourceVersion`, 200);
    this.seen.keepOnly(present);
    this.resourceVersion = listVersion;
    this.delivered.add(listVersion)();
    this.ctx.log.info({ events: count, resource_version: listVersion }, 'listed events');
  }

  /** One watch request, from this.resourceVersion, until the server ends it. */
  private async watch(): Promise<void> {
    const timeoutSeconds = Math.max(1, Math.round(this.options.watchTimeoutMs / 1000));
    const params = new URLSearchParams({
      watch: '1',
      resourceVersion: this.resourceVersion!,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeoutSeconds),
    });
    const handle = this.client.watch(`${this.eventsPath}?${params}`, this.options.watchTimeoutMs, (lines) => this.onWatchLines(lines));
    this.watchHandle = handle;
    const started = performance.now();
    try {
      await handle.done;
      this.requests.inc({ name: this.ctx.name, verb: 'watch', code: '200' });
      // A server that ends watches at once would otherwise be asked again in a tight loop.
      if (performance.now() - started < 1000) await this.sleep(MIN_BACKOFF_MS);
    } catch (err) {
      if (!(err instanceof ResourceExpired)) {
        this.requests.inc({ name: this.ctx.name, verb: 'watch', code: String(err instanceof KubeApiError ? err.status : 0) });
      }
      if (err instanceof KubeApiError && err.status === 410) throw new ResourceExpired();
      throw err;
    } finally {
      this.watchHandle = undefined;
    }
  }

  private async onWatchLines(lines: string[]): Promise<void> {
    // A watch that delivers is healthy: the next failure starts the backoff from the bottom.
    this.failures = 0;
    const batch: Batch = { events: [], versions: [] };
    let version = this.resourceVersion;
    let expired = false;
    for (const line of lines) {
      let watchEvent: Obj;
      try {
        watchEvent = JSON.parse(line) as Obj;
      } catch {
        this.ctx.log.warn({ line: line.slice(0, 200) }, 'watch sent a line that is not JSON: skipped');
        continue;
      }
      const object = isObject(watchEvent.object) ? watchEvent.object : {};
      const rv = resourceVersionOf(object);
      switch (watchEvent.type) {
        case 'ADDED':
        case 'MODIFIED':
          this.consider(object, batch);
          if (rv !== undefined) version = rv;
          break;
        case 'DELETED': {
          const uid = uidOf(object);
          if (uid !== undefined) this.seen.delete(uid);
          if (rv !== undefined) version = rv;
          break;
        }
        case 'BOOKMARK':
          if (rv !== undefined) version = rv;
          break;
        case 'ERROR': {
          const code = typeof object.code === 'number' ? object.code : 0;
          if (code === 410) {
            expired = true;
            break;
          }
          await this.emit(batch, version);
          this.resourceVersion = version;
          throw new KubeApiError(`watch error: ${code} ${typeof object.message === 'string' ? object.message : ''}`.trim(), code);
        }
        default:
          break;
      }
      if (expired) break;
    }
    await this.emit(batch, version);
    this.resourceVersion = version;
    if (expired) throw new ResourceExpired();
  }

  /**
   * Adds the event to `batch` unless this version was sent already or it is older than the retention.
   * It counts as sent only once the batch is queued (see emit): a batch the pipeline refused comes again.
   */
  private consider(item: Obj, batch: Batch): void {
    const uid = uidOf(item);
    const rv = resourceVersionOf(item);
    if (uid !== undefined && rv !== undefined && this.seen.has(uid, rv)) {
      this.records.duplicate.inc();
      return;
    }
    const time = eventTimeNs(item) ?? nowNs();
    if (this.options.retentionMs > 0 && time < nowNs() - BigInt(this.options.retentionMs) * NS_PER_MS) {
      this.records.tooOld.inc();
      if (uid !== undefined && rv !== undefined) this.seen.add(uid, rv);
      return;
    }
    batch.events.push({ tag: this.tag, time, record: exporterRecord(item) });
    if (uid !== undefined && rv !== undefined) batch.versions.push(uid, rv);
  }

  /**
   * Hands the batch to the pipeline and, once it is queued, marks its versions as sent. `version` is the
   * resourceVersion the stream is at after this batch; `db` records it once the batch has settled.
   */
  private async emit(batch: Batch, version: string | undefined): Promise<void> {
    const settled = this.delivered.add(version);
    if (batch.events.length === 0) settled();
    else {
      try {
        await this.ctx.emit(batch.events, () => settled());
      } catch (err) {
        // Not queued: the stream restarts from the version before this batch, so these events come again.
        settled(false);
        throw err;
      }
      this.records.emitted.inc(batch.events.length);
      for (let i = 0; i < batch.versions.length; i += 2) this.seen.add(batch.versions[i]!, batch.versions[i + 1]!);
      batch.events = [];
      batch.versions = [];
    }
    // Backpressure: hold the watch (its response stays paused) until the outputs drain.
    while ((this.pausedFlag || this.ctx.paused) && !this.stopped) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
  }

  private async backoff(err: Error): Promise<void> {
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.failures);
    this.failures++;
    // The first failure of a run is a warning; repeats are at debug level, so a down API server is one line, not a flood.
    const level = this.failures === 1 ? 'warn' : 'debug';
    this.ctx.log[level]({ err: err.message, retry_in_ms: delay }, 'kubernetes API request failed');
    await this.sleep(delay);
  }

  /** Waits `ms`, or less if the input stops meanwhile. */
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

  private wake(): void {
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
  }
}

function uidOf(object: Obj): string | undefined {
  const metadata = object.metadata;
  if (!isObject(metadata)) return undefined;
  return typeof metadata.uid === 'string' && metadata.uid.length > 0 ? metadata.uid : undefined;
}

function resourceVersionOf(object: Obj): string | undefined {
  const metadata = object.metadata;
  if (!isObject(metadata)) return undefined;
  return typeof metadata.resourceVersion === 'string' && metadata.resourceVersion.length > 0 ? metadata.resourceVersion : undefined;
}

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
