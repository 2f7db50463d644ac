/**
 * The kubernetes_events input with `leader_election on`, as several floki processes against one API
 * server stand-in (Leases and Events) and one Loki: exactly one watches; kill -9 of the leader
 * mid-stream, and the next takes over within the lease duration (plus the reads it takes to notice)
 * and resumes from the checkpoint on the Lease, so Loki stores every event (an event the dead leader
 * delivered after its last renewal may be sent again: the same entry, which Loki stores once); SIGTERM
 * of the leader hands over within seconds and sends nothing twice.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exporterRecord } from '../../src/inputs/kubernetes_events/index.js';
import { FlokiProcess } from '../helpers/floki-process.js';
import { KubeApiServer, kubeEvent, type KubeObject } from '../helpers/kube-apiserver.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';

const LEASE = { lease_duration: '3s', renew_deadline: '2s', retry_period: '500ms' };
const LEASE_MS = 3000;
const RETRY_MS = 500;

interface Replica {
  name: string;
  token: string;
  floki: FlokiProcess;
  /** Where it pushes (its own, or the one shared). */
  loki: LokiReceiver;
}

async function cluster(t: TestContext, names: string[], lokiPerReplica = false): Promise<{ api: KubeApiServer; loki: LokiReceiver; replicas: Replica[] }> {
  const api = await KubeApiServer.start(names.map((n) => `token-${n}`));
  api.splitLines = false;
  const loki = await LokiReceiver.start();
  const lokis = lokiPerReplica ? await Promise.all(names.map(() => LokiReceiver.start())) : [];
  const dir = mkdtempSync(join(tmpdir(), 'floki-events-leader-'));
  const replicas = names.map((name, i): Replica => {
    const tokenFile = join(dir, `${name}.token`);
    writeFileSync(tokenFile, `token-${name}`);
    const config = `service:
  flush: 0.2
  grace: 4
pipeline:
  inputs:
    - name: kubernetes_events
      kube_url: ${api.url}
      kube_ca_file: ${api.caFile}
      kube_token_file: ${tokenFile}
      tag: kube.events
      leader_election: on
      lease_namespace: floki
      lease_name: floki-events
${Object.entries(LEASE).map(([k, v]) => `      ${k}: ${v}\n`).join('')}  outputs:
    - name: loki
      match: '*'
      url: ${(lokis[i] ?? loki).url}
      labels: job=floki
      batch_wait: 50ms
`;
    return { name, token: `token-${name}`, floki: FlokiProcess.withConfig(config, { POD_NAME: name }), loki: lokis[i] ?? loki };
  });
  t.after(async () => {
    await Promise.all(replicas.map((r) => r.floki.stop('SIGKILL')));
    await Promise.all([loki, ...lokis].map((l) => l.close()));
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await Promise.all(replicas.map((r) => r.floki.ready()));
  return { api, loki, replicas };
}

const holderOf = (api: KubeApiServer): string | undefined => (api.lease('floki', 'floki-events')?.spec as { holderIdentity?: string } | undefined)?.holderIdentity || undefined;
const watchersOf = (api: KubeApiServer, since = 0): Set<string | undefined> => new Set(api.watchRequests.slice(since).map((r) => r.token));
const lineOf = (e: KubeObject) => JSON.stringify(exporterRecord(e));

/** When each event was added (performance.now()), by its line. */
const addedAt = new Map<string, number>();

/** Adds an event every `everyMs` until `count`; resolves with them. */
async function stream(api: KubeApiServer, from: number, count: number, everyMs: number, during?: (i: number) => Promise<void> | void): Promise<KubeObject[]> {
  const sent: KubeObject[] = [];
  for (let i = 0; i < count; i++) {
    const event = api.add(kubeEvent(from + i, { reason: `R${from + i}` }));
    addedAt.set(lineOf(event), performance.now());
    sent.push(event);
    await during?.(i);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return sent;
}

/** Every sent event in Loki, as Loki stores it (an identical entry sent twice is one); returns how many were received twice. */
function assertEveryEventOnce(loki: LokiReceiver, sent: KubeObject[]): number {
  const stored = new Map<string, number>();
  for (const e of loki.entries) {
    const key = `${JSON.stringify(e.labels)} ${e.ts} ${e.line}`;
    stored.set(key, (stored.get(key) ?? 0) + 1);
  }
  const lines = new Set(loki.entries.map((e) => e.line));
  for (const e of sent) assert.ok(lines.has(lineOf(e)), `event ${e.metadata.name} is in Loki`);
  assert.equal(stored.size, sent.length, 'as many entries stored as events sent: none lost, no other entry');
  return loki.entries.length - stored.size;
}

test('three replicas: exactly one watches; kill -9 of the leader mid-stream: another takes over within the lease duration and resumes from the Lease, every event stored once', async (t) => {
  const { api, loki, replicas } = await cluster(t, ['agg-0', 'agg-1', 'agg-2']);
  await waitFor(() => holderOf(api) !== undefined && api.openWatchesOf('events') === 1, 'a leader watching');
  const first = holderOf(api)!;
  const leader = replicas.find((r) => r.name === first)!;
  assert.deepEqual([...watchersOf(api)], [leader.token], 'only the leader lists and watches events');
  assert.ok(api.requests.filter((r) => r.path === '/api/v1/events').every((r) => r.token === leader.token));

  let killedAt = 0;
  const sent = await stream(api, 1, 40, 75, async (i) => {
    if (i === 15) {
      // Let the checkpoint move past some delivered events first, then the leader dies mid-stream.
      await waitFor(() => loki.entries.length >= 10, 'some events delivered');
      killedAt = performance.now();
      await leader.floki.stop('SIGKILL');
    }
  });
  await waitFor(() => holderOf(api) !== first && holderOf(api) !== undefined, 'a new holder', 15_000);
  const watchesBefore = api.watchRequests.length;
  const next = replicas.find((r) => r.name === holderOf(api))!;
  await waitFor(() => api.watchRequests.slice(watchesBefore - 1).some((r) => r.token === next.token) && api.openWatchesOf('events') === 1, 'the new leader watching');
  const tookOverIn = performance.now() - killedAt;
  // A standby counts the lease duration from when it last saw the lease change: at most one read after the kill.
  assert.ok(tookOverIn < LEASE_MS + 3 * RETRY_MS + 1000, `taken over ${Math.round(tookOverIn)} ms after the kill`);
  const resumed = api.watchRequests.filter((r) => r.token === next.token)[0]!;
  assert.ok(resumed.query.get('resourceVersion'), 'the new leader watches from the resourceVersion on the Lease');
  assert.equal(api.requests.filter((r) => r.path === '/api/v1/events' && !r.watch && r.token === next.token).length, 0, 'without listing again');

  await loki.waitFor(sent.length, 15_000).catch(() => undefined);
  await waitFor(() => new Set(loki.entries.map((e) => e.line)).size >= sent.length, 'every event in Loki', 15_000);
  const resent = assertEveryEventOnce(loki, sent);
  t.diagnostic(`${resent} entries received twice (sent by the dead leader after its last renewal)`);
  assert.ok(resent <= 16, 'at most what was delivered since the last checkpoint is sent again');
  assert.deepEqual([...watchersOf(api)].sort(), [leader.token, next.token].sort(), 'never a third watcher');
});

test('two replicas: SIGTERM on the leader releases the Lease with its checkpoint; the other watches within seconds and sends nothing twice', async (t) => {
  const { api, loki, replicas } = await cluster(t, ['agg-0', 'agg-1']);
  await waitFor(() => holderOf(api) !== undefined && api.openWatchesOf('events') === 1, 'a leader watching');
  const leader = replicas.find((r) => r.name === holderOf(api))!;
  const other = replicas.find((r) => r !== leader)!;
  const sent = await stream(api, 100, 10, 50);
  await loki.waitFor(sent.length, 10_000);
  assert.deepEqual([...watchersOf(api)], [leader.token], 'only the leader watches');

  const stopping = performance.now();
  const exited = leader.floki.stop('SIGTERM');
  await waitFor(() => api.watchRequests.some((r) => r.token === other.token) && api.openWatchesOf('events') === 1, 'the other replica watching', 10_000);
  const handover = performance.now() - stopping;
  assert.ok(handover < LEASE_MS, `handed over in ${Math.round(handover)} ms: the released lease is taken at the next try, not after the lease duration`);
  assert.equal(await exited, 0);
  const watch = api.watchRequests.find((r) => r.token === other.token)!;
  const annotations = api.lease('floki', 'floki-events')!.metadata.annotations as Record<string, string>;
  assert.ok(Number(watch.query.get('resourceVersion')) >= Number(sent.at(-1)!.metadata.resourceVersion), 'resumed after the last delivered event');
  assert.ok(annotations['floki.io/events-resource-version']);

  const more = await stream(api, 200, 10, 50);
  await loki.waitFor(sent.length + more.length, 10_000);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(assertEveryEventOnce(loki, [...sent, ...more]), 0, 'no entry received twice');
  assert.equal(loki.entries.length, sent.length + more.length);
});

test('a leader cut off from the Lease (its watch still open) stops sending at renew_deadline, before the other takes over; every event is delivered by one or the other', async (t) => {
  const { api, replicas } = await cluster(t, ['agg-0', 'agg-1'], true);
  await waitFor(() => holderOf(api) !== undefined && api.openWatchesOf('events') === 1, 'a leader watching');
  const leader = replicas.find((r) => r.name === holderOf(api))!;
  const other = replicas.find((r) => r !== leader)!;
  const before = await stream(api, 300, 5, 50);
  await leader.loki.waitFor(before.length, 10_000);

  // Its Lease requests fail from now on; the API server still writes events to its open watch.
  const cut = performance.now();
  api.intercept = (path, _query, token) => (token === leader.token && path.includes('/leases') ? 'drop' : undefined);
  const during = await stream(api, 400, 60, 75);
  await waitFor(() => api.watchRequests.some((r) => r.token === other.token), 'the other replica watching', 15_000);
  const sent = [...before, ...during];
  await waitFor(() => new Set([...leader.loki.entries, ...other.loki.entries].map((e) => e.line)).size >= sent.length, 'every event delivered by one replica or the other', 15_000);

  // What the cut-off leader delivered: only events added before its renew_deadline ran out, at most
  // 2 s after the cut (its last renewal was before it).
  const lastFromOld = Math.max(...leader.loki.entries.map((e) => addedAt.get(e.line)! - cut));
  assert.ok(lastFromOld <= 2000 + 100, `the cut-off leader sent an event added ${Math.round(lastFromOld)} ms after the cut, past renew_deadline`);
  const firstFromNew = Math.min(...other.loki.entries.map((e) => addedAt.get(e.line)! - cut));
  t.diagnostic(`the cut-off leader's last event was added ${Math.round(lastFromOld)} ms after the cut; the new leader sent from ${Math.round(firstFromNew)} ms`);
  const order = during.map(lineOf);
  const lastOld = Math.max(...leader.loki.entries.map((e) => order.indexOf(e.line)));
  const firstNew = Math.min(...other.loki.entries.map((e) => order.indexOf(e.line)).filter((i) => i >= 0));
  assert.ok(firstNew <= lastOld + 1, 'the new leader resumes from the checkpoint: no event between them is lost');
});
