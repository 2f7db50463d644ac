/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection package does it,
 * so that of several replicas exactly one does a job (the kubernetes_events input's watch):
 *
 * - A candidate reads the Lease every retry period (with up to 20% jitter). It takes it when there is
 *   none (create), when it is released (no holder), or when its holder has not renewed it for the
 *   Lease's duration, counted on the candidate's own clock from when it last saw the Lease change
 *   (no clocks are compared across machines). Every write carries the resourceVersion it read, so of
 *   two candidates writing at once the API server takes one (the other gets 409 Conflict).
 * - The leader renews every retry period. It is the leader only while its last successful renewal
 *   was sent less than renew_deadline ago: past that (an API server it cannot reach, a partition) it
 *   stops at once, before any candidate may take over (renew_deadline < lease duration, and a
 *   candidate counts the duration from after that renewal was applied). `isLeader()` tells the job,
 *   synchronously, whether it may still act.
 * - `release()` hands the Lease over at once: no holder, and a duration of 1 s, so a candidate takes it
 *   at its next read instead of waiting out the duration.
 *
 * The leader's annotations (`annotations()`) go with every renewal and with the release: the job's
 * checkpoint travels with the Lease to the next leader.
 */
import type { Logger } from 'pino';
import { hostname } from 'node:os';
import { microTime, type Lease, type LeaseClient, type LeaseSpec } from './lease.js';

export interface LeaderElectorOptions {
  leases: LeaseClient;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  /** Annotations to write with each renewal and the release (the leader's checkpoint). */
  annotations(): Record<string, string>;
  /** Became the leader; `lease` as taken (its annotations are the last holder's checkpoint). */
  onStartedLeading(lease: Lease): void;
  /** No longer the leader (lost, not renewed within renew_deadline, released, stopped). */
  onStoppedLeading(reason: string): void;
  /** Another replica was seen holding the Lease (undefined: none). */
  onObservedLeader?(identity: string | undefined): void;
  /** [0, 1), for the jitter. */
  random?: () => number;
}

/** client-go's defaults. */
export const LEADER_ELECTION_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

/** The identity a replica competes under: POD_NAME, else HOSTNAME, else the host name and process id. */
export function leaderIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const pod = env.POD_NAME?.trim();
  if (pod) return pod;
  const host = env.HOSTNAME?.trim();
  if (host) return host;
  return `${hostname()}_${process.pid}`;
}

const now = (): number => performance.now();

export class LeaderElector {
  private lease: Lease | undefined;
  private observedVersion: string | undefined;
  /** When the Lease was last seen to change (this process's clock). */
  private observedAt = 0;
  private observedHolder: string | undefined;
  private leading = false;
  /** When the last successful acquire or renewal was sent. */
  private renewedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  private readonly random: () => number;

  constructor(private readonly options: LeaderElectorOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The Lease stores whole seconds. */
  private get leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000));
  }

  get identity(): string {
    return this.options.identity;
  }

  /** Whether this replica holds the Lease now: may the job still act. */
  isLeader(): boolean {
    return this.leading && now() < this.renewedAt + this.options.renewDeadlineMs;
  }

  start(): void {
    if (this.timer === undefined && this.running === undefined) this.schedule(0);
  }

  /**
   * Stops competing; the leader writes its last annotations and hands the Lease over (no holder). Resolves
   * once that write is done or failed (then the Lease expires as after a crash).
   */
  async release(): Promise<void> {
    this.halt();
    await this.running;
    if (!this.isLeader()) {
      this.stopLeading('stopped');
      return;
    }
    const { leases, log } = this.options;
    for (let attempt = 0; attempt < 2 && this.lease !== undefined; attempt++) {
      const at = Date.now();
      const spec: LeaseSpec = { ...this.lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: microTime(at), renewTime: microTime(at) };
      try {
        const released = await leases.update(this.withAnnotations(this.lease, spec));
        if (released !== undefined) {
          log.info({ lease: `${leases.namespace}/${leases.name}` }, 'leader election: released the lease');
          break;
        }
        // A renewal in flight when we stopped may have changed it: read it again, release it if still ours.
        const current = await leases.get();
        if (current === undefined || current.spec.holderIdentity !== this.options.identity) break;
        this.lease = current;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'leader election: could not release the lease; it expires after its duration');
        break;
      }
    }
    this.stopLeading('released');
  }

  /** Stops competing without a last write (a candidate, or a leader that must not write any more). */
  async stop(): Promise<void> {
    this.halt();
    await this.running;
    this.stopLeading('stopped');
  }

  private halt(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        const period = this.options.retryPeriodMs;
        this.schedule(this.leading ? period : period * (1 + 0.2 * this.random()));
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    try {
      if (this.leading) await this.renew();
      else await this.tryAcquire();
      if (this.failing) this.options.log.info('leader election: the API server answers again');
      this.failing = false;
    } catch (err) {
      // One warning per outage; the deadline timer ends a leadership that cannot be renewed.
      if (!this.failing) this.options.log.warn({ err: (err as Error).message }, 'leader election: a request to the API server failed; retrying every retry period');
      this.failing = true;
    }
  }

  private async tryAcquire(): Promise<void> {
    const { leases, identity, log } = this.options;
    const current = await leases.get();
    if (this.stopped) return;
    if (current === undefined) {
      const at = Date.now();
      const sentAt = now();
      const created = await leases.create(this.spec(at, at, 0), {});
      if (created !== undefined && !this.stopped) this.startLeading(created, sentAt, 'created the lease');
      return;
    }
    this.observe(current);
    const holder = current.spec.holderIdentity ?? '';
    const durationMs = (current.spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000;
    if (holder !== '' && holder !== identity && now() < this.observedAt + durationMs) return;
    const at = Date.now();
    const transitions = current.spec.leaseTransitions ?? 0;
    const spec = holder === identity ? { ...this.spec(at, at, transitions), acquireTime: current.spec.acquireTime ?? microTime(at) } : this.spec(at, at, transitions + 1);
    const sentAt = now();
    const taken = await leases.update({ ...current, spec });
    if (taken === undefined || this.stopped) return;
    if (holder !== '' && holder !== identity) log.info({ previous: holder }, `leader election: ${holder} did not renew the lease within its duration: taking it over`);
    this.startLeading(taken, sentAt, holder === '' ? 'took the released lease' : 'took the lease');
  }

  private async renew(): Promise<void> {
    const { leases, identity } = this.options;
    const lease = this.lease!;
    const sentAt = now();
    const renewed = await leases.update(this.withAnnotations(lease, { ...lease.spec, holderIdentity: identity, leaseDurationSeconds: this.leaseSeconds, renewTime: microTime(Date.now()) }));
    if (!this.leading) return;
    if (renewed !== undefined) {
      this.lease = renewed;
      this.observe(renewed);
      this.renewedAt = sentAt;
      this.armDeadline();
      return;
    }
    // 409: someone wrote the Lease since we read it. Ours still (an annotation added by hand)? Renew next time.
    const current = await leases.get();
    if (!this.leading) return;
    if (current !== undefined && current.spec.holderIdentity === identity) {
      this.lease = current;
      return;
    }
    if (current !== undefined) this.observe(current);
    this.stopLeading(`the lease is held by ${current?.spec.holderIdentity || 'nobody'} now`);
  }

  private startLeading(lease: Lease, sentAt: number, how: string): void {
    const { leases, identity, log } = this.options;
    this.lease = lease;
    this.observe(lease);
    this.leading = true;
    this.renewedAt = sentAt;
    this.armDeadline();
    log.info({ lease: `${leases.namespace}/${leases.name}`, identity, transitions: lease.spec.leaseTransitions ?? 0 }, `leader election: ${how}: this replica leads`);
    this.options.onStartedLeading(lease);
  }

  private stopLeading(reason: string): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    if (!this.leading) return;
    this.leading = false;
    if (reason !== 'released' && reason !== 'stopped') this.options.log.warn({ reason }, `leader election: no longer the leader: ${reason}`);
    this.options.onStoppedLeading(reason);
  }

  /** Ends the leadership the moment its last renewal is renew_deadline old, whatever the requests in flight. */
  private armDeadline(): void {
    clearTimeout(this.deadline);
    const left = this.renewedAt + this.options.renewDeadlineMs - now();
    this.deadline = setTimeout(() => this.stopLeading(`could not renew the lease within renew_deadline (${this.options.renewDeadlineMs} ms)`), Math.max(0, left));
  }

  private observe(lease: Lease): void {
    const version = lease.metadata.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = now();
    }
    const holder = lease.spec.holderIdentity || undefined;
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      if (holder !== this.options.identity) this.options.onObservedLeader?.(holder);
    }
  }

  private spec(acquiredAt: number, renewedAt: number, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.leaseSeconds,
      acquireTime: microTime(acquiredAt),
      renewTime: microTime(renewedAt),
      leaseTransitions: transitions,
    };
  }

  private withAnnotations(lease: Lease, spec: LeaseSpec): Lease {
    const annotations = { ...(lease.metadata.annotations ?? {}), ...this.options.annotations() };
    return { ...lease, metadata: { ...lease.metadata, annotations }, spec };
  }
}
