/** The kubernetes_events input's leader election options: client-go's defaults, and the orderings client-go checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOption, type ResolvedOptions } from '../../src/config/options.js';
import { kubernetesEventsOptions, resolveKubernetesEventsOptions } from '../../src/inputs/kubernetes_events/options.js';
import { leaderIdentity } from '../../src/kube/leader-elector.js';

function resolve(overrides: Record<string, unknown>) {
  const options: ResolvedOptions = {};
  for (const spec of kubernetesEventsOptions) {
    const raw = overrides[spec.name] ?? spec.default;
    if (raw !== undefined) options[spec.name] = parseOption(spec, raw as string);
  }
  return resolveKubernetesEventsOptions(options);
}

test('leader_election off by default; on, with client-go defaults (15 s, 10 s, 2 s) and the lease named floki-kubernetes-events', () => {
  assert.equal(resolve({}).leaderElection, undefined);
  assert.deepEqual(resolve({ leader_election: 'on' }).leaderElection, {
    leaseName: 'floki-kubernetes-events',
    leaseNamespace: undefined,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
  assert.equal(resolve({ leader_election: 'on', lease_namespace: 'floki', lease_name: 'events.a' }).leaderElection?.leaseNamespace, 'floki');
});

test('leader election refuses timings that would let two replicas watch at once, a bad lease name, and db', () => {
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ renew_deadline: '15s' }, /renew_deadline: must be less than lease_duration/],
    [{ lease_duration: '500ms', renew_deadline: '400ms', retry_period: '100ms' }, /lease_duration: expected at least 1s/],
    [{ retry_period: '9s' }, /retry_period: must be more than 0 and well under renew_deadline/],
    [{ lease_name: 'Floki_Events' }, /lease_name: 'Floki_Events' is not a Kubernetes object name/],
    [{ lease_namespace: 'kube system' }, /lease_namespace: 'kube system' is not a Kubernetes namespace name/],
    [{ db: '/var/lib/floki/events.db' }, /db: not used with leader_election on/],
  ];
  for (const [overrides, message] of refused) assert.throws(() => resolve({ leader_election: 'on', ...overrides }), message, JSON.stringify(overrides));
});

test('the identity: POD_NAME, else HOSTNAME, else the host name and process id', () => {
  assert.equal(leaderIdentity({ POD_NAME: 'floki-aggregator-7c9d-x2', HOSTNAME: 'h' }), 'floki-aggregator-7c9d-x2');
  assert.equal(leaderIdentity({ HOSTNAME: 'floki-aggregator-7c9d-x2' }), 'floki-aggregator-7c9d-x2');
  assert.match(leaderIdentity({}), new RegExp(`_${process.pid}$`));
});
