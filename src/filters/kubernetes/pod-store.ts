/**
 * The pods the filter knows, and how it comes to know them, lightest first:
 *
 * - with a node name: a list and watch of this node's pods (`fieldSelector=spec.nodeName=`) keeps a
 *   copy current; a pod missing from it (its log appeared before the watch told of it) waits up to
 *   kube_meta_wait_time for the watch, then one GET;
 * - with use_kubelet: the kubelet's `/pods`, asked again (at most once a second) when a pod is missing;
 * - otherwise, as Fluent Bit: one GET per pod.
 *
 * Lookups never wait; `fetch` is what a record of an unknown pod waits on, for a bounded time. Failed
 * lookups are remembered for a while (a 404 for 30 s; an outage until the next try is due), so they
 * cost no request per batch. Deleted pods stay 10 minutes (their last lines are often read after they
 * are gone); the cache is bounded in bytes, least recently used first.
 */
import type { Logger } from 'pino';
import { ByteBoundedCache, keyBytes } from '../../kube/bounded-cache.js';
import { KubeApiError } from '../../kube/api-client.js';
import type { KubeConnection } from '../../kube/connection.js';
import { ListWatch, isObject, type KubeObject, type WatchEventType } from '../../kube/list-watch.js';
import type { ApiHealth, MissReason } from './api-health.js';
import type { KubernetesFilterMetrics } from './metrics.js';
import { podMetadataOf, type PodMetadata } from './pod-metadata.js';

export interface PodEntry {
  meta: PodMetadata;
  source: 'watch' | 'get' | 'kubelet';
  storedAt: number;
  deletedAt: number | undefined;
}

export interface Miss {
  reason: MissReason;
  /** performance.now() time after which the pod may be asked for again. */
  until: number;
}

export interface PodStoreOptions {
  nodeName: string | undefined;
  /** The kubelet to ask instead of the API server. */
  kubelet: KubeConnection | undefined;
  ttlMs: number;
  waitMs: number;
  maxObjectBytes: number;
  cacheBytes: number;
  /** Timeout of one GET. */
  getTimeoutMs: number;
  /** How long a deleted pod stays. */
  deletedGraceMs: number;
  /** How long a 404 is believed. */
  notFoundMs: number;
  watchTimeoutMs: number;
  /** How often deleted pods and expired misses are looked for. */
  sweepEveryMs: number;
}

const TOO_LARGE_MS = 300_000;
const KUBELET_MIN_INTERVAL_MS = 1000;
const MAX_MISSES = 10_000;
/** Pod keys come from tags, which a client chooses: the misses are bounded in bytes too. */
const MAX_MISS_BYTES = 4 * 1024 * 1024;

export function isMiss<T extends object>(v: T | Miss | undefined): v is Miss {
  return v !== undefined && 'reason' in v;
}

export class PodStore {
  private readonly cache: ByteBoundedCache<PodEntry>;
  private readonly misses = new ByteBoundedCache<Miss>(MAX_MISS_BYTES, undefined, MAX_MISSES);
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly probing = new Set<string>();
  /** Pods the size limit pushed out: the watch told of them already, so a record of one does not wait for it. */
  private readonly evicted = new ByteBoundedCache<true>(MAX_MISS_BYTES, undefined, MAX_MISSES);
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly watch: ListWatch | undefined;
  /** The pages of a list under way. */
  private listing: KubeObject[] = [];
  private kubeletRefresh: Promise<void> | undefined;
  private lastKubeletRefresh = -Infinity;
  private readonly stopController = new AbortController();
  private nextSweep: number;

  constructor(
    private readonly api: KubeConnection,
    private readonly options: PodStoreOptions,
    private readonly health: ApiHealth,
    private readonly metrics: KubernetesFilterMetrics,
    private readonly log: Logger,
  ) {
    this.cache = new ByteBoundedCache<PodEntry>(options.cacheBytes, (key, entry) => {
      metrics.evicted('size');
      if (entry.source === 'watch' && entry.deletedAt === undefined) {
        this.evicted.set(key, true, keyBytes(key));
      }
    });
    this.nextSweep = performance.now() + options.sweepEveryMs;
    if (options.nodeName !== undefined && options.kubelet === undefined) {
      this.watch = new ListWatch(
        api,
        {
          path: '/api/v1/pods',
          selector: { fieldSelector: `spec.nodeName=${options.nodeName}` },
          pageSize: 100,
          maxObjectBytes: options.maxObjectBytes,
          watchTimeoutMs: options.watchTimeoutMs,
          onRequest: (verb, code) => metrics.request(verb, 'pods', code),
          onTooLarge: () => this.health.once('too_large', { limit: options.maxObjectBytes }, 'a pod is larger than buffer_size: skipped by the watch, its records get the metadata of their tag only'),
        },
        {
          listPage: (items, first) => {
            if (first) this.listing = [];
            this.listing.push(...items);
          },
          listed: () => {
            this.replace(this.listing, 'watch');
            this.listing = [];
          },
          changes: (changes) => {
            for (const c of changes) this.apply(c.type, c.object);
          },
        },
        log,
      );
    }
  }

  start(): void {
    if (this.watch !== undefined) {
      this.log.info({ node: this.options.nodeName }, "watching this node's pods");
      this.watch.start();
    } else if (this.options.kubelet !== undefined) {
      void this.refreshKubelet();
    } else {
      this.log.info('no node name (NODE_NAME or kube_node_name): one GET per pod, as Fluent Bit');
    }
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    for (const list of this.waiters.values()) for (const wake of list) wake();
    this.waiters.clear();
    await this.watch?.stop();
    await Promise.allSettled([...this.inflight.values(), this.kubeletRefresh]);
  }

  /** What is known of a pod now: its entry, why it has none, or nothing yet. Never waits. */
  lookup(key: string, now = performance.now()): PodEntry | Miss | undefined {
    if (now >= this.nextSweep) this.sweep(now);
    const entry = this.cache.get(key);
    if (entry !== undefined) {
      // A copy from a GET or the kubelet past kube_meta_cache_ttl: still used, asked again in the background.
      if (entry.source !== 'watch' && this.options.ttlMs > 0 && now - entry.storedAt > this.options.ttlMs) this.probe(key);
      return entry;
    }
    const miss = this.misses.get(key);
    if (miss === undefined) return undefined;
    if (now < miss.until) return miss;
    this.misses.delete(key);
    return undefined;
  }

  /**
   * Finds out about a pod not known yet: resolves once `lookup` has an answer. Waits only while the API
   * server is answering; during an outage it answers at once (a miss) and asks in the background.
   */
  fetch(key: string): Promise<void> | undefined {
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending;
    if (!this.healthy()) {
      this.miss(key, 'api_unavailable', this.health.retryAt);
      this.probe(key);
      return undefined;
    }
    const p = this.find(key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  get bytes(): number {
    return this.cache.bytes;
  }

  get size(): number {
    return this.cache.size;
  }

  private healthy(): boolean {
    if (this.watch !== undefined && this.watch.synced && this.watch.healthy) return true;
    return this.health.allowRequest() && this.health.retryAt === 0;
  }

  private async find(key: string): Promise<void> {
    const deadline = performance.now() + this.options.waitMs;
    if (this.watch !== undefined && !this.evicted.delete(key)) {
      if (!this.watch.synced) await this.watch.whenSynced(this.options.waitMs);
      if (this.cache.peek(key) !== undefined || this.stopping) return;
      if (this.watch.synced && (await this.waitFor(key, deadline - performance.now()))) return;
    }
    if (this.stopping) return;
    if (this.options.kubelet !== undefined) {
      await this.refreshKubelet();
      if (this.cache.peek(key) !== undefined) return;
      // Not on this node's kubelet (Fluent Bit then gives the tag's metadata too), or the kubelet did not answer.
      if (this.health.retryAt > 0) this.miss(key, 'api_unavailable', this.health.retryAt);
      else this.miss(key, 'not_found', performance.now() + this.options.notFoundMs);
      return;
    }
    await this.get(key);
  }

  /** A request in the background (an outage's probe, a refresh past the TTL): nothing waits on it. */
  private probe(key: string): void {
    if (this.probing.has(key) || !this.health.allowRequest() || this.stopping) return;
    this.probing.add(key);
    const request = this.options.kubelet !== undefined ? this.refreshKubelet() : this.get(key, true);
    void request.finally(() => this.probing.delete(key));
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** One GET of the pod. */
  private async get(key: string, refresh = false): Promise<void> {
    const [namespace, name] = splitKey(key);
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    try {
      const pod = await this.api.get(path, { maxBytes: this.options.maxObjectBytes, timeoutMs: this.options.getTimeoutMs, signal: this.stopController.signal });
      this.metrics.request('get', 'pods', 200);
      this.health.ok();
      const meta = isObject(pod) ? podMetadataOf(pod) : undefined;
      if (meta === undefined) throw new KubeApiError(`GET ${path}: not a pod`, 200);
      const current = this.cache.peek(key);
      if (current === undefined || refresh) this.store(key, meta, current?.source === 'watch' ? 'watch' : 'get');
      this.misses.delete(key);
      if (this.options.nodeName !== undefined && meta.nodeName !== this.options.nodeName) {
        this.health.once(
          'node_mismatch',
          { kube_node_name: this.options.nodeName, pod: key, pod_node: meta.nodeName },
          "a pod's log is on this node but the API server places it on another: check NODE_NAME / kube_node_name (each such pod costs a wait and a GET)",
        );
      }
    } catch (err) {
      if (this.stopping) return;
      this.metrics.request('get', 'pods', err instanceof KubeApiError ? err.status : 0);
      const reason = this.health.fail(err, path);
      if (this.cache.peek(key) !== undefined) return;
      const now = performance.now();
      this.miss(key, reason, reason === 'not_found' ? now + this.options.notFoundMs : reason === 'too_large' ? now + TOO_LARGE_MS : this.health.retryAt);
    }
  }

  /** The kubelet's pods, asked at most once a second; concurrent callers share one request. */
  private refreshKubelet(): Promise<void> {
    this.kubeletRefresh ??= (async () => {
      const wait = this.lastKubeletRefresh + KUBELET_MIN_INTERVAL_MS - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.lastKubeletRefresh = performance.now();
      const kubelet = this.options.kubelet!;
      const max = this.options.maxObjectBytes;
      try {
        const list = await kubelet.get('/pods', { maxBytes: max > 0 ? Math.max(max * 256, 8 << 20) : 0, timeoutMs: this.options.getTimeoutMs, signal: this.stopController.signal });
        this.metrics.request('get', 'kubelet_pods', 200);
        this.health.ok();
        const items = isObject(list) && Array.isArray(list.items) ? list.items.filter(isObject) : [];
        this.replace(items, 'kubelet');
      } catch (err) {
        if (this.stopping) return;
        this.metrics.request('get', 'kubelet_pods', err instanceof KubeApiError ? err.status : 0);
        this.health.fail(err, `${kubelet.options.url.origin}/pods`);
      }
    })().finally(() => (this.kubeletRefresh = undefined));
    return this.kubeletRefresh;
  }

  /** A complete list (watch relist, kubelet): pods missing from it were deleted meanwhile. */
  private replace(items: KubeObject[], source: 'watch' | 'kubelet'): void {
    const now = performance.now();
    const present = new Set<string>();
    for (const item of items) {
      const meta = podMetadataOf(item);
      if (meta === undefined) continue;
      const key = `${meta.namespace}/${meta.name}`;
      present.add(key);
      this.store(key, meta, source);
    }
    this.cache.forEach((key, entry) => {
      if (entry.source === source && entry.deletedAt === undefined && !present.has(key)) entry.deletedAt = now;
    });
    this.health.ok();
    // What an outage left behind is stale now that the list is complete.
    this.misses.forEach((key, miss) => miss.reason !== 'too_large' && this.misses.delete(key));
    this.updateGauges();
  }

  private apply(type: WatchEventType, object: KubeObject): void {
    const meta = podMetadataOf(object);
    if (meta === undefined) return;
    const key = `${meta.namespace}/${meta.name}`;
    if (type === 'DELETED') {
      const entry = this.cache.peek(key);
      if (entry !== undefined) entry.deletedAt ??= performance.now();
      return;
    }
    this.store(key, meta, 'watch');
    this.misses.delete(key);
    this.updateGauges();
  }

  private store(key: string, meta: PodMetadata, source: PodEntry['source']): void {
    this.evicted.delete(key);
    this.cache.set(key, { meta, source, storedAt: performance.now(), deletedAt: undefined }, meta.bytes);
    const waiting = this.waiters.get(key);
    if (waiting !== undefined) {
      this.waiters.delete(key);
      for (const wake of waiting) wake();
    }
  }

  private miss(key: string, reason: MissReason, until: number): void {
    this.misses.set(key, { reason, until }, keyBytes(key));
  }

  /** True once the pod is stored, false after `ms`. */
  private waitFor(key: string, ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let list = this.waiters.get(key);
      if (list === undefined) this.waiters.set(key, (list = []));
      const wake = () => {
        clearTimeout(timer);
        resolve(this.cache.peek(key) !== undefined);
      };
      const timer = setTimeout(() => {
        const current = this.waiters.get(key);
        if (current !== undefined) {
          const at = current.indexOf(wake);
          if (at >= 0) current.splice(at, 1);
          if (current.length === 0) this.waiters.delete(key);
        }
        resolve(false);
      }, ms);
      list.push(wake);
    });
  }

  /** Drops pods deleted long ago and misses that ran out. */
  private sweep(now: number): void {
    this.nextSweep = now + this.options.sweepEveryMs;
    this.cache.forEach((key, entry) => {
      if (entry.deletedAt !== undefined && now - entry.deletedAt > this.options.deletedGraceMs) {
        this.cache.delete(key);
        this.metrics.evicted('deleted');
      }
    });
    this.misses.forEach((key, miss) => now >= miss.until && this.misses.delete(key));
    this.updateGauges();
  }

  private updateGauges(): void {
    this.metrics.cache('pod', this.cache.bytes, this.cache.size);
  }
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
