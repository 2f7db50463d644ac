/**
 * One watch of the cluster's Events: list them (unless resuming from a resourceVersion), then watch
 * from the list's resourceVersion, with bookmarks, resuming each new watch where the last one stopped
 * (src/kube/list-watch.ts); after 410 Gone, list again and send only the event versions not sent yet.
 *
 * Each event is emitted as the record kubernetes-event-exporter prints (exporter-record.ts), at the
 * time it last happened. `onCheckpoint` is told the newest resourceVersion all of whose events (and
 * every earlier one's) have settled in the outputs: where the next watch may resume without losing
 * any. With leader election there is one of these per term of leadership, and `mayEmit` fences it:
 * once the lease is lost, not one more event goes into the pipeline.
 */
import type { Counter } from 'prom-client';
import { NS_PER_MS, nowNs, type LogEvent } from '../../core/event.js';
import type { InputContext } from '../../core/plugin.js';
import type { KubeConnection } from '../../kube/connection.js';
import { ListWatch, isObject, type KubeObject, type WatchChange } from '../../kube/list-watch.js';
import { DeliveredVersion } from './delivered-version.js';
import { eventTimeNs, exporterRecord } from './exporter-record.js';
import type { KubernetesEventsOptions } from './options.js';
import type { SeenEvents } from './seen-events.js';

type Obj = KubeObject;

/** Events to emit, and the uid, resourceVersion pairs (flat) to mark as sent once they are queued. */
interface Batch {
  events: LogEvent[];
  versions: string[];
}

export interface EventsWatchDeps {
  connection: KubeConnection;
  ctx: InputContext;
  options: KubernetesEventsOptions;
  /** Event versions sent by this process (shared by its watches). */
  seen: SeenEvents;
  records: { emitted: Counter.Internal; duplicate: Counter.Internal; tooOld: Counter.Internal };
  onRequest: (verb: 'list' | 'watch', code: number) => void;
  /** Resolves once the pipeline takes events again (backpressure), or at once. */
  whenFlowing: () => Promise<void>;
  /** Whether events may still be emitted (leader election: this replica still holds the lease). */
  mayEmit: () => boolean;
  onCheckpoint: (resourceVersion: string) => void;
  /** The stream is at `resourceVersion` and every event before it is queued in the outputs. */
  onQueued: (resourceVersion: string) => void;
}

/** Emitting was refused: the replica no longer leads. The watch ends; what it read comes again from the checkpoint. */
export class NotLeading extends Error {
  constructor() {
    super('no longer the leader: not emitting');
    this.name = 'NotLeading';
  }
}

export class EventsWatch {
  private readonly listWatch: ListWatch;
  private readonly delivered: DeliveredVersion;
  private readonly tag: string;
  /** The uids of the list under way, to forget what is no longer there once it is complete. */
  private present = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: EventsWatchDeps,
    resumeFrom: string | undefined,
  ) {
    const { options, ctx, connection } = deps;
    this.tag = options.tag ?? ctx.name;
    this.delivered = new DeliveredVersion((rv) => deps.onCheckpoint(rv), () => this.wakeIdle());
    this.listWatch = new ListWatch(
      connection,
      {
        path: options.namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${options.namespace}/events`,
        pageSize: options.requestLimit,
        // The API server bounds objects (etcd's 1.5 MiB): no limit of floki's own, as before.
        maxObjectBytes: 0,
        watchTimeoutMs: options.watchTimeoutMs,
        resourceVersion: resumeFrom,
        onRequest: deps.onRequest,
      },
      {
        listPage: (items, first) => this.onListPage(items, first),
        listed: (rv, count) => this.onListed(rv, count),
        changes: (changes, rv) => this.onChanges(changes, rv),
      },
      ctx.log,
    );
  }

  start(): void {
    this.listWatch.start();
  }

  /** Stops reading; events already emitted go on to the outputs. */
  stop(): Promise<void> {
    return this.listWatch.stop();
  }

  /** Resolves once every batch emitted so far has settled, or after `timeoutMs` (false then). */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.delivered.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve(ok);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.push(wake);
    });
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
    this.deps.seen.keepOnly(this.present);
    this.present = new Set();
    this.deps.onQueued(resourceVersion);
    this.delivered.add(resourceVersion)();
    this.deps.ctx.log.info({ events: count, resource_version: resourceVersion }, 'listed events');
  }

  private async onChanges(changes: WatchChange[], resourceVersion: string | undefined): Promise<void> {
    const batch: Batch = { events: [], versions: [] };
    for (const { type, object } of changes) {
      if (type === 'DELETED') {
        const uid = uidOf(object);
        if (uid !== undefined) this.deps.seen.delete(uid);
      } else this.consider(object, batch);
    }
    await this.emit(batch, resourceVersion);
    if (resourceVersion !== undefined) this.deps.onQueued(resourceVersion);
  }

  /**
   * Adds the event to `batch` unless this version was sent already or it is older than the retention.
   * It counts as sent only once the batch is queued (see emit): a batch the pipeline refused comes again.
   */
  private consider(item: Obj, batch: Batch): void {
    const { seen, records, options } = this.deps;
    const uid = uidOf(item);
    const rv = resourceVersionOf(item);
    if (uid !== undefined && rv !== undefined && seen.has(uid, rv)) {
      records.duplicate.inc();
      return;
    }
    const time = eventTimeNs(item) ?? nowNs();
    if (options.retentionMs > 0 && time < nowNs() - BigInt(options.retentionMs) * NS_PER_MS) {
      records.tooOld.inc();
      if (uid !== undefined && rv !== undefined) seen.add(uid, rv);
      return;
    }
    batch.events.push({ tag: this.tag, time, record: exporterRecord(item) });
    if (uid !== undefined && rv !== undefined) batch.versions.push(uid, rv);
  }

  /**
   * Hands the batch to the pipeline and, once it is queued, marks its versions as sent. `version` is the
   * resourceVersion the stream is at after this batch; the checkpoint moves to it once the batch settled.
   */
  private async emit(batch: Batch, version: string | undefined): Promise<void> {
    const { ctx, seen, records, mayEmit } = this.deps;
    // Not a step of the stream when this replica may no longer emit: the watch ends here.
    if (!mayEmit()) throw new NotLeading();
    const settled = this.delivered.add(version);
    if (batch.events.length === 0) settled();
    else {
      try {
        if (!mayEmit()) throw new NotLeading();
        await ctx.emit(batch.events, () => settled());
      } catch (err) {
        // Not queued: the stream restarts from the version before this batch, so these events come again.
        settled(false);
        throw err;
      }
      records.emitted.inc(batch.events.length);
      for (let i = 0; i < batch.versions.length; i += 2) seen.add(batch.versions[i]!, batch.versions[i + 1]!);
      batch.events = [];
      batch.versions = [];
    }
    // Backpressure: hold the watch (its response stays paused) until the outputs drain.
    await this.deps.whenFlowing();
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
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
