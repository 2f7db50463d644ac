/**
 * The deploy configs: configs/kubernetes rendered with `kubectl kustomize` and checked object by object
 * (the DaemonSet mounts what its floki config reads, ports match the configs, probes and scrape paths are
 * real endpoints of floki run on the rendered config), the Fluent Bit config in front, and the image's
 * default config.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { parse, parseAllDocuments, parseDocument } from 'yaml';
import { exporterRecord } from '../../src/inputs/kubernetes_events/index.js';
import { FlokiProcess, ROOT } from '../helpers/floki-process.js';
import { runPeer } from '../helpers/peers.js';
import { KubeApiServer, kubeEvent } from '../helpers/kube-apiserver.js';
import { containerId, kubeNamespace, kubePod, type PodSpec } from '../helpers/kube-objects.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { arr, cat, entry, eventTime, str } from '../helpers/msgpack-wire.js';

// Rendered Kubernetes objects and parsed configs: checked field by field, typed loosely on purpose.
type Obj = Record<string, any>;

const KUBE = join(ROOT, 'configs', 'kubernetes');

/** A Fluent Bit style boolean as YAML 1.2 reads it (`on` stays a string). */
const isOn = (v: unknown): boolean => v === true || (typeof v === 'string' && ['on', 'true', 'yes'].includes(v.toLowerCase()));

/**
 * Without kubectl these tests fail, saying what to install: a run that skipped them would pass without
 * having checked the manifests. (`npm test` runs scripts/test-peers.sh first, which installs it as root.)
 */
function needKubectl(): void {
  runPeer('kubectl', ['version', '--client'], { stdio: 'ignore' });
}

const rendered = new Map<string, Obj[]>();
function render(dir: string): Obj[] {
  let objects = rendered.get(dir);
  if (!objects) {
    const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    objects = parseAllDocuments(text).map((d) => d.toJS() as Obj).filter((o) => o !== null);
    rendered.set(dir, objects);
  }
  return objects;
}

/** The object of this kind named `namePrefix`, or (a generated ConfigMap) `namePrefix-<hash>`. */
function one(objects: Obj[], kind: string, namePrefix: string): Obj {
  const exact = objects.filter((o) => o.kind === kind && o.metadata.name === namePrefix);
  const found = exact.length > 0 ? exact : objects.filter((o) => o.kind === kind && String(o.metadata.name).startsWith(`${namePrefix}-`));
  assert.equal(found.length, 1, `one ${kind} ${namePrefix}`);
  return found[0]!;
}

/** The floki config a workload runs: its ConfigMap's file named by `-c` under the config volume's mount. */
function flokiConfigOf(objects: Obj[], workload: Obj): { text: string; config: Obj; file: string } {
  const pod = workload.spec.template.spec;
  const container = pod.containers.find((c: Obj) => c.name === 'floki');
  const args: string[] = container.args;
  const file = args[args.indexOf('-c') + 1]!;
  const mount = container.volumeMounts.find((m: Obj) => file.startsWith(m.mountPath + '/'));
  assert.ok(mount, `the config file ${file} is under a mounted volume`);
  const volume = pod.volumes.find((v: Obj) => v.name === mount.name);
  assert.ok(volume.configMap, `${file} comes from a ConfigMap`);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name);
  assert.ok(configMap, `ConfigMap ${volume.configMap.name} exists (kustomize renamed the reference with the hash)`);
  const text = configMap.data[posix.relative(mount.mountPath, file)];
  assert.equal(typeof text, 'string', `${file} is a key of the ConfigMap`);
  return { text, config: parse(text) as Obj, file };
}

/** The mount holding `path`, and whether the container may write there. */
function mountOf(container: Obj, path: string): Obj | undefined {
  return [...container.volumeMounts]
    .sort((a: Obj, b: Obj) => b.mountPath.length - a.mountPath.length)
    .find((m: Obj) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/$/, '') + '/'));
}

function input(config: Obj, name: string): Obj {
  const found = (config.pipeline.inputs as Obj[]).filter((i) => i.name === name);
  assert.equal(found.length, 1, `one ${name} input`);
  return found[0]!;
}

function checkPodSecurity(workload: Obj): void {
  const pod = workload.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true, `${workload.metadata.name}: runAsNonRoot`);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  for (const c of pod.containers) {
    assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${c.name}: read-only root filesystem`);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] }, `${c.name}: every capability dropped, none added`);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${c.name}: requests and limits`);
  }
}

/** Probes and scrape annotations target the port floki's http_server listens on, at real paths (checked live below). */
function checkProbesAndScrape(workload: Obj, config: Obj): { probePaths: string[]; scrapePath: string } {
  const pod = workload.spec.template;
  const container = pod.spec.containers.find((c: Obj) => c.name === 'floki');
  assert.ok(isOn(config.service.http_server), 'http_server on');
  const port = config.service.http_port as number;
  const portOf = (p: number | string) => (typeof p === 'number' ? p : container.ports.find((x: Obj) => x.name === p).containerPort);
  const probePaths: string[] = [];
  for (const probe of [container.livenessProbe, container.readinessProbe]) {
    assert.equal(portOf(probe.httpGet.port), port, 'probe on service.http_port');
    probePaths.push(probe.httpGet.path);
  }
  const annotations = pod.metadata.annotations;
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  assert.equal(Number(annotations['prometheus.io/port']), port);
  return { probePaths, scrapePath: annotations['prometheus.io/path'] };
}

test('configs/kubernetes renders with kubectl kustomize: namespace floki, least RBAC, locked-down pods, one floki image', () => {
  needKubectl();
  const objects = render(KUBE);
  assert.deepEqual(objects.map((o) => o.kind).sort(), [
    'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'DaemonSet', 'Deployment', 'HorizontalPodAutoscaler', 'Namespace',
    'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'Service', 'ServiceAccount', 'ServiceAccount',
  ]);
  for (const o of objects) {
    if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) continue;
    assert.equal(o.metadata.namespace, 'floki', `${o.kind} ${o.metadata.name} in namespace floki`);
  }
  // The events input lists and watches Events: that is all the aggregator may do.
  const role = one(objects, 'ClusterRole', 'floki-events-reader');
  assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] }]);
  const binding = one(objects, 'ClusterRoleBinding', 'floki-events-reader');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'floki-aggregator', namespace: 'floki' }]);
  const aggregator = one(objects, 'Deployment', 'floki-aggregator');
  assert.equal(aggregator.spec.template.spec.serviceAccountName, 'floki-aggregator');
  // Its replicas elect the one that watches with a Lease: get, create, update, in its namespace only.
  const leases = one(objects, 'Role', 'floki-aggregator-leader-election');
  assert.equal(leases.metadata.namespace, 'floki');
  assert.deepEqual(leases.rules, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
  const leaseBinding = one(objects, 'RoleBinding', 'floki-aggregator-leader-election');
  assert.deepEqual(leaseBinding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'floki-aggregator-leader-election' });
  assert.deepEqual(leaseBinding.subjects, [{ kind: 'ServiceAccount', name: 'floki-aggregator', namespace: 'floki' }]);
  // The node agent's kubernetes filter reads pods and namespaces: get, list, watch, nothing more.
  const reader = one(objects, 'ClusterRole', 'floki-pod-metadata-reader');
  assert.deepEqual(reader.rules, [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }]);
  assert.deepEqual(one(objects, 'ClusterRoleBinding', 'floki-pod-metadata-reader').subjects, [{ kind: 'ServiceAccount', name: 'floki-node-agent', namespace: 'floki' }]);
  const agent = one(objects, 'DaemonSet', 'floki-node-agent');
  assert.equal(agent.spec.template.spec.serviceAccountName, 'floki-node-agent');
  assert.notEqual(agent.spec.template.spec.automountServiceAccountToken, false, 'the filter needs its token');
  assert.notEqual(one(objects, 'ServiceAccount', 'floki-node-agent').automountServiceAccountToken, false);

  for (const w of [agent, aggregator]) {
    checkPodSecurity(w);
    const container = w.spec.template.spec.containers[0];
    assert.match(container.image, /^floki:\d+\.\d+\.\d+$/);
    // ${LOKI_URL} in the config comes from the floki-env ConfigMap.
    const env = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === container.envFrom[0].configMapRef.name);
    assert.match(env!.data.LOKI_URL, /^https?:\/\//);
    assert.match(flokiConfigOf(objects, w).text, /url: \$\{LOKI_URL\}/);
  }
  const init = agent.spec.template.spec.initContainers[0];
  assert.deepEqual(init.securityContext.capabilities, { drop: ['ALL'], add: ['CHOWN'] }, 'the init container may only chown');
});

test('the node agent DaemonSet runs on every node and mounts what its config reads (read-only) and writes', () => {
  needKubectl();
  const objects = render(KUBE);
  const agent = one(objects, 'DaemonSet', 'floki-node-agent');
  const pod = agent.spec.template.spec;
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }], 'tolerates every taint');
  const container = pod.containers.find((c: Obj) => c.name === 'floki');
  const { text, config } = flokiConfigOf(objects, agent);
  assert.equal(text, readFileSync(join(KUBE, 'base', 'node-agent.floki.yaml'), 'utf8'));
  const tail = input(config, 'tail');
  assert.equal(tail.path, '/var/log/containers/*.log');
  assert.equal(tail.tag, 'kube.*');
  assert.equal(tail['multiline.parser'], 'cri, docker');
  // The kubernetes filter reads the tail's tags, before the event_exporter filter replaces exporter records.
  assert.deepEqual(config.pipeline.filters.map((f: Obj) => f.name), ['kubernetes', 'event_exporter']);
  const kubernetes = config.pipeline.filters[0];
  assert.equal(kubernetes.match, 'kube.*');
  assert.equal(kubernetes.kube_tag_prefix, `kube.${dirname(tail.path).slice(1).replace(/\//g, '.')}.`, 'the prefix the tail tag gives');
  assert.equal(kubernetes.kube_node_name, undefined, 'the node name comes from NODE_NAME');
  assert.deepEqual(container.env, [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }], 'NODE_NAME from the downward API');

  const volume = (m: Obj) => pod.volumes.find((v: Obj) => v.name === m.name);
  // Read: the log files (symlinks into /var/log/pods, under the same mount), from the node, read-only.
  const logs = mountOf(container, dirname(tail.path));
  assert.ok(logs, `${tail.path} is under a mount`);
  assert.equal(logs.readOnly, true);
  assert.equal(volume(logs).hostPath.path, '/var/log');
  assert.ok(mountOf(container, '/var/log/pods/ns_pod_uid/c/0.log') === logs, 'the symlinks\' targets are mounted too');
  // Written: positions and disk buffer, on the node (they outlive the pod), writable.
  for (const path of [tail.db as string, `${config.service['storage.path']}/x`]) {
    const m = mountOf(container, path);
    assert.ok(m, `${path} is under a mount`);
    assert.notEqual(m.readOnly, true, `${path} is writable`);
    assert.equal(volume(m).hostPath.path, '/var/lib/floki');
    assert.equal(volume(m).hostPath.type, 'DirectoryOrCreate');
  }
  const init = pod.initContainers[0];
  assert.ok(init.volumeMounts.some((m: Obj) => m.mountPath === '/var/lib/floki'), 'the init container prepares the state folder');
  assert.equal(pod.securityContext.runAsUser, 1000);
  assert.ok(pod.securityContext.supplementalGroups.includes(0), 'group 0 reads the runtime\'s 0640 log files');
  checkProbesAndScrape(agent, config);
});

test('the aggregator: container ports and Service match its inputs; the event-exporter overlay posts to its http input and drops the events input', () => {
  needKubectl();
  const objects = render(KUBE);
  const aggregator = one(objects, 'Deployment', 'floki-aggregator');
  const { text, config } = flokiConfigOf(objects, aggregator);
  assert.equal(text, readFileSync(join(KUBE, 'base', 'aggregator.floki.yaml'), 'utf8'));
  const container = aggregator.spec.template.spec.containers[0];
  const containerPort = (name: string) => container.ports.find((p: Obj) => p.name === name)?.containerPort;
  assert.equal(containerPort('forward'), input(config, 'forward').port);
  assert.equal(containerPort('http'), input(config, 'http').port);
  assert.equal(containerPort('http-metrics'), config.service.http_port);
  assert.equal(input(config, 'forward').listen, '0.0.0.0');
  // Several replicas: the events input watches on the Lease holder only, keeping its checkpoint there (no db).
  const events = input(config, 'kubernetes_events');
  assert.ok(isOn(events.leader_election), 'leader_election on');
  assert.equal(events.db, undefined);
  assert.deepEqual(container.env, [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }], 'each replica is named on the Lease by its pod');
  assert.ok(aggregator.spec.replicas >= 2, 'two replicas at least');
  const selector = aggregator.spec.selector.matchLabels;
  const antiAffinity = aggregator.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
  assert.equal(antiAffinity.topologyKey, 'kubernetes.io/hostname', 'replicas spread over nodes');
  assert.deepEqual(antiAffinity.labelSelector.matchLabels, selector);
  const pdb = one(objects, 'PodDisruptionBudget', 'floki-aggregator');
  assert.deepEqual(pdb.spec.selector.matchLabels, selector);
  assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < aggregator.spec.replicas, 'a drain takes one replica at a time, and can take one');
  const hpa = one(objects, 'HorizontalPodAutoscaler', 'floki-aggregator');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'floki-aggregator' });
  assert.equal(hpa.spec.minReplicas, aggregator.spec.replicas);
  assert.ok(hpa.spec.maxReplicas > hpa.spec.minReplicas);
  assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  assert.ok(container.resources.requests.cpu, 'CPU utilization is measured against the request');
  const grace = Number(config.service.grace);
  assert.ok(aggregator.spec.template.spec.terminationGracePeriodSeconds > grace, 'the pod is given service.grace to deliver and hand the Lease over');
  // The disk buffer: under a writable mount, its volume large enough for storage.total_limit_size.
  const storage = mountOf(container, `${config.service['storage.path']}/x`);
  assert.ok(storage && storage.readOnly !== true, 'storage.path is writable');
  const volume = aggregator.spec.template.spec.volumes.find((v: Obj) => v.name === storage.name);
  assert.ok(parseQuantity(volume.emptyDir.sizeLimit) > parseQuantity(config.pipeline.outputs[0]['storage.total_limit_size']), 'the volume holds the disk buffer');
  const headless = one(objects, 'Service', 'floki-aggregator-headless');
  assert.equal(headless.spec.clusterIP, 'None');
  assert.deepEqual(headless.spec.selector, selector);
  assert.equal(containerPort(headless.spec.ports[0].targetPort), input(config, 'forward').port);
  const service = one(objects, 'Service', 'floki-aggregator');
  assert.deepEqual(service.spec.selector, aggregator.spec.selector.matchLabels);
  const servicePorts = Object.fromEntries(service.spec.ports.map((p: Obj) => [p.name, p]));
  assert.equal(servicePorts.forward.port, 24224);
  assert.equal(containerPort(servicePorts.forward.targetPort), 24224);
  assert.equal(containerPort(servicePorts.http.targetPort), input(config, 'http').port);
  checkProbesAndScrape(aggregator, config);

  const withExporter = render(join(KUBE, 'event-exporter'));
  const exporter = one(withExporter, 'Deployment', 'event-exporter');
  checkPodSecurity(exporter);
  const exporterConfigMap = withExporter.find((o) => o.kind === 'ConfigMap' && o.metadata.name === exporter.spec.template.spec.volumes[0].configMap.name);
  const exporterConfig = parse(exporterConfigMap!.data['config.yaml']) as Obj;
  const webhook = new URL(exporterConfig.receivers[0].webhook.endpoint);
  assert.equal(exporterConfig.receivers[0].webhook.layout, undefined, 'no layout: the body is the event JSON');
  assert.equal(webhook.hostname, `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`);
  assert.equal(Number(webhook.port), servicePorts.http.port);
  assert.equal(webhook.pathname, '/kube.events');
  const replaced = flokiConfigOf(withExporter, one(withExporter, 'Deployment', 'floki-aggregator')).config;
  assert.deepEqual(replaced.pipeline.inputs.map((i: Obj) => i.name), ['forward', 'http'], 'each event reaches Loki once: no events input beside the exporter');
  assert.deepEqual(replaced.pipeline.outputs, config.pipeline.outputs, 'and the same labels as without the exporter');
  assert.equal(withExporter.length, objects.length + 4);
});

/**
 * `config` with its listening ports replaced by 0 and its state paths moved into `dir`. `ports` reads,
 * once floki started, the ports it got: `http_server` and each listening input by plugin name.
 */
function runnable(config: Obj, dir: string, extra: (c: Obj) => void = () => {}): { text: string; ports: (floki: FlokiProcess) => Record<string, number> } {
  const doc = parseDocument(YAMLText(config));
  doc.setIn(['service', 'http_listen'], '127.0.0.1');
  doc.setIn(['service', 'http_port'], 0);
  if (config.service['storage.path']) doc.setIn(['service', 'storage.path'], join(dir, 'storage'));
  const listening: [string, string][] = [];
  const counts = new Map<string, number>();
  (config.pipeline.inputs as Obj[]).forEach((i, n) => {
    const k = counts.get(i.name) ?? 0;
    counts.set(i.name, k + 1);
    if (i.port !== undefined) {
      doc.setIn(['pipeline', 'inputs', n, 'listen'], '127.0.0.1');
      doc.setIn(['pipeline', 'inputs', n, 'port'], 0);
      listening.push([i.name, i.alias ?? `${i.name}.${k}`]);
    }
    if (i.db !== undefined) doc.setIn(['pipeline', 'inputs', n, 'db'], join(dir, `${i.name}.db`));
  });
  const js = doc.toJS() as Obj;
  extra(js);
  const ports = (floki: FlokiProcess): Record<string, number> => ({
    http_server: floki.port('service'),
    ...Object.fromEntries(listening.map(([name, instance]) => [name, floki.port(instance)])),
  });
  return { text: YAMLText(js), ports };
}

/** A Kubernetes quantity or a floki size, in bytes: 1536Mi, 1G. */
function parseQuantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i?)?B?$/i.exec(String(q));
  assert.ok(m, `a quantity: ${q}`);
  const unit = (m[2] ?? '').toUpperCase();
  const power = ' KMGT'.indexOf(unit[0] ?? ' ');
  return Number(m[1]) * (unit.endsWith('I') || unit.length === 1 ? 1024 : 1000) ** Math.max(0, power);
}

function YAMLText(value: unknown): string {
  return parseDocument(JSON.stringify(value)).toString();
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

function sendForward(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

test('floki on the rendered aggregator config: probe and scrape paths answer, and an event gets the same labels whichever way it comes in', async (t) => {
  needKubectl();
  const objects = render(KUBE);
  const aggregator = one(objects, 'Deployment', 'floki-aggregator');
  const { config } = flokiConfigOf(objects, aggregator);
  const { probePaths, scrapePath } = checkProbesAndScrape(aggregator, config);

  const dir = mkdtempSync(join(tmpdir(), 'floki-aggregator-'));
  const api = await KubeApiServer.start(['token']);
  const loki = await LokiReceiver.start();
  writeFileSync(join(dir, 'token'), 'token');
  // The events input is pointed at the API server stand-in; everything else is the rendered config.
  const { text, ports: portsOf } = runnable(config, dir, (c) => {
    Object.assign((c.pipeline.inputs as Obj[]).find((i) => i.name === 'kubernetes_events')!, { kube_url: api.url, kube_ca_file: api.caFile, kube_token_file: join(dir, 'token') });
    c.pipeline.outputs[0].batch_wait = '50ms';
  });
  const floki = FlokiProcess.withConfig(text, { LOKI_URL: loki.url });
  t.after(async () => {
    await floki.stop();
    await loki.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await floki.ready();
  const ports = portsOf(floki);
  for (const path of probePaths) assert.deepEqual(await get(ports.http_server, path), { status: 200, text: 'ok' }, `probe ${path}`);
  const scraped = await get(ports.http_server, scrapePath);
  assert.equal(scraped.status, 200);
  assert.match(scraped.text, /^# TYPE floki_input_records_total counter$/m);

  // One event, three ways: from the API server, as the exporter's webhook body, as the exporter's log line tailed by Fluent Bit.
  const event = api.add(kubeEvent(7, { namespace: 'payments', reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "certs" : secret "tls" not found' }));
  const json = JSON.stringify(exporterRecord(event));
  await loki.waitFor(1, 10_000);
  const webhook = await fetch(`http://127.0.0.1:${ports.http}/kube.events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: json });
  assert.equal(webhook.status, 201);
  const kubernetes = (pod: string, namespace: string, container: string) => ({
    pod_name: pod, namespace_name: namespace, pod_id: 'p', labels: { 'app.kubernetes.io/name': container, 'app.kubernetes.io/component': 'web' }, host: 'worker-2', container_name: container, docker_id: 'abc', container_hash: 'h', container_image: 'img',
  });
  const at = Math.floor(Date.now() / 1000);
  await sendForward(ports.forward, cat(arr(2), str('kube.var.log.containers.event-exporter-6d5b9c7f4-x2x9q_monitoring_event-exporter-abc.log'), arr(2),
    entry(eventTime(at, 1), { time: '2026-11-25T10:00:00.000000001Z', stream: 'stdout', _p: 'F', log: json, kubernetes: kubernetes('event-exporter-6d5b9c7f4-x2x9q', 'monitoring', 'event-exporter') }),
    entry(eventTime(at, 2), { time: '2026-11-25T10:00:00.000000002Z', stream: 'stderr', _p: 'F', log: 'GET /healthz 200 1ms', kubernetes: kubernetes('api-7d9f8b6c5-xk2lp', 'shop', 'api') }),
  ));
  await loki.waitFor(4, 10_000);

  const eventLabels = { job: 'floki', type: 'Warning', reason: 'FailedMount', kind: 'Pod', namespace: 'payments' };
  const events = loki.entries.filter((e) => e.line === json);
  assert.equal(events.length, 3, 'the event from each of the three ways, with the same line');
  for (const e of events) assert.deepEqual(e.labels, eventLabels);
  const log = loki.entries.find((e) => e.line === 'GET /healthz 200 1ms');
  assert.ok(log, "a container's line is its own text");
  assert.deepEqual(log.labels, { job: 'floki', namespace: 'shop', app: 'api', component: 'web', pod: 'api-7d9f8b6c5-xk2lp', container: 'api', stream: 'stderr' });
});

/** This node's pods at an API server stand-in, and their CRI logs in `dir`/containers, as a node agent would find them. */
async function nodeWithPods(t: TestContext, dir: string): Promise<{ api: KubeApiServer; logs: string; apiPod: PodSpec }> {
  const api = await KubeApiServer.start(['token']);
  t.after(() => api.close());
  writeFileSync(join(dir, 'token'), 'token');
  api.putNamespace(kubeNamespace('shop'));
  const apiPod: PodSpec = { namespace: 'shop', name: 'api-7d9f8b6c5-xk2lp', node: 'worker-1', labels: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/component': 'backend' }, containers: [{ name: 'api', image: 'api:1', id: containerId('api') }] };
  const quiet: PodSpec = { namespace: 'shop', name: 'noisy-6b7c8d9f0-zz9yy', node: 'worker-1', annotations: { 'fluentbit.io/exclude': 'true' }, containers: [{ name: 'noisy', image: 'busybox', id: containerId('noisy') }] };
  const legacy: PodSpec = { namespace: 'shop', name: 'web-0', node: 'worker-1', labels: { app: 'web' }, containers: [{ name: 'web', image: 'nginx', id: containerId('web') }] };
  for (const p of [apiPod, quiet, legacy]) api.putPod(kubePod(p));
  const logs = join(dir, 'containers');
  mkdirSync(logs);
  const file = (p: PodSpec) => join(logs, `${p.name}_${p.namespace}_${p.containers[0]!.name}-${p.containers[0]!.id}.log`);
  const now = new Date().toISOString().replace('Z', '000000Z').replace(/\.(\d{9})\d*Z$/, '.$1Z');
  writeFileSync(file(apiPod), `${now} stdout F GET /healthz 200 1ms\n${now} stderr F {"level":"warn","msg":"slow"}\n`);
  writeFileSync(file(quiet), `${now} stdout F tick\n`);
  writeFileSync(file(legacy), `${now} stdout F GET / 200\n`);
  return { api, logs, apiPod };
}

/** The node agent's config run on the stand-in: tail `logs`, the kubernetes filter on `api`. */
function nodeAgentRunnable(config: Obj, dir: string, api: KubeApiServer, logs: string, extra: (c: Obj) => void = () => {}) {
  return runnable(config, dir, (c) => {
    Object.assign((c.pipeline.inputs as Obj[])[0]!, { path: join(logs, '*.log'), read_from_head: 'on' });
    Object.assign((c.pipeline.filters as Obj[])[0]!, { kube_url: api.url, kube_ca_file: api.caFile, kube_token_file: join(dir, 'token'), kube_tag_prefix: `kube.${logs.slice(1).replace(/\//g, '.')}.` });
    extra(c);
  });
}

/** What Loki got from the pods of nodeWithPods, as the node agent labels them, directly or through an aggregator. */
function assertPodLines(entries: { line: string; labels: Record<string, string> }[], apiPod: PodSpec): void {
  const byLine = Object.fromEntries(entries.map((e) => [e.line, e.labels]));
  const labels = { job: 'floki', namespace: 'shop', app: 'api', component: 'backend', pod: apiPod.name, container: 'api' };
  assert.deepEqual(byLine['GET /healthz 200 1ms'], { ...labels, stream: 'stdout' }, "the container's own line, labelled from its pod");
  assert.deepEqual(byLine['{"level":"warn","msg":"slow"}'], { ...labels, stream: 'stderr' }, 'a JSON line stays the line (merge_log off)');
  assert.deepEqual(byLine['GET / 200'], { job: 'floki', namespace: 'shop', pod: 'web-0', container: 'web', stream: 'stdout' }, 'no app.kubernetes.io labels: no app, no component');
  assert.equal(byLine.tick, undefined, 'fluentbit.io/exclude: the pod opted out');
  assert.equal(entries.length, 3);
}

test("floki on the rendered node agent config: --dry-run, probe paths, and container lines labelled from their pod's metadata", async (t) => {
  needKubectl();
  const objects = render(KUBE);
  const agent = one(objects, 'DaemonSet', 'floki-node-agent');
  const { text: original, config } = flokiConfigOf(objects, agent);
  const dir = mkdtempSync(join(tmpdir(), 'floki-node-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dry = FlokiProcess.withConfig(original, { LOKI_URL: 'http://127.0.0.1:3100' }, ['--dry-run']);
  assert.equal(await dry.wait(), 0, dry.stderr);
  await dry.stop();

  const { api, logs, apiPod } = await nodeWithPods(t, dir);
  const { probePaths, scrapePath } = checkProbesAndScrape(agent, config);
  const { text, ports: portsOf } = nodeAgentRunnable(config, dir, api, logs, (c) => (c.pipeline.outputs[0].batch_wait = '50ms'));
  const lokiReceiver = await LokiReceiver.start();
  const floki = FlokiProcess.withConfig(text, { LOKI_URL: lokiReceiver.url, NODE_NAME: 'worker-1' });
  t.after(async () => {
    await floki.stop();
    await lokiReceiver.close();
  });
  await floki.ready();
  const ports = portsOf(floki);
  for (const path of [...probePaths, scrapePath]) assert.equal((await get(ports.http_server, path)).status, 200, path);

  await lokiReceiver.waitFor(3, 10_000);
  assertPodLines(lokiReceiver.entries, apiPod);
  const podLists = api.requests.filter((r) => r.path === '/api/v1/pods');
  assert.deepEqual(podLists.map((r) => `${r.watch ? 'watch' : 'list'} ${r.query.get('fieldSelector')}`), ['list spec.nodeName=worker-1', 'watch spec.nodeName=worker-1'], "this node's pods, listed and watched");
});

test('the forward-to-aggregator overlay: node agents without LOKI_URL forward to the aggregator Service with acks; Loki gets the same streams and lines', async (t) => {
  needKubectl();
  const base = render(KUBE);
  const objects = render(join(KUBE, 'forward-to-aggregator'));
  assert.deepEqual(objects.map((o) => `${o.kind}`).sort(), base.map((o) => `${o.kind}`).sort(), 'the same objects as the default install');
  const agent = one(objects, 'DaemonSet', 'floki-node-agent');
  const container = agent.spec.template.spec.containers.find((c: Obj) => c.name === 'floki');
  assert.equal(container.envFrom, undefined, 'no floki-env (LOKI_URL) in the node agent');
  const { text: agentText, config: agentConfig } = flokiConfigOf(objects, agent);
  assert.doesNotMatch(agentText, /LOKI_URL/);
  const forward = agentConfig.pipeline.outputs[0];
  const service = one(objects, 'Service', 'floki-aggregator');
  assert.equal(forward.name, 'forward');
  assert.equal(forward.host, `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`);
  assert.equal(forward.port, service.spec.ports.find((p: Obj) => p.name === 'forward').port);
  assert.ok(isOn(forward.require_ack_response), 'acked frames only');
  assert.equal(forward['storage.type'], 'filesystem', 'a disk buffer on the node');
  const aggregator = one(objects, 'Deployment', 'floki-aggregator');
  assert.deepEqual(flokiConfigOf(objects, aggregator).config, flokiConfigOf(base, one(base, 'Deployment', 'floki-aggregator')).config, 'the aggregators as in the default install');

  // Run both: the node agent forwards to the aggregator, which labels and ships to Loki.
  const dir = mkdtempSync(join(tmpdir(), 'floki-forward-overlay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { api, logs, apiPod } = await nodeWithPods(t, dir);
  const lokiReceiver = await LokiReceiver.start();
  t.after(() => lokiReceiver.close());
  mkdirSync(join(dir, 'aggregator'));
  const { text: aggregatorText, ports: aggregatorPorts } = runnable(flokiConfigOf(objects, aggregator).config, join(dir, 'aggregator'), (c) => {
    Object.assign((c.pipeline.inputs as Obj[]).find((i) => i.name === 'kubernetes_events')!, { kube_url: api.url, kube_ca_file: api.caFile, kube_token_file: join(dir, 'token') });
    c.pipeline.outputs[0].batch_wait = '50ms';
  });
  const aggregatorFloki = FlokiProcess.withConfig(aggregatorText, { LOKI_URL: lokiReceiver.url, POD_NAME: 'floki-aggregator-0' });
  t.after(() => aggregatorFloki.stop());
  await aggregatorFloki.ready();
  mkdirSync(join(dir, 'agent'));
  const { text } = nodeAgentRunnable(agentConfig, join(dir, 'agent'), api, logs, (c) => Object.assign(c.pipeline.outputs[0], { host: '127.0.0.1', port: aggregatorPorts(aggregatorFloki).forward }));
  writeFileSync(join(dir, 'agent', 'token'), 'token');
  const floki = FlokiProcess.withConfig(text, { NODE_NAME: 'worker-1' });
  t.after(() => floki.stop());
  await floki.ready();
  await lokiReceiver.waitFor(3, 15_000);
  assertPodLines(lokiReceiver.entries, apiPod);
});

test('configs/floki.yaml, the image default: passes --dry-run with LOKI_URL set, names LOKI_URL without it', async () => {
  const file = join(ROOT, 'configs', 'floki.yaml');
  const ok = new FlokiProcess(['-c', file, '--dry-run'], { LOKI_URL: 'http://loki:3100' });
  assert.equal(await ok.wait(), 0, ok.stderr);
  assert.equal(ok.stdout, 'config ok\n');
  const missing = new FlokiProcess(['-c', file, '--dry-run'], { LOKI_URL: undefined });
  assert.equal(await missing.wait(), 1);
  assert.match(missing.stderr, /variable 'LOKI_URL' is not set/);
  const config = parse(readFileSync(file, 'utf8')) as Obj;
  assert.ok(isOn(config.service.http_server));
  assert.deepEqual([config.service.http_listen, config.service.http_port], ['0.0.0.0', 2020]);
  assert.deepEqual(config.pipeline.inputs.map((i: Obj) => [i.name, i.listen, i.port]), [['forward', '0.0.0.0', 24224], ['http', '0.0.0.0', 9880]]);
  assert.deepEqual(config.pipeline.filters.map((f: Obj) => f.name), ['event_exporter']);
  assert.equal(config.pipeline.outputs[0].url, '${LOKI_URL}');
  // Labels as the Kubernetes configs have them, so the same image config fits behind Fluent Bit.
  const aggregator = parse(readFileSync(join(KUBE, 'base', 'aggregator.floki.yaml'), 'utf8')) as Obj;
  const labelling = (o: Obj) => ({ match: o.match, url: o.url, labels: o.labels, label_keys: o.label_keys, remove_keys: o.remove_keys, drop_single_key: o.drop_single_key });
  assert.deepEqual(config.pipeline.outputs.map(labelling), aggregator.pipeline.outputs.map(labelling));
});

test('configs/fluent-bit: tails what the node agent tails and forwards to the aggregator Service, keeping `log` a string', () => {
  const fb = parse(readFileSync(join(ROOT, 'configs', 'fluent-bit', 'fluent-bit.yaml'), 'utf8')) as Obj;
  const node = parse(readFileSync(join(KUBE, 'base', 'node-agent.floki.yaml'), 'utf8')) as Obj;
  const tail = fb.pipeline.inputs.find((i: Obj) => i.name === 'tail');
  assert.equal(tail.path, input(node, 'tail').path);
  assert.equal(tail.tag, input(node, 'tail').tag);
  const kubernetes = fb.pipeline.filters.find((f: Obj) => f.name === 'kubernetes');
  assert.equal(isOn(kubernetes.merge_log), false, "merge_log off: the exporter's JSON stays in `log`, as printed");
  const forward = fb.pipeline.outputs.find((o: Obj) => o.name === 'forward');
  const service = parseAllDocuments(readFileSync(join(KUBE, 'base', 'aggregator.yaml'), 'utf8')).map((d) => d.toJS() as Obj).find((o) => o.kind === 'Service')!;
  assert.equal(forward.host, `${service.metadata.name}.floki.svc.cluster.local`);
  assert.equal(forward.port, service.spec.ports.find((p: Obj) => p.name === 'forward').port);
  const aggregator = parse(readFileSync(join(KUBE, 'base', 'aggregator.floki.yaml'), 'utf8')) as Obj;
  assert.equal(input(aggregator, 'forward').port, forward.port);
});
