// An API-server stand-in for the node-agent workload: plain HTTP (the kubernetes filter of floki and of
// Fluent Bit both take an http:// kube_url), a bearer token, and the few requests a kubernetes filter
// makes for a node's pods:
//
// - list `GET /api/v1/pods?fieldSelector=spec.nodeName=<node>` (floki with a node name), `limit` and
//   `continue` honoured;
// - watch `...&watch=1&resourceVersion=N`: nothing changes during a run, so the watch stays open without
//   a line until its `timeoutSeconds` (or the stand-in closes);
// - get `GET /api/v1/namespaces/<ns>/pods/<name>` (Fluent Bit: one per pod) and
//   `GET /api/v1/namespaces/<name>`;
// - anything without the token: a 401 Status, as the API server answers.
//
// The pods are those of the bench's CRI files (tail-load.js), read back from the kubelet file names
// `<pod>_<namespace>_<container>-<64 hex id>.log`, shaped as the API server stores them (labels,
// annotations, an owner, managedFields, container statuses with the container id). Every request is
// counted by kind, so a run can say how many it made.
//
// Runs in its own process (forkKubeApiServer) beside the process under test, as the sink does: never on
// the runner's event loop. `startKubeApiServer` runs it in the current process (tests).

import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const NODE_NAME = 'bench-node-1';
const CREATED = '2026-11-25T09:00:00Z';
const LINK = /^(?<pod>[a-z0-9][-a-z0-9.]*)_(?<namespace>[^_]+)_(?<container>.+)-(?<id>[a-f0-9]{64})\.log$/;

const hex = (seed, n) => createHash('sha256').update(seed).digest('hex').slice(0, n);

/** The pods of a tail manifest's files: { namespace, name, container, id } read from each link name. */
export function podsOfManifest(manifest) {
  return manifest.files.map(({ link }) => {
    const m = LINK.exec(link);
    if (!m) throw new Error(`not a kubelet container log name: ${link}`);
    return { namespace: m.groups.namespace, name: m.groups.pod, container: m.groups.container, id: m.groups.id };
  });
}

/** A Pod as the API server stores it (no kind/apiVersion: list items have none). */
export function podObject({ namespace, name, container, id }, nodeName = NODE_NAME) {
  const app = container;
  const hash = hex(`rs ${namespace}/${name}`, 10);
  const owner = `${app}-${hash}`;
  const image = `registry.example.com/${namespace}/${app}:1.${parseInt(hex(name, 2), 16) % 40}.3`;
  return {
    metadata: {
      name,
      generateName: `${owner}-`,
      namespace,
      uid: `${hex(`uid ${namespace}/${name}`, 8)}-0000-4000-8000-${hex(name, 12)}`,
      resourceVersion: '100',
      creationTimestamp: CREATED,
      labels: { app, 'app.kubernetes.io/name': app, 'app.kubernetes.io/component': 'backend', 'pod-template-hash': hash, team: namespace.split('-')[0] },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T08:59:00Z', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `${hex(owner, 8)}-0000-4000-8000-${hex(owner, 12)}`, controller: true, blockOwnerDeletion: true }],
      managedFields: [
        { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: CREATED, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app': {} }, 'f:ownerReferences': {} } } },
        { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: CREATED, fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:containerStatuses': {}, 'f:podIP': {} } } },
      ],
    },
    spec: {
      volumes: [{ name: 'kube-api-access', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } }],
      containers: [
        {
          name: container,
          image,
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'LOG_FORMAT', value: 'json' }, { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
          resources: { limits: { memory: '512Mi' }, requests: { cpu: '100m', memory: '256Mi' } },
          volumeMounts: [{ name: 'kube-api-access', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName,
      securityContext: {},
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: CREATED }],
      hostIP: '10.0.0.12',
      podIP: `10.244.1.${(parseInt(hex(name, 2), 16) % 250) + 2}`,
      podIPs: [{ ip: `10.244.1.${(parseInt(hex(name, 2), 16) % 250) + 2}` }],
      startTime: CREATED,
      containerStatuses: [
        {
          name: container,
          state: { running: { startedAt: CREATED } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image,
          imageID: `${image.replace(/:[^:/]+$/, '')}@sha256:${hex(image, 64)}`,
          containerID: `containerd://${id}`,
          started: true,
        },
      ],
      qosClass: 'Burstable',
    },
  };
}

function namespaceObject(name) {
  return {
    metadata: { name, uid: `${hex(`ns ${name}`, 8)}-0000-4000-8000-${hex(name, 12)}`, resourceVersion: '10', creationTimestamp: '2026-11-01T00:00:00Z', labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function status(code, reason, message) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * Starts the stand-in in this process. `pods`: [{ namespace, name, container, id }] (podsOfManifest),
 * all on `nodeName`. Returns { port, url, stats(), close() }; stats counts requests by kind.
 */
export function startKubeApiServer({ pods, token, nodeName = NODE_NAME, port = 0 }) {
  const objects = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, podObject(p, nodeName)]));
  const namespaces = new Map([...new Set(pods.map((p) => p.namespace))].map((n) => [n, namespaceObject(n)]));
  const counts = { list: 0, watch: 0, getPod: 0, getNamespace: 0, unauthorized: 0, notFound: 0 };
  const watches = new Set();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code, body) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) {
      counts.unauthorized++;
      return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
    if (m) {
      counts.getPod++;
      const pod = objects.get(`${m[1]}/${m[2]}`);
      if (!pod) counts.notFound++;
      return pod ? send(200, { kind: 'Pod', apiVersion: 'v1', ...pod }) : send(404, status(404, 'NotFound', `pods "${m[2]}" not found`));
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(url.pathname);
    if (m) {
      counts.getNamespace++;
      const ns = namespaces.get(m[1]);
      if (!ns) counts.notFound++;
      return ns ? send(200, { kind: 'Namespace', apiVersion: 'v1', ...ns }) : send(404, status(404, 'NotFound', `namespaces "${m[1]}" not found`));
    }
    if (url.pathname === '/api/v1/pods') {
      const field = url.searchParams.get('fieldSelector') ?? '';
      const node = /^spec\.nodeName=(.*)$/.exec(field)?.[1];
      if (field !== '' && node === undefined) return send(400, status(400, 'BadRequest', `field label not supported: ${field}`));
      const watch = url.searchParams.get('watch');
      if (watch === '1' || watch === 'true') {
        counts.watch++;
        // Nothing changes during a run: the watch stays open, silent, until its timeout.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders();
        const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
        const w = { res, timer: timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined };
        watches.add(w);
        res.on('close', () => {
          clearTimeout(w.timer);
          watches.delete(w);
        });
        return;
      }
      counts.list++;
      const items = [...objects.values()].filter((p) => node === undefined || p.spec.nodeName === node);
      const limit = Number(url.searchParams.get('limit') ?? '0');
      const offset = Number(url.searchParams.get('continue') ?? '0');
      const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
      const next = limit > 0 && offset + limit < items.length ? String(offset + limit) : undefined;
      return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '100', ...(next ? { continue: next } : {}) }, items: page });
    }
    counts.notFound++;
    send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      resolve({
        port: bound,
        url: `http://127.0.0.1:${bound}`,
        stats: () => ({ ...counts }),
        close: () =>
          new Promise((r) => {
            for (const w of watches) w.res.destroy();
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Forks the stand-in as a child process; same options. Returns { port, url, stats(), close() }. */
export async function forkKubeApiServer(options) {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies = [];
  let exited = false;
  const exit = new Promise((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      for (const r of replies.splice(0)) r.reject(new Error(`the API-server stand-in exited (code ${code})`));
      resolve();
    }),
  );
  child.on('message', (m) => {
    const r = replies.shift();
    if (!r) return;
    if (m.type === 'error') r.reject(new Error(m.message));
    else r.resolve(m.value);
  });
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error('the API-server stand-in has exited'));
      replies.push({ resolve, reject });
      child.send(msg);
    });
  const { port, url } = await ask({ type: 'start', options });
  return {
    port,
    url,
    stats: () => ask({ type: 'stats' }),
    close: async () => {
      if (!exited) child.send({ type: 'close' });
      await exit;
    },
  };
}

if (process.argv.includes('--child') && process.send) {
  let api;
  process.on('message', async (m) => {
    try {
      if (m.type === 'start') {
        api = await startKubeApiServer(m.options);
        process.send({ type: 'reply', value: { port: api.port, url: api.url } });
      } else if (m.type === 'stats') process.send({ type: 'reply', value: api.stats() });
      else if (m.type === 'close') {
        await api?.close();
        process.exit(0);
      }
    } catch (err) {
      process.send({ type: 'error', message: err.message });
    }
  });
  process.on('disconnect', () => process.exit(0));
}
