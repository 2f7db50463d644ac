import type { Counter } from 'prom-client';
import { NS_PER_MS, nowNs, type LogEvent } from '../../core/event.js';
import type { Input, InputContext } from '../../core/plugin.js';
import { KubeConnection } from '../../kube/connection.js';
import { ListWatch, isObject, type KubeObject, type WatchChange } from '../../kube/list-watch.js';
import { eventTimeNs, exporterRecord } from './exporter-record.js';
import type { KubernetesEventsOptions } from './options.js';
import { DeliveredVersion } from './delivered-version.js';
import { ResourceVersionDb } from './resource-version-db.js';
import { SeenEvents } from './seen-events.js';

type Obj = KubeObject;

/** Events to emit, and the uid, resourceVersion pairs (flat) to mark as sent once they are queued. */
interface Batch {
  events: LogEvent[];
  versions: string[];
}

/**
 * Fluent Bit's kubernetes_events input: lists the Events of the cluster (or of kube_namespace), then
 * watches them from the list's resourceVersion, with bookmarks, resuming each new watch where the last
 * one stopped (src/kube/list-watch.ts). When the API server answers 410 Gone (the resourceVersion was
 * compacted away) it lists again and sends only the events whose uid and resourceVersion it has not
 * sent yet.
 *
 * Each event is emitted as the record kubernetes-event-exporter prints (see exporter-record.ts), at the
 * time it last happened, and the resourceVersion moves (in memory and in `db`) only past events the
 * pipeline has queued. Added and modified events are sent; deletions (expiry) are not events.
 */
export class KubernetesEventsInput implements Input {
  private readonly connection: KubeConnection;
  private readonly db: ResourceVersionDb | undefined;
  /** What `db` may record: versions whose events settled in the outputs, in stream order. */
  private readonly delivered: DeliveredVersion;
  private seen = new SeenEvents();
  private readonly tag: string;
  private readonly eventsPath: string;
  private readonly records: { emitted: Counter.Internal; duplicate: Counter.Internal; tooOld: Counter.Internal };
  private readonly requests: Counter<string>;
  private listWatch: ListWatch | undefined;
  /** The uids of the list under way, to forget what is no longer there once it is complete. */
  private present = new Set<string>();
  private stopped = false;
  private resumeWaiters: (() => void)[] = [];
  private pausedFlag = false;
  /** The resourceVersion the stream is at once what came before it is queued: where a successor resumes. */
  private queuedVersion: string | undefined;

  constructor(
    private readonly options: KubernetesEventsOptions,
    private readonly ctx: InputContext,
  ) {
    this.tag = options.tag ?? ctx.name;
    this.eventsPath = options.namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${options.namespace}/events`;
    this.connection = new KubeConnection(
      { url: options.url, caFile: options.caFile, tokenFile: options.tokenFile, tokenTtlMs: options.tokenTtlMs, tlsVerify: options.tlsVerify },
      ctx.log,
    );
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
    // A reload: the input this one replaces watched the same events; go on where it stopped.
    const handed = handedState(this.ctx.handedOver, this.options);
    if (handed?.seen !== undefined) this.seen = handed.seen;
    const resumeFrom = handed?.resourceVersion ?? this.db?.load();
    this.ctx.log.info(
      { url: this.options.url.href, namespace: this.options.namespace ?? '(all)', resume_from: resumeFrom ?? null },
      'kubernetes_events input starting',
    );
    this.listWatch = new ListWatch(
      this.connection,
      {
        path: this.eventsPath,
        pageSize: this.options.requestLimit,
        // The API server bounds objects (etcd's 1.5 MiB): no limit of floki's own, as before.
        maxObjectBytes: 0,
        watchTimeoutMs: this.options.watchTimeoutMs,
        resourceVersion: resumeFrom,
        onRequest: (verb, code) => this.requests.inc({ name: this.ctx.name, verb, code: String(code) }),
      },
      {
        listPage: (items, first) => this.onListPage(items, first),
        listed: (rv, count) => this.onListed(rv, count),
        changes: (changes, rv) => this.onChanges(changes, rv),
      },
      this.ctx.log,
    );
    this.listWatch.start();
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
    // An emit waiting for the outputs to drain gives way first, so the list/watch loop can end.
    this.wake();
    await this.listWatch?.stop();
    await this.db?.close();
  }

  /**
   * At a reload, after stop(): where the watch stood (every event before it is queued in the
   * outputs) and which events were sent, so that the successor neither repeats nor skips one.
   */
  handOver(): KubernetesEventsHandOver {
    return { url: this.options.url.href, namespace: this.options.namespace, resourceVersion: this.queuedVersion, seen: this.seen };
  }

  /** A page of a list: emitted as it comes (kube_request_limit pages bound what is held). */
  private async onListPage(items: Obj[], first: boolean): Promise<void> {
    if (first) this.present = new Set();
    const batch: Batch = { events: [], versions: [] };
    for (const item of items) {
      const uid = uidOf(item);
      if (uid !== undefined) this.present.add(uid);
      this.consider(item, batch);
    }
    await this.emit(batch, undefined);
  }

  /** The list is complete: the watch goes on from its version. */
  private onListed(resourceVersion: string, count: number): void {
    this.seen.keepOnly(this.present);
    this.present = new Set();
    this.queuedVersion = resourceVersion;
    this.delivered.add(resourceVersion)();
    this.ctx.log.info({ events: count, resource_version: resourceVersion }, 'listed events');
  }

  private async onChanges(changes: WatchChange[], resourceVersion: string | undefined): Promise<void> {
    const batch: Batch = { events: [], versions: [] };
    for (const { type, object } of changes) {
      if (type === 'DELETED') {
        const uid = uidOf(object);
        if (uid !== undefined) this.seen.delete(uid);
      } else this.consider(object, batch);
    }
    await this.emit(batch, resourceVersion);
    if (resourceVersion !== undefined) this.queuedVersion = resourceVersion;
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

  private wake(): void {
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
  }
}

/** What a kubernetes_events input leaves at a reload. */
export interface KubernetesEventsHandOver {
  url: string;
  namespace: string | undefined;
  resourceVersion: string | undefined;
  seen: SeenEvents;
}

/** The handed-over state, when it comes from an input that watched the same API server and namespace. */
function handedState(handed: unknown, options: KubernetesEventsOptions): KubernetesEventsHandOver | undefined {
  if (typeof handed !== 'object' || handed === null) return undefined;
  const h = handed as Partial<KubernetesEventsHandOver>;
  if (h.url !== options.url.href || h.namespace !== options.namespace || !(h.seen instanceof SeenEvents)) return undefined;
  return h as KubernetesEventsHandOver;
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

