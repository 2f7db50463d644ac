/** The kubernetes filter's metrics, `floki_filter_kubernetes_*`, label `name` per instance. */
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';
import type { MissReason } from './api-health.js';

export type ApiResource = 'pods' | 'namespaces' | 'kubelet_pods';

export class KubernetesFilterMetrics {
  readonly enriched: Counter.Internal;
  readonly excluded: Counter.Internal;
  private readonly without: Counter<string>;
  private readonly lookups: Counter<string>;
  private readonly requests: Counter<string>;
  private readonly cacheBytes: Gauge<string>;
  private readonly cacheEntries: Gauge<string>;
  private readonly evictions: Counter<string>;
  private readonly tooDeepLogs: Counter<string>;

  constructor(
    metrics: Metrics,
    private readonly name: string,
  ) {
    const records = metrics.counter('floki_filter_kubernetes_records_total', "Records the kubernetes filter gave their pod's metadata (enriched) or dropped for a fluentbit.io/exclude annotation (excluded).", ['name', 'result']);
    this.enriched = records.labels(name, 'enriched');
    this.excluded = records.labels(name, 'excluded');
    this.without = metrics.counter(
      'floki_filter_kubernetes_records_without_metadata_total',
      "Records that got only their tag's metadata (or none, tag_mismatch), by reason.",
      ['name', 'reason'],
    );
    this.lookups = metrics.counter('floki_filter_kubernetes_cache_lookups_total', 'Cache lookups (one per batch of a container), by cache and result.', ['name', 'cache', 'result']);
    this.requests = metrics.counter(
      'floki_filter_kubernetes_api_requests_total',
      'Requests the kubernetes filter made of the API server (or the kubelet), by verb, resource and status (0: no answer).',
      ['name', 'verb', 'resource', 'code'],
    );
    this.cacheBytes = metrics.gauge('floki_filter_kubernetes_cache_bytes', 'Bytes of metadata held, by cache (pod, namespace).', ['name', 'cache']);
    this.cacheEntries = metrics.gauge('floki_filter_kubernetes_cache_entries', 'Pods (deleted ones included until evicted) or namespaces held, by cache.', ['name', 'cache']);
    this.tooDeepLogs = metrics.counter('floki_filter_kubernetes_too_deep_logs_total', 'Records whose log merge_log left unmerged: it nests deeper than a record may.', ['name']);
    this.evictions = metrics.counter('floki_filter_kubernetes_cache_evictions_total', 'Entries taken out of the caches, by reason (deleted long ago, size limit).', ['name', 'reason']);
  }

  withoutMetadata(reason: MissReason, n: number): void {
    this.without.inc({ name: this.name, reason }, n);
  }

  lookup(cache: 'pod' | 'namespace', hit: boolean): void {
    this.lookups.inc({ name: this.name, cache, result: hit ? 'hit' : 'miss' });
  }

  request(verb: 'get' | 'list' | 'watch', resource: ApiResource, code: number): void {
    this.requests.inc({ name: this.name, verb, resource, code: String(code) });
  }

  cache(cache: 'pod' | 'namespace', bytes: number, entries: number): void {
    this.cacheBytes.set({ name: this.name, cache }, bytes);
    this.cacheEntries.set({ name: this.name, cache }, entries);
  }

  evicted(reason: 'size' | 'deleted'): void {
    this.evictions.inc({ name: this.name, reason });
  }

  tooDeep(n: number): void {
    this.tooDeepLogs.inc({ name: this.name }, n);
  }
}
