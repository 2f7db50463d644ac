import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Counter, Gauge } from 'prom-client';
import type { Input, InputContext } from '../../core/plugin.js';
import { KubeConnection } from '../../kube/connection.js';
import { LeaderElector, leaderIdentity } from '../../kube/leader-elector.js';
import { LeaseClient, type Lease } from '../../kube/lease.js';
import { EventsWatch } from './events-watch.js';
import type { KubernetesEventsOptions } from './options.js';
import { ResourceVersionDb } from './resource-version-db.js';
import { SeenEvents } from './seen-events.js';

/** The Lease annotations that carry the checkpoint from one leader to the next. */
export const LEASE_RESOURCE_VERSION = 'floki.io/events-resource-version';
export const LEASE_EVENTS_NAMESPACE = 'floki.io/events-namespace';

/**
 * Fluent Bit's kubernetes_events input: lists the Events of the cluster (or of kube_namespace), then
 * watches them (events-watch.ts), resuming from the last resourceVersion whose events were delivered.
 *
 * Alone, that resourceVersion is kept in `db`. With `leader_election on`, several replicas run and
 * only the one holding the Lease watches (src/kube/leader-elector.ts); the resourceVersion is kept on
 * the Lease as an annotation, written with each renewal, so a new leader resumes where the last one's
 * events were delivered: after a handover nothing is sent twice, after a crash or a partition of the
 * leader what it sent since its last renewal is sent again (at least once, never lost). On stop, the
 * leader stops watching, waits (within half the grace period) for what it emitted to be delivered,
 * and releases the Lease with that checkpoint, so the next replica takes over at its next try.
 */
export class KubernetesEventsInput implements Input {
  private readonly connection: KubeConnection;
  private readonly db: ResourceVersionDb | undefined;
  private seen = new SeenEvents();
  private readonly records: { emitted: Counter.Internal; duplicate: Counter.Internal; tooOld: Counter.Internal };
  private readonly requests: Counter<string>;
  private readonly leaderGauge: Gauge.Internal<string> | undefined;
  private elector: LeaderElector | undefined;
  /** The watch under way: the only one, or this term of leadership's. */
  private watch: EventsWatch | undefined;
  /** Watches being stopped (a term that ended). */
  private readonly ending = new Set<Promise<void>>();
  /** The newest resourceVersion whose events (and every earlier one's) were delivered. */
  private checkpoint: string | undefined;
  /** The resourceVersion the stream is at once what came before it is queued: where a successor after a reload resumes. */
  private queuedVersion: string | undefined;
  private stopped = false;
  private resumeWaiters: (() => void)[] = [];
  private pausedFlag = false;

  constructor(
    private readonly options: KubernetesEventsOptions,
    private readonly ctx: InputContext,
  ) {
    this.connection = new KubeConnection(
      { url: options.url, caFile: options.caFile, tokenFile: options.tokenFile, tokenTtlMs: options.tokenTtlMs, tlsVerify: options.tlsVerify },
      ctx.log,
    );
    if (options.db !== undefined) {
      this.db = new ResourceVersionDb(options.db, { kubeUrl: options.url.href, namespace: options.namespace ?? '' }, (message) => ctx.log.warn(message));
    }
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
    if (options.leaderElection !== undefined) {
      this.leaderGauge = ctx.metrics.gauge('floki_input_kubernetes_events_leader', 'Whether this replica holds the kubernetes_events Lease and watches (1) or stands by (0).', ['name']).labels(ctx.name);
      this.leaderGauge.set(0);
    }
  }

  async start(): Promise<void> {
    // A reload: the input this one replaces watched the same events; go on where it stopped (with
    // leader election, from the Lease: another replica may have led in between).
    const handed = handedState(this.ctx.handedOver, this.options);
    if (handed?.seen !== undefined) this.seen = handed.seen;
    const election = this.options.leaderElection;
    if (election === undefined) {
      const resumeFrom = handed?.resourceVersion ?? this.db?.load();
      this.ctx.log.info({ url: this.options.url.href, namespace: this.options.namespace ?? '(all)', resume_from: resumeFrom ?? null }, 'kubernetes_events input starting');
      this.startWatch(resumeFrom, () => true, (rv) => this.db?.save(rv));
      return;
    }
    const identity = leaderIdentity();
    const namespace = election.leaseNamespace ?? this.podNamespace();
    const timeoutMs = Math.min(election.renewDeadlineMs, Math.max(1000, election.retryPeriodMs * 2));
    this.ctx.log.info(
      { url: this.options.url.href, namespace: this.options.namespace ?? '(all)', lease: `${namespace}/${election.leaseName}`, identity },
      'kubernetes_events input starting: watching while this replica holds the lease',
    );
    const elector = new LeaderElector({
      leases: new LeaseClient(this.connection, namespace, election.leaseName, timeoutMs),
      identity,
      leaseDurationMs: election.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs,
      log: this.ctx.log,
      annotations: () => this.checkpointAnnotations(),
      onStartedLeading: (lease) => this.lead(lease, elector),
      onStoppedLeading: () => this.standBy(),
      onObservedLeader: (holder) => this.ctx.log.info({ leader: holder ?? null }, holder ? `leader election: ${holder} leads` : 'leader election: the lease is free'),
    });
    this.elector = elector;
    elector.start();
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
    const watch = this.watch;
    await watch?.stop();
    if (this.elector !== undefined) {
      // The next leader resumes from the Lease's checkpoint: let what was emitted be delivered first, so
      // it is not sent twice, for at most half the grace period (the engine stops the outputs after it).
      if (watch !== undefined && this.elector.isLeader()) {
        const delivered = await watch.settled(Math.max(0, this.ctx.service.graceMs / 2 - 1000));
        if (!delivered) this.ctx.log.warn('kubernetes_events: stopping before every event sent was delivered: the next leader sends those again');
      }
      await this.elector.release();
    }
    await Promise.all(this.ending);
    await this.db?.close();
  }

  /**
   * At a reload, after stop(): where the watch stood (every event before it is queued in the
   * outputs) and which events were sent, so that the successor neither repeats nor skips one. With
   * leader election the successor resumes from the Lease instead.
   */
  handOver(): KubernetesEventsHandOver {
    const resourceVersion = this.options.leaderElection === undefined ? this.queuedVersion : undefined;
    return { url: this.options.url.href, namespace: this.options.namespace, resourceVersion, seen: this.seen };
  }

  /** This replica took the Lease: watch from its checkpoint (the last leader's), or list when it has none. */
  private lead(lease: Lease, elector: LeaderElector): void {
    if (this.stopped) return;
    const annotations = lease.metadata.annotations ?? {};
    const sameScope = (annotations[LEASE_EVENTS_NAMESPACE] ?? '') === (this.options.namespace ?? '');
    const resumeFrom = sameScope ? annotations[LEASE_RESOURCE_VERSION] || undefined : undefined;
    this.checkpoint = resumeFrom;
    this.leaderGauge?.set(1);
    this.ctx.log.info({ resume_from: resumeFrom ?? null }, resumeFrom ? 'leading: watching from the resourceVersion on the lease' : 'leading: listing events');
    this.startWatch(resumeFrom, () => elector.isLeader(), (rv) => (this.checkpoint = rv));
  }

  /** No longer the leader: the watch stops at once (its events are fenced off already). */
  private standBy(): void {
    this.leaderGauge?.set(0);
    // An emit held by backpressure gives way: it may not emit any more.
    this.wake();
    const watch = this.watch;
    this.watch = undefined;
    if (watch === undefined || this.stopped) return;
    const ended = watch.stop().finally(() => this.ending.delete(ended));
    this.ending.add(ended);
  }

  private startWatch(resumeFrom: string | undefined, mayEmit: () => boolean, onCheckpoint: (rv: string) => void): void {
    const watch: EventsWatch = new EventsWatch(
      {
        connection: this.connection,
        ctx: this.ctx,
        options: this.options,
        seen: this.seen,
        records: this.records,
        onRequest: (verb, code) => this.requests.inc({ name: this.ctx.name, verb, code: String(code) }),
        whenFlowing: () => this.whenFlowing(mayEmit),
        mayEmit,
        // A watch that ended (a lost term) no longer moves the checkpoint: the next term has its own.
        onCheckpoint: (rv) => {
          if (this.watch === watch || this.options.leaderElection === undefined) onCheckpoint(rv);
        },
        onQueued: (rv) => {
          if (this.watch === watch) this.queuedVersion = rv;
        },
      },
      resumeFrom,
    );
    this.watch = watch;
    watch.start();
  }

  private checkpointAnnotations(): Record<string, string> {
    if (this.checkpoint === undefined) return {};
    return { [LEASE_RESOURCE_VERSION]: this.checkpoint, [LEASE_EVENTS_NAMESPACE]: this.options.namespace ?? '' };
  }

  /** Backpressure: hold the watch (its response stays paused) until the outputs drain. */
  private async whenFlowing(mayEmit: () => boolean): Promise<void> {
    while ((this.pausedFlag || this.ctx.paused) && !this.stopped && mayEmit()) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
  }

  private wake(): void {
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
  }

  /** The pod's namespace: the service account's `namespace` file beside the token, else `default`. */
  private podNamespace(): string {
    try {
      const ns = readFileSync(join(dirname(this.options.tokenFile), 'namespace'), 'utf8').trim();
      if (ns.length > 0) return ns;
    } catch {
      // Outside a pod (kubectl proxy, tests): the default namespace.
    }
    return 'default';
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
