/**
 * Namespaces' labels and annotations (namespace_labels, namespace_annotations): one GET per namespace,
 * kept kube_meta_namespace_cache_ttl, then asked again in the background while the old copy is still
 * used, so a record waits for a namespace only the first time (one GET), never after. Namespaces are
 * few: requests grow with namespaces and time, not with pods or records.
 */
import type { Logger } from 'pino';
import { ByteBoundedCache, keyBytes } from '../../kube/bounded-cache.js';
import { KubeApiError } from '../../kube/api-client.js';
import type { KubeConnection } from '../../kube/connection.js';
import { isObject } from '../../kube/list-watch.js';
import type { ApiHealth } from './api-health.js';
import type { KubernetesFilterMetrics } from './metrics.js';
import type { Miss } from './pod-store.js';
import { freezeShared } from '../../labels/shared-map.js';

/** What `record_layout fluentd` takes from a namespace. */
export interface NamespaceObject {
  uid: unknown;
  labels: unknown;
  annotations: unknown;
}

export interface NamespaceEntry {
  /** The `kubernetes_namespace` map: name, then labels and annotations as enabled. */
  map: Record<string, unknown>;
  /** Kept with `keepObject` only. */
  object: NamespaceObject | undefined;
  storedAt: number;
}

export interface NamespaceStoreOptions {
  labels: boolean;
  annotations: boolean;
  ttlMs: number;
  maxObjectBytes: number;
  cacheBytes: number;
  getTimeoutMs: number;
  notFoundMs: number;
  /** Keep uid, labels and annotations as they are (record_layout fluentd). */
  keepObject?: boolean;
}

export class NamespaceStore {
  private readonly cache: ByteBoundedCache<NamespaceEntry>;
  /** Namespace names come from tags, which a client chooses: bounded in entries and bytes. */
  private readonly misses = new ByteBoundedCache<Miss>(4 * 1024 * 1024, undefined, 10_000);
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly stopController = new AbortController();

  constructor(
    private readonly api: KubeConnection,
    private readonly options: NamespaceStoreOptions,
    private readonly health: ApiHealth,
    private readonly metrics: KubernetesFilterMetrics,
    private readonly log: Logger,
  ) {
    this.cache = new ByteBoundedCache<NamespaceEntry>(options.cacheBytes, () => metrics.evicted('size'));
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await Promise.allSettled(this.inflight.values());
  }

  lookup(name: string, now = performance.now()): NamespaceEntry | Miss | undefined {
    const entry = this.cache.get(name);
    if (entry !== undefined) {
      if (this.options.ttlMs > 0 && now - entry.storedAt > this.options.ttlMs && !this.inflight.has(name) && this.health.allowRequest(now)) {
        const refresh = this.get(name).finally(() => this.inflight.delete(name));
        this.inflight.set(name, refresh);
      }
      return entry;
    }
    const miss = this.misses.get(name);
    if (miss === undefined) return undefined;
    if (now < miss.until) return miss;
    this.misses.delete(name);
    return undefined;
  }

  /** Asks for a namespace not known yet; undefined (no wait) while the API server is failing. */
  fetch(name: string): Promise<void> | undefined {
    const pending = this.inflight.get(name);
    if (pending !== undefined) return pending;
    if (!this.health.allowRequest()) {
      this.miss(name, { reason: 'api_unavailable', until: this.health.retryAt });
      return undefined;
    }
    const p = this.get(name).finally(() => this.inflight.delete(name));
    this.inflight.set(name, p);
    // Only the first ask of an answering API server is waited for; later ones during an outage are not.
    return this.health.retryAt === 0 ? p : undefined;
  }

  private miss(name: string, miss: Miss): void {
    this.misses.set(name, miss, keyBytes(name));
  }

  private async get(name: string): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(name)}`;
    try {
      const ns = await this.api.get(path, { maxBytes: this.options.maxObjectBytes, timeoutMs: this.options.getTimeoutMs, signal: this.stopController.signal });
      this.metrics.request('get', 'namespaces', 200);
      this.health.ok();
      const metadata = isObject(ns) && isObject(ns.metadata) ? ns.metadata : {};
      const map: Record<string, unknown> = { name };
      if (this.options.labels && metadata.labels !== undefined) map.labels = metadata.labels;
      if (this.options.annotations && metadata.annotations !== undefined) map.annotations = metadata.annotations;
      const object: NamespaceObject | undefined = this.options.keepObject ? { uid: metadata.uid, labels: metadata.labels, annotations: metadata.annotations } : undefined;
      this.cache.set(name, { map: freezeShared(map), object, storedAt: performance.now() }, 128 + JSON.stringify(map).length + (object === undefined ? 0 : JSON.stringify(object).length));
      this.misses.delete(name);
      this.metrics.cache('namespace', this.cache.bytes, this.cache.size);
    } catch (err) {
      if (this.stopController.signal.aborted) return;
      this.metrics.request('get', 'namespaces', err instanceof KubeApiError ? err.status : 0);
      const reason = this.health.fail(err, path);
      if (this.cache.peek(name) !== undefined) return;
      const now = performance.now();
      this.miss(name, { reason, until: reason === 'not_found' || reason === 'too_large' ? now + this.options.notFoundMs : this.health.retryAt });
      this.log.debug({ namespace: name, reason }, 'no namespace metadata');
    }
  }
}
