/**
 * Leader election on a Lease (src/kube/leader-elector.ts) against the API server stand-in, in process,
 * with short timings: one leader among three, create and update races settled by the API server's
 * conflicts, a release handed over within the retry period with the leader's last annotations, a
 * partitioned leader that stops before anyone takes over, and a lease taken from under the leader.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { KubeConnection } from '../../src/kube/connection.js';
import { LeaderElector } from '../../src/kube/leader-elector.js';
import { LeaseClient, type Lease } from '../../src/kube/lease.js';
import { KubeApiServer } from '../helpers/kube-apiserver.js';
import { waitFor } from '../helpers/wait.js';

const TIMING = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 };
const NS = 'floki';
const NAME = 'events';

interface Candidate {
  identity: string;
  elector: LeaderElector;
  /** performance.now() of each start and stop of leadership. */
  started: number[];
  stopped: { at: number; reason: string }[];
  leases: Lease[];
  annotations: Record<string, string>;
}

async function setup(t: TestContext, identities: string[]): Promise<{ api: KubeApiServer; candidates: Candidate[]; start(c: Candidate): void }> {
  const api = await KubeApiServer.start(identities.map((i) => `token-${i}`));
  const dir = mkdtempSync(join(tmpdir(), 'floki-lease-'));
  const candidates = identities.map((identity): Candidate => {
    const tokenFile = join(dir, identity);
    writeFileSync(tokenFile, `token-${identity}`);
    const log = pino({ level: 'silent' });
    const connection = new KubeConnection({ url: new URL(api.url), caFile: api.caFile, tokenFile, tokenTtlMs: 60_000, tlsVerify: true }, log);
    const c: Candidate = { identity, started: [], stopped: [], leases: [], annotations: {}, elector: undefined as unknown as LeaderElector };
    c.elector = new LeaderElector({
      leases: new LeaseClient(connection, NS, NAME, 1000),
      identity,
      ...TIMING,
      log,
      annotations: () => c.annotations,
      onStartedLeading: (lease) => {
        c.started.push(performance.now());
        c.leases.push(lease);
      },
      onStoppedLeading: (reason) => c.stopped.push({ at: performance.now(), reason }),
    });
    return c;
  });
  t.after(async () => {
    await Promise.all(candidates.map((c) => c.elector.stop()));
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { api, candidates, start: (c) => c.elector.start() };
}

const leaders = (cs: Candidate[]) => cs.filter((c) => c.elector.isLeader()).map((c) => c.identity);
const holder = (api: KubeApiServer) => (api.lease(NS, NAME)?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

test('three candidates, no lease yet: they race to create it, the API server takes one, and exactly one leads while the others stand by', async (t) => {
  const { api, candidates, start } = await setup(t, ['a', 'b', 'c']);
  for (const c of candidates) start(c);
  await waitFor(() => leaders(candidates).length === 1, 'a leader');
  const [leader] = leaders(candidates);
  assert.equal(holder(api), leader);
  const posts = api.requests.filter((r) => r.method === 'POST');
  assert.ok(posts.length >= 1 && posts.filter((r) => r.status === 201).length === 1, 'one create won; any other got 409');
  assert.ok(posts.every((r) => r.status === 201 || r.status === 409));
  // Over several lease durations the leader keeps renewing and nobody else takes over.
  const until = performance.now() + 2.5 * TIMING.leaseDurationMs;
  while (performance.now() < until) {
    assert.deepEqual(leaders(candidates), [leader]);
    await new Promise((r) => setTimeout(r, 50));
  }
  const spec = api.lease(NS, NAME)!.spec as Record<string, unknown>;
  assert.equal(spec.leaseDurationSeconds, 2);
  assert.equal(spec.leaseTransitions, 0);
  assert.match(String(spec.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'a MicroTime');
  assert.ok(api.requests.filter((r) => r.method === 'PUT' && r.token === `token-${leader}` && r.status === 200).length >= 5, 'renewed every retry period');
  for (const c of candidates) assert.equal(c.started.length, c.identity === leader ? 1 : 0);
});

test('release: the leader writes its last annotations and hands over; the next takes the lease within the retry period and reads them', async (t) => {
  const { api, candidates, start } = await setup(t, ['a', 'b']);
  const [a, b] = candidates as [Candidate, Candidate];
  start(a);
  await waitFor(() => a.elector.isLeader(), 'a leads');
  start(b);
  await waitFor(() => api.requests.some((r) => r.token === 'token-b'), 'b reads the lease');
  a.annotations = { 'floki.io/events-resource-version': '4242' };
  const released = performance.now();
  await a.elector.release();
  assert.equal(a.elector.isLeader(), false);
  assert.equal(a.stopped.at(-1)?.reason, 'released');
  const lease = api.lease(NS, NAME)!;
  if (holder(api) === '') assert.equal((lease.spec as { leaseDurationSeconds: number }).leaseDurationSeconds, 1);
  await waitFor(() => b.elector.isLeader(), 'b leads');
  const handover = b.started[0]! - released;
  assert.ok(handover < TIMING.retryPeriodMs * 1.2 + 500, `handed over in ${Math.round(handover)} ms, within the retry period (not the lease duration)`);
  assert.equal(b.leases[0]!.metadata.annotations?.['floki.io/events-resource-version'], '4242', "the new leader reads the last leader's checkpoint");
  assert.equal((api.lease(NS, NAME)!.spec as { leaseTransitions: number }).leaseTransitions, 1);
});

test('a partitioned leader stops at renew_deadline, before a candidate may take over at lease_duration; it follows when it is back', async (t) => {
  const { api, candidates, start } = await setup(t, ['a', 'b']);
  const [a, b] = candidates as [Candidate, Candidate];
  start(a);
  await waitFor(() => a.elector.isLeader(), 'a leads');
  start(b);
  await waitFor(() => api.requests.some((r) => r.token === 'token-b'), 'b reads the lease');
  // a can no longer reach the API server; b still can.
  const cut = performance.now();
  api.intercept = (_path, _query, token) => (token === 'token-a' ? 'drop' : undefined);
  await waitFor(() => b.elector.isLeader(), 'b takes over', 10_000);
  assert.equal(a.stopped.length, 1, 'a stopped leading');
  assert.match(a.stopped[0]!.reason, /renew_deadline/);
  assert.ok(a.stopped[0]!.at < b.started[0]!, 'a stopped before b started');
  assert.ok(a.stopped[0]!.at - cut <= TIMING.renewDeadlineMs + 50, 'a stopped within renew_deadline of its last renewal');
  assert.ok(b.started[0]! - cut >= TIMING.leaseDurationMs - TIMING.retryPeriodMs, 'b waited out the lease duration');
  // Back on the network, a sees b's lease and stays a candidate.
  api.intercept = undefined;
  await waitFor(() => api.requests.filter((r) => r.token === 'token-a' && r.status === 200).length > 0 && holder(api) === 'b', 'a reads the lease again');
  await new Promise((r) => setTimeout(r, TIMING.retryPeriodMs * 3));
  assert.deepEqual(leaders(candidates), ['b']);
});

test('a lease taken from under the leader (someone else wrote it): its renewal conflicts and it stops at once', async (t) => {
  const { api, candidates, start } = await setup(t, ['a']);
  const [a] = candidates as [Candidate];
  start(a);
  await waitFor(() => a.elector.isLeader(), 'a leads');
  api.putLease(NS, NAME, (old) => ({ ...old!, spec: { ...(old!.spec as object), holderIdentity: 'intruder', renewTime: new Date().toISOString() } }));
  await waitFor(() => !a.elector.isLeader(), 'a stops');
  assert.match(a.stopped[0]!.reason, /held by intruder/);
  assert.ok(api.requests.some((r) => r.method === 'PUT' && r.status === 409), 'the renewal conflicted');
});
