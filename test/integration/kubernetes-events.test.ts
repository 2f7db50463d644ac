/**
 * The kubernetes_events input against an API server stand-in over HTTPS (test/helpers/kube-apiserver.ts):
 * in process for the protocol's cases, and once end to end through floki to the decoding Loki receiver.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseOption, type ResolvedOptions } from '../../src/config/options.js';
import type { LogEvent } from '../../src/core/event.js';
import type { Input, InputContext } from '../../src/core/plugin.js';
import { exporterRecord, kubernetesEventsInput } from '../../src/inputs/kubernetes_events/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { KubeApiServer, kubeEvent, type KubeObject } from '../helpers/kube-apiserver.js';
import { FlokiProcess } from '../helpers/floki-process.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { rfc3339ToNs } from '../helpers/testdata.js';
import { waitFor } from '../helpers/wait.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

class Harness {
  readonly events: LogEvent[] = [];
  readonly logs: string[] = [];
  paused = false;
  readonly ctx: InputContext;
  readonly dir = mkdtempSync(join(tmpdir(), 'floki-events-'));
  readonly tokenFile = join(this.dir, 'token');
  readonly db = join(this.dir, 'events.db');
  readonly inputs: Input[] = [];

  constructor() {
    const self = this;
    this.ctx = {
      name: 'kubernetes_events.0',
      log: pino({ level: 'debug' }, { write: (s: string) => self.logs.push(s) }),
      metrics: new Metrics(),
      service: { flushMs: 1000, graceMs: 0, logLevel: 'info' }, parsers: new ParserRegistry(),
      emit: async (events, onSettled) => {
        self.events.push(...events);
        onSettled?.();
      },
      get paused() {
        return self.paused;
      },
    };
  }

  input(api: KubeApiServer, overrides: ResolvedOptions = {}): Input {
    const options: ResolvedOptions = {};
    for (const spec of kubernetesEventsInput.options) if (spec.default !== undefined) options[spec.name] = parseOption(spec, spec.default);
    Object.assign(options, { kube_url: api.url, kube_ca_file: api.caFile, kube_token_file: this.tokenFile, tag: 'kube.events' }, overrides);
    const input = kubernetesEventsInput.create(options, this.ctx);
    this.inputs.push(input);
    return input;
  }

  async remove(): Promise<void> {
    await Promise.all(this.inputs.map((i) => i.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function setup(t: TestContext, tokens = ['token-a']): Promise<{ api: KubeApiServer; h: Harness }> {
  const api = await KubeApiServer.start(tokens);
  const h = new Harness();
  writeFileSync(h.tokenFile, tokens[0] + '\n');
  t.after(async () => {
    await h.remove();
    await api.close();
  });
  return { api, h };
}

const uid = (e: KubeObject) => e.metadata.uid as string;
const versions = (events: LogEvent[]) => events.map((e) => `${(e.record.metadata as { name: string }).name}@${(e.record.metadata as { resourceVersion: string }).resourceVersion}`);
const storedVersion = (db: string): string | undefined => {
  try {
    return (JSON.parse(readFileSync(db, 'utf8')) as { resourceVersion: string }).resourceVersion;
  } catch {
    return undefined;
  }
};
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

test('list, then watch from its resourceVersion with bookmarks; updates, a dropped watch, 410 Gone and a relist without resending', async (t) => {
  const { api, h } = await setup(t);
  const e1 = api.add(kubeEvent(1));
  api.add(kubeEvent(2, { at: iso(2 * 3_600_000) })); // older than kube_retention_time (1h)
  const node = api.add(kubeEvent(3, { namespace: '', involvedObject: { kind: 'Node', namespace: '', name: 'worker-2' }, reason: 'NodeNotReady', type: 'Normal' }));
  const input = h.input(api, { db: h.db });
  await input.start();

  await waitFor(() => h.events.length === 2 && api.openWatches === 1, 'the listed events and a watch');
  assert.deepEqual(h.events.map((e) => e.record), [exporterRecord(e1), exporterRecord(node)]);
  assert.equal(h.events[0]!.tag, 'kube.events');
  assert.equal(h.events[0]!.time, rfc3339ToNs(e1.lastTimestamp as string));
  const [list] = api.requests;
  assert.equal(list!.path, '/api/v1/events');
  assert.equal(list!.token, 'token-a');
  const watch = api.watchRequests[0]!;
  assert.equal(watch.query.get('resourceVersion'), node.metadata.resourceVersion);
  assert.equal(watch.query.get('allowWatchBookmarks'), 'true');
  assert.equal(watch.query.get('timeoutSeconds'), '600');

  // New and updated events arrive through the watch, each line cut into pieces (one inside a UTF-8 character).
  const e4 = api.add(kubeEvent(4, { message: 'Pulling image "registry/app:v2" — größer ✓' }));
  const e1b = api.modify(uid(e1), (old) => ({ ...old, count: 2, lastTimestamp: iso(1000) }));
  await waitFor(() => h.events.length === 4, 'two watched events');
  assert.deepEqual(h.events.slice(2).map((e) => e.record), [exporterRecord(e4), exporterRecord(e1b)]);
  assert.equal(h.events[3]!.time, rfc3339ToNs(e1b.lastTimestamp as string), 'an update is a new entry at its new time');

  // A deletion (TTL expiry) is not an event; a bookmark moves the resourceVersion; a dropped watch resumes from there.
  api.remove(uid(node));
  const bookmark = api.bookmark();
  await waitFor(() => storedVersion(h.db) === bookmark, 'the bookmark recorded in db');
  api.dropWatches();
  await waitFor(() => api.watchRequests.length === 2 && api.openWatches === 1, 'a second watch');
  assert.equal(api.watchRequests[1]!.query.get('resourceVersion'), bookmark);
  assert.equal(h.events.length, 4, 'nothing sent twice after the dropped watch');

  // Compaction while disconnected: the watch gets 410 Gone, the input lists again and sends only what is new.
  api.dropWatches();
  api.compact();
  const e5 = api.add(kubeEvent(5));
  await waitFor(() => h.events.length >= 5 && api.openWatches === 1, 'the relist');
  assert.deepEqual(versions(h.events.slice(4)), versions([{ tag: '', time: 0n, record: exporterRecord(e5) }]));
  assert.equal(api.requests.filter((r) => !r.watch).length, 2, 'listed twice');
  assert.ok(h.logs.some((l) => l.includes('410 Gone')));
  const e6 = api.add(kubeEvent(6));
  await waitFor(() => h.events.length === 6, 'watching again after the relist');
  assert.deepEqual(h.events[5]!.record, exporterRecord(e6));
});

test('token rotation: a 401 makes the input read kube_token_file again and retry at once; kube_token_ttl re-reads it unasked', async (t) => {
  const { api, h } = await setup(t);
  api.add(kubeEvent(1));
  const input = h.input(api, { kube_token_ttl: 3_600_000 });
  await input.start();
  await waitFor(() => h.events.length === 1 && api.openWatches === 1, 'list and watch');

  // The kubelet rotates the projected token; the API server stops accepting the old one.
  writeFileSync(h.tokenFile, 'token-b\n');
  api.tokens.clear();
  api.tokens.add('token-b');
  api.dropWatches();
  await waitFor(() => api.openWatches === 1, 'a watch with the new token');
  const watches = api.watchRequests;
  assert.deepEqual(watches.slice(-2).map((r) => [r.token, r.status]), [['token-a', 401], ['token-b', 200]]);
  api.add(kubeEvent(2));
  await waitFor(() => h.events.length === 2, 'events flow again');
  assert.ok(!h.logs.some((l) => l.includes('"level":40') && l.includes('401')), 'a rotation is not a warning');
  assert.ok(h.logs.some((l) => l.includes('the token file changed')));
});

test('kube_token_ttl: the token file is read again once the ttl passed, without waiting for a 401', async (t) => {
  const { api, h } = await setup(t, ['token-a', 'token-b']);
  const input = h.input(api, { kube_token_ttl: 0 });
  await input.start();
  await waitFor(() => api.openWatches === 1, 'a watch');
  writeFileSync(h.tokenFile, 'token-b\n');
  api.dropWatches();
  await waitFor(() => api.watchRequests.length === 2 && api.openWatches === 1, 'a second watch');
  assert.deepEqual(api.requests.map((r) => [r.token, r.status]), [['token-a', 200], ['token-a', 200], ['token-b', 200]]);
});

test('db: a restart resumes the watch from the stored resourceVersion without listing; a 410 on resume lists again', async (t) => {
  const { api, h } = await setup(t);
  api.add(kubeEvent(1));
  const first = h.input(api, { db: h.db });
  await first.start();
  await waitFor(() => h.events.length === 1 && api.openWatches === 1, 'list and watch');
  const e2 = api.add(kubeEvent(2));
  await waitFor(() => h.events.length === 2, 'a watched event');
  await first.stop();
  assert.equal(JSON.parse(readFileSync(h.db, 'utf8')).resourceVersion, e2.metadata.resourceVersion);

  api.add(kubeEvent(3)); // while floki was down
  const requestsBefore = api.requests.length;
  const second = h.input(api, { db: h.db });
  await second.start();
  await waitFor(() => h.events.length === 3, 'the event missed while down');
  const resumed = api.requests.slice(requestsBefore);
  assert.ok(resumed[0]!.watch, 'no list on resume');
  assert.equal(resumed[0]!.query.get('resourceVersion'), e2.metadata.resourceVersion);
  await second.stop();

  // The stored version has been compacted away: HTTP 410 on the watch, then a fresh list.
  api.respondNext(410, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 });
  const third = h.input(api, { db: h.db });
  const before = h.events.length;
  await third.start();
  await waitFor(() => api.openWatches === 1 && api.requests.filter((r) => !r.watch).length === 2, 'a relist');
  // A fresh process has not seen anything: it sends what the list holds (Loki stores an identical entry once).
  assert.equal(h.events.length - before, 3);
});

test('kube_namespace and kube_request_limit: one namespace, listed in pages with continue tokens', async (t) => {
  const { api, h } = await setup(t);
  for (let i = 1; i <= 5; i++) api.add(kubeEvent(i, { namespace: 'shop' }));
  api.add(kubeEvent(6, { namespace: 'other' }));
  const input = h.input(api, { kube_namespace: 'shop', kube_request_limit: 2 });
  await input.start();
  await waitFor(() => h.events.length === 5 && api.openWatches === 1, 'five events and a watch');
  const lists = api.requests.filter((r) => !r.watch);
  assert.deepEqual(lists.map((r) => [r.path, r.query.get('limit'), r.query.has('continue')]), [
    ['/api/v1/namespaces/shop/events', '2', false],
    ['/api/v1/namespaces/shop/events', '2', true],
    ['/api/v1/namespaces/shop/events', '2', true],
  ]);
  api.add(kubeEvent(7, { namespace: 'other' }));
  api.add(kubeEvent(8, { namespace: 'shop' }));
  await waitFor(() => h.events.length === 6, 'the watched event of the namespace');
  assert.equal((h.events[5]!.record.metadata as { namespace: string }).namespace, 'shop');
});

test('backpressure: while the pipeline is paused the watch is not read; on resume the events follow', async (t) => {
  const { api, h } = await setup(t);
  const input = h.input(api);
  await input.start();
  await waitFor(() => api.openWatches === 1, 'a watch');
  h.paused = true;
  input.pause();
  api.add(kubeEvent(1));
  await waitFor(() => h.events.length === 1, 'the batch read before the pause took effect');
  api.add(kubeEvent(2));
  api.add(kubeEvent(3));
  // The lines are on the wire; a paused input must not turn them into records. A watch that is read
  // turns a line into a record within a few milliseconds: over half a second, checked at its end (just
  // before the resume), nothing may have come of them.
  await api.flushed();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(h.events.length, 1);
  h.paused = false;
  input.resume();
  await waitFor(() => h.events.length === 3, 'the held events after resume');
});

test('end to end: list, watch, a dropped watch, 410 and token rotation, through floki and the event_exporter filter into Loki', async (t) => {
  const api = await KubeApiServer.start(['token-a']);
  const loki = await LokiReceiver.start();
  const dir = mkdtempSync(join(tmpdir(), 'floki-events-e2e-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'token-a');
  const config = `service:
  flush: 1
  grace: 2
pipeline:
  inputs:
    - name: kubernetes_events
      kube_url: ${api.url}
      kube_ca_file: ${api.caFile}
      kube_token_file: ${tokenFile}
      db: ${join(dir, 'events.db')}
      tag: kube.events
  filters:
    - name: event_exporter
      match: 'kube.*'
  outputs:
    - name: loki
      match: '*'
      url: ${loki.url}
      labels: job=floki
      batch_wait: 50ms
`;
  const floki = FlokiProcess.withConfig(config);
  t.after(async () => {
    await floki.stop();
    await loki.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sent: KubeObject[] = [];
  sent.push(api.add(kubeEvent(1)));
  sent.push(api.add(kubeEvent(2, { namespace: '', involvedObject: { kind: 'Node', namespace: '', name: 'worker-2' }, reason: 'NodeNotReady', type: 'Normal', message: 'Node worker-2 status is now: NodeNotReady' })));
  await floki.ready();
  await waitFor(() => api.openWatches === 1, 'floki watching', 10_000);
  sent.push(api.add(kubeEvent(3, { reason: 'BackOff', message: 'Back-off restarting failed container api in pod api-3 <&>' })));
  await loki.waitFor(3, 10_000);

  api.dropWatches();
  await waitFor(() => api.openWatches === 1, 'a new watch after the drop', 10_000);
  sent.push(api.modify(uid(sent[0]!), (old) => ({ ...old, count: 2, lastTimestamp: iso(1000) })));
  await loki.waitFor(4, 10_000);

  api.dropWatches();
  api.compact();
  writeFileSync(tokenFile, 'token-b');
  api.tokens.clear();
  api.tokens.add('token-b');
  sent.push(api.add(kubeEvent(5, { type: 'Normal', reason: 'Pulled', involvedObject: { kind: 'Pod' } })));
  await loki.waitFor(5, 10_000);
  await waitFor(() => api.openWatches === 1, 'watching after the relist', 10_000);
  sent.push(api.add(kubeEvent(6, { namespace: 'payments', reason: 'FailedMount' })));
  await loki.waitFor(6, 10_000);

  assert.equal(loki.entries.length, sent.length, 'each event version once');
  const byLine = new Map(loki.entries.map((e) => [e.line, e]));
  for (const object of sent) {
    const record = exporterRecord(object);
    const entry = byLine.get(JSON.stringify(record));
    assert.ok(entry, `event ${object.metadata.name}@${object.metadata.resourceVersion} in Loki with the exporter's line`);
    const io = record.involvedObject as { kind: string; namespace?: string };
    const labels: Record<string, string> = { job: 'floki', type: record.type as string, reason: record.reason as string, kind: io.kind };
    if (io.namespace) labels.namespace = io.namespace;
    assert.deepEqual(entry.labels, labels);
    assert.equal(entry.ts, rfc3339ToNs(record.lastTimestamp as string));
  }
  const statuses = api.requests.map((r) => `${r.watch ? 'watch' : 'list'} ${r.status}`);
  assert.deepEqual(statuses.filter((s) => s.startsWith('list')), ['list 200', 'list 200'], statuses.join(', '));
  assert.ok(statuses.includes('watch 401'), 'the old token was refused once');
});
