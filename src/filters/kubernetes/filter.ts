/**
 * Fluent Bit's kubernetes filter: each container log record gets its pod's metadata (`kubernetes`),
 * optionally its namespace's (`kubernetes_namespace`), its `log` merged (merge_log), and the pod's
 * fluentbit.io/ annotations honoured, with Fluent Bit's keys, order and value types.
 *
 * A batch whose pods are all known is handled at once, synchronously; one with a pod not known yet
 * waits (bounded) for it. Whatever the API server does, records go on: with the metadata known so far,
 * else with what their tag says.
 */
import { ByteBoundedCache, keyBytes } from '../../kube/bounded-cache.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, FilterContext } from '../../core/plugin.js';
import { KubeConnection } from '../../kube/connection.js';
import { NO_PROPS, containerProps, type ContainerProps } from './annotation-props.js';
import { ApiHealth, type MissReason } from './api-health.js';
import { KubernetesFilterMetrics } from './metrics.js';
import { NamespaceStore, type NamespaceEntry } from './namespace-store.js';
import type { KubernetesFilterOptions } from './options.js';
import { kubernetesMap, tagOnlyMap } from './pod-metadata.js';
import { PodStore, isMiss, type Miss, type PodEntry } from './pod-store.js';
import { mergeRecord, type MergeOptions, type MergeResult } from './record-merge.js';
import { TagReader, type TagMetadata } from './tag-metadata.js';
import { FluentdTagReader, fluentdMetadata, mergeFluentd, type FluentdTag } from './fluentd-layout.js';
import { freezeShared } from '../../labels/shared-map.js';

/** Timings that are not options; tests shorten them. */
export interface KubernetesFilterTimings {
  getTimeoutMs: number;
  deletedGraceMs: number;
  notFoundMs: number;
  watchTimeoutMs: number;
  sweepEveryMs: number;
}

const DEFAULT_TIMINGS: KubernetesFilterTimings = { getTimeoutMs: 5000, deletedGraceMs: 600_000, notFoundMs: 30_000, watchTimeoutMs: 300_000, sweepEveryMs: 30_000 };
const MAX_TAGS = 10_000;
/** Tags are what clients send (a forward tag may be megabytes long): the per-tag state is bounded in bytes too. */
const MAX_TAG_BYTES = 16 * 1024 * 1024;
/** What a tag's state holds beside its name: the parts read from it and the maps made for its records. */
const TAG_STATE_BYTES = 1024;

/** What the filter knows of one tag, kept between batches. */
interface TagState {
  tag: TagMetadata | undefined;
  pod: PodEntry | Miss | undefined;
  namespace: NamespaceEntry | Miss | undefined;
  /** The pod entry `kube` and `props` were made from: a new entry (the pod changed) makes them again. */
  madeFrom: PodEntry | undefined;
  kube: Record<string, unknown> | undefined;
  props: ContainerProps;
  tagOnly: Record<string, unknown> | undefined;
  namespaceOnly: Record<string, unknown> | undefined;
  /** record_layout fluentd: the `{docker, kubernetes}` merged into each record, and the namespace entry it was made from. */
  fluentd: Record<string, unknown> | undefined;
  fluentdNamespace: NamespaceEntry | Miss | undefined;
}

export class KubernetesFilter implements Filter {
  private readonly tagReader: { read(tag: string): TagMetadata | undefined };
  private readonly states = new ByteBoundedCache<TagState>(MAX_TAG_BYTES, undefined, MAX_TAGS);
  private readonly pods: PodStore | undefined;
  private readonly namespaces: NamespaceStore | undefined;
  private readonly metrics: KubernetesFilterMetrics;
  private readonly health: ApiHealth;
  private readonly mergeOptions: MergeOptions;
  private readonly result: MergeResult = { record: {}, time: undefined };

  constructor(
    private readonly options: KubernetesFilterOptions,
    private readonly ctx: FilterContext,
    timings: Partial<KubernetesFilterTimings> = {},
  ) {
    const t = { ...DEFAULT_TIMINGS, ...timings };
    this.metrics = new KubernetesFilterMetrics(ctx.metrics, ctx.name);
    this.health = new ApiHealth(ctx.log);
    const parser = (name: string | undefined) => (name === undefined ? undefined : ctx.parsers.parser(name));
    this.tagReader = options.fluentd !== undefined ? new FluentdTagReader(options.fluentd.tagRegexp) : new TagReader(options.tagPrefix, parser(options.regexParser));
    this.mergeOptions = {
      mergeLog: options.mergeLog,
      mergeLogKey: options.mergeLogKey,
      mergeLogTrim: options.mergeLogTrim,
      keepLog: options.keepLog,
      mergeParser: parser(options.mergeParser),
    };
    if (options.useTagForMeta) {
      ctx.log.info('use_tag_for_meta: metadata from the tag only, no requests');
      return;
    }
    const connection = (url: URL) =>
      new KubeConnection({ url, caFile: options.caFile, tokenFile: options.tokenFile, tokenTtlMs: options.tokenTtlMs, tlsVerify: options.tlsVerify }, ctx.log);
    const api = connection(options.url);
    if (!options.namespaceMetadataOnly) {
      this.pods = new PodStore(
        api,
        {
          nodeName: options.nodeName,
          kubelet: options.useKubelet ? connection(options.kubeletUrl) : undefined,
          ttlMs: options.podTtlMs,
          waitMs: options.waitMs,
          maxObjectBytes: options.maxObjectBytes,
          cacheBytes: Math.floor((options.cacheBytes * 7) / 8),
          getTimeoutMs: t.getTimeoutMs,
          deletedGraceMs: t.deletedGraceMs,
          notFoundMs: t.notFoundMs,
          watchTimeoutMs: t.watchTimeoutMs,
          sweepEveryMs: t.sweepEveryMs,
        },
        // The kubelet fails on its own; the API server's health is the namespaces'.
        options.useKubelet ? new ApiHealth(ctx.log) : this.health,
        this.metrics,
        ctx.log,
      );
      this.pods.start();
    }
    const fluentdNamespaces = options.fluentd !== undefined && !options.fluentd.skipNamespaceMetadata;
    if (fluentdNamespaces || (options.fluentd === undefined && (options.namespaceLabels || options.namespaceAnnotations))) {
      this.namespaces = new NamespaceStore(
        api,
        {
          labels: options.namespaceLabels,
          annotations: options.namespaceAnnotations,
          ttlMs: options.namespaceTtlMs,
          maxObjectBytes: options.maxObjectBytes,
          cacheBytes: Math.floor(options.cacheBytes / 8),
          getTimeoutMs: t.getTimeoutMs,
          notFoundMs: t.notFoundMs,
          keepObject: fluentdNamespaces,
        },
        this.health,
        this.metrics,
        ctx.log,
      );
    }
  }

  process(events: LogEvent[]): LogEvent[] | Promise<LogEvent[]> {
    // Most batches hold one tag, whose pod is known: no promise, no wait.
    let waits: Promise<void>[] | undefined;
    let previous: string | undefined;
    for (let i = 0; i < events.length; i++) {
      const tag = events[i]!.tag;
      if (tag === previous) continue;
      previous = tag;
      const wait = this.prepare(this.state(tag));
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    if (waits === undefined) return this.apply(events);
    return Promise.all(waits).then(() => {
      // Look again: the waits have an answer now (or gave up), and nothing waits a second time.
      let last: string | undefined;
      for (let i = 0; i < events.length; i++) {
        const tag = events[i]!.tag;
        if (tag === last) continue;
        last = tag;
        this.lookup(this.state(tag));
      }
      return this.apply(events);
    });
  }

  async stop(): Promise<void> {
    await Promise.all([this.pods?.stop(), this.namespaces?.stop()]);
  }

  private state(tag: string): TagState {
    let s = this.states.get(tag);
    if (s === undefined) {
      s = {
        tag: this.tagReader.read(tag),
        pod: undefined,
        namespace: undefined,
        madeFrom: undefined,
        kube: undefined,
        props: NO_PROPS,
        tagOnly: undefined,
        namespaceOnly: undefined,
        fluentd: undefined,
        fluentdNamespace: undefined,
      };
      if (s.tag === undefined) this.health.once('tag_mismatch', { tag, kube_tag_prefix: this.options.tagPrefix }, 'a tag is not a container log file name after kube_tag_prefix: its records are left as they are (logged once)');
      this.states.set(tag, s, keyBytes(tag, TAG_STATE_BYTES));
    }
    return s;
  }

  /** Looks the tag's pod and namespace up; a promise when one of them must be asked for first. */
  private prepare(s: TagState): Promise<void> | undefined {
    if (s.tag === undefined) return undefined;
    this.lookup(s);
    let podWait: Promise<void> | undefined;
    let namespaceWait: Promise<void> | undefined;
    if (this.pods !== undefined) {
      this.metrics.lookup('pod', s.pod !== undefined && !isMiss(s.pod));
      if (s.pod === undefined) podWait = this.pods.fetch(s.tag.podKey);
    }
    if (this.namespaces !== undefined) {
      this.metrics.lookup('namespace', s.namespace !== undefined && !isMiss(s.namespace));
      if (s.namespace === undefined) namespaceWait = this.namespaces.fetch(s.tag.namespace);
    }
    if (podWait === undefined) return namespaceWait;
    if (namespaceWait === undefined) return podWait;
    return Promise.all([podWait, namespaceWait]).then(() => undefined);
  }

  private lookup(s: TagState): void {
    if (s.tag === undefined) return;
    const now = performance.now();
    if (this.pods !== undefined) s.pod = this.pods.lookup(s.tag.podKey, now);
    if (this.namespaces !== undefined) s.namespace = this.namespaces.lookup(s.tag.namespace, now);
  }

  private apply(events: LogEvent[]): LogEvent[] {
    const options = this.options;
    let kept: LogEvent[] | undefined;
    let enriched = 0;
    let excluded = 0;
    let missing = 0;
    let missReason: MissReason = 'api_unavailable';
    let previous: string | undefined;
    let s: TagState | undefined;
    let kube: Record<string, unknown> | undefined;
    let namespace: Record<string, unknown> | undefined;
    let full = false;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.tag !== previous) {
        previous = event.tag;
        s = this.state(event.tag);
        if (s.tag !== undefined && options.fluentd !== undefined) {
          kube = this.fluentdMap(s);
          full = options.useTagForMeta || this.pods === undefined || (s.pod !== undefined && !isMiss(s.pod));
          if (!full) missReason = isMiss(s.pod) ? s.pod.reason : 'api_unavailable';
        } else if (s.tag !== undefined) {
          kube = this.kubeMap(s);
          full = options.useTagForMeta || this.pods === undefined || (s.pod !== undefined && !isMiss(s.pod));
          if (!full) missReason = isMiss(s.pod) ? s.pod.reason : 'api_unavailable';
          namespace = this.namespaces === undefined ? undefined : this.namespaceMap(s);
        }
      }
      if (s!.tag === undefined) {
        this.metrics.withoutMetadata('tag_mismatch', 1);
        kept?.push(event);
        continue;
      }
      const record = event.record;
      if (options.fluentd !== undefined) {
        event.record = mergeFluentd(record, kube!);
        if (full) enriched++;
        else missing++;
        kept?.push(event);
        continue;
      }
      const props = s!.props;
      const stream = record.stream;
      let exclude: boolean;
      let parser;
      if (stream === 'stdout') {
        exclude = props.stdoutExclude;
        parser = props.stdoutParser;
      } else if (stream === 'stderr') {
        exclude = props.stderrExclude;
        parser = props.stderrParser;
      } else {
        // As Fluent Bit: a record of neither stream is dropped only when both are; no parser applies to it.
        exclude = props.stdoutExclude && props.stderrExclude;
        parser = undefined;
      }
      if (exclude) {
        excluded++;
        kept ??= events.slice(0, i);
        continue;
      }
      mergeRecord(record, kube, namespace, parser, this.mergeOptions, this.result);
      event.record = this.result.record;
      const time = this.result.time;
      if (time !== undefined && time !== 0n) event.time = time;
      if (full) enriched++;
      else missing++;
      kept?.push(event);
    }
    const deep = this.result.tooDeep;
    if (deep !== undefined && deep > 0) {
      this.result.tooDeep = 0;
      this.metrics.tooDeep(deep);
      this.health.once('too_deep_log', {}, 'merge_log left a log unmerged: it nests deeper than a record may (64 levels); counted in floki_filter_kubernetes_too_deep_logs_total (logged once)');
    }
    if (enriched > 0) this.metrics.enriched.inc(enriched);
    if (excluded > 0) this.metrics.excluded.inc(excluded);
    if (missing > 0) this.metrics.withoutMetadata(missReason, missing);
    return kept ?? events;
  }

  /**
   * The tag's `kubernetes` map, made again only when its pod changed: shared by its records, so frozen
   * (labels/shared-map.ts: the Loki output prints it once, not per record).
   */
  private kubeMap(s: TagState): Record<string, unknown> | undefined {
    const tag = s.tag!;
    if (this.options.useTagForMeta) return (s.tagOnly ??= freezeShared(tagOnlyMap(tag)));
    if (this.pods === undefined) return undefined;
    const pod = s.pod;
    if (pod === undefined || isMiss(pod)) {
      s.props = NO_PROPS;
      s.madeFrom = undefined;
      return (s.tagOnly ??= freezeShared(tagOnlyMap(tag)));
    }
    if (s.madeFrom !== pod) {
      s.madeFrom = pod;
      s.kube = freezeShared(kubernetesMap(tag, pod.meta, this.options));
      s.props = containerProps(pod.meta.annotations, tag.containerName, {
        allowParser: this.options.allowParserAnnotation,
        allowExclude: this.options.allowExcludeAnnotation,
        parser: (name) => this.ctx.parsers.parser(name),
        warn: (message) => this.health.once(`${tag.podKey}:${message}`, { pod: tag.podKey, container: tag.containerName }, message),
      });
    }
    return s.kube;
  }

  /** record_layout fluentd: the tag's `{docker, kubernetes}`, made again when its pod or namespace entry changed. */
  private fluentdMap(s: TagState): Record<string, unknown> {
    const tag = s.tag as FluentdTag;
    const pod = this.options.useTagForMeta || s.pod === undefined || isMiss(s.pod) ? undefined : s.pod;
    if (s.fluentd === undefined || s.madeFrom !== pod || s.fluentdNamespace !== s.namespace) {
      const ns = s.namespace === undefined || isMiss(s.namespace) ? undefined : s.namespace.object;
      s.madeFrom = pod;
      s.fluentdNamespace = s.namespace;
      if (this.options.useTagForMeta) {
        // No API server: the plugin without kubernetes_url (the tag's names and id only).
        s.fluentd = freezeShared(fluentdMetadata(tag, undefined, undefined, { ...this.options.fluentd!, skipNamespaceMetadata: true }));
      } else s.fluentd = freezeShared(fluentdMetadata(tag, pod?.meta, ns, this.options.fluentd!));
    }
    return s.fluentd;
  }

  private namespaceMap(s: TagState): Record<string, unknown> {
    const ns = s.namespace;
    if (ns !== undefined && !isMiss(ns)) return ns.map;
    return (s.namespaceOnly ??= freezeShared({ name: s.tag!.namespace }));
  }
}
