/**
 * A stand-in for the Kubernetes API server (and a kubelet's `/pods`), over HTTPS with a certificate made
 * at test time, for the kubernetes_events input and the kubernetes filter. It keeps Events, Pods and
 * Namespaces with resourceVersions from one counter, as etcd does, and serves:
 *
 * - list: `GET /api/v1/events`, `/api/v1/pods`, `/api/v1/namespaces` (or namespaced:
 *   `/api/v1/namespaces/<ns>/events|pods`) with `limit` and `continue`, and for pods the
 *   `fieldSelector=spec.nodeName=<node>` a node agent uses;
 * - watch: `?watch=1&resourceVersion=N`: every change after N, then changes as they happen, one JSON
 *   object per line in a chunked response; optionally each line cut into pieces written separately,
 *   with a cut inside a multi-byte character; `ERROR` with a 410 Status when N was compacted away;
 *   `BOOKMARK`s on demand; `timeoutSeconds` honoured; with a field selector, an object that starts or
 *   stops matching is ADDED or DELETED;
 * - get: `/api/v1/namespaces/<ns>/pods/<name>`, `/api/v1/namespaces/<name>` (404 Status when missing);
 * - Leases (`coordination.k8s.io/v1`, leader election): GET, POST (409 AlreadyExists when there is
 *   one) and PUT (409 Conflict unless the body's metadata.resourceVersion is the stored one), with
 *   resourceVersions from the same counter;
 * - the kubelet's `/pods`: a PodList of `kubeletNode`'s pods;
 * - bearer tokens: anything else is a 401 Status, as the API server answers;
 * - failures on demand: `intercept` (an outage, 403, 404..., for one client by its token: a network
 *   partition), `latencyMs`, `respondNext`.
 *
 * Every request is logged (path, query, token, status) so tests can check and count what was asked.
 */
import { runPeer } from './peers.js';
import { LEASE_PATH, LeaseStore } from './kube-leases.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1 made with the openssl command (an EC key: fast), in a temporary folder. */
export function selfSignedCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'floki-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  runPeer(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { dir, certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type KubeObject = Record<string, unknown> & { metadata: Record<string, unknown> };

/** The resources the stand-in keeps. */
export type Resource = 'events' | 'pods' | 'namespaces';

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  token: string | undefined;
  status: number;
  watch: boolean;
}

/** What `intercept` may answer instead of the stand-in: a status and body, or `drop` (the connection is cut, as a server that is down). */
export type Interception = { status: number; body: unknown } | 'drop' | undefined;

interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: Resource;
  object: KubeObject;
  /** The object before a MODIFIED or DELETED change, so a watch with a field selector can tell entering from leaving. */
  previous: KubeObject | undefined;
}

/** What one list or watch asks for. */
interface Selection {
  resource: Resource;
  namespace: string | undefined;
  /** `spec.nodeName=<node>` of a pods fieldSelector. */
  nodeName: string | undefined;
}

interface OpenWatch {
  res: ServerResponse;
  selection: Selection;
  /** Writes are chained so the pieces of consecutive lines never interleave. */
  writing: Promise<void>;
  timer?: NodeJS.Timeout;
}

const KINDS: Record<Resource, string> = { events: 'Event', pods: 'Pod', namespaces: 'Namespace' };

/**
 * The API server stand-in. Events are added, modified and removed by uid (`add`, `modify`, `remove`), pods and
 * namespaces by name (`putPod`, `deletePod`, `putNamespace`); all share one resourceVersion counter.
 */
export class KubeApiServer {
  readonly requests: LoggedRequest[] = [];
  /** Tokens accepted; the test rotates them. */
  readonly tokens: Set<string>;
  /** Cut each watch line into pieces written one by one. */
  splitLines = true;
  /** Answers every request after this many ms (a slow API server). */
  latencyMs = 0;
  /** Serve requests without a token too (an API server allowing anonymous reads), for configs that name no token file. */
  allowAnonymous = false;
  /** The node whose pods the kubelet's `/pods` lists (every pod when undefined). */
  kubeletNode: string | undefined;
  /** Consulted first for every request: answer it otherwise (an outage, 403, 404...); `token` tells clients apart. */
  intercept: ((path: string, query: URLSearchParams, token: string | undefined) => Interception) | undefined;
  private rv = 1000;
  private compactedBelow = 0;
  private readonly objects = new Map<string, KubeObject>();
  private readonly leases = new LeaseStore(() => String(++this.rv));
  private readonly history: Change[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly snapshots = new Map<string, KubeObject[]>();
  private readonly scripted: { status: number; body: unknown; path: RegExp | undefined }[] = [];
  private port_ = 0;
  private closing = false;

  private constructor(
    private readonly server: https.Server,
    readonly cert: TestCert,
    tokens: string[],
  ) {
    this.tokens = new Set(tokens);
  }

  static async start(tokens: string[]): Promise<KubeApiServer> {
    const cert = selfSignedCert();
    const server = https.createServer({ cert: cert.cert, key: cert.key });
    const api = new KubeApiServer(server, cert, tokens);
    server.on('request', (req, res) => api.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api.port_ = (server.address() as AddressInfo).port;
    return api;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port_}`;
  }

  get port(): number {
    return this.port_;
  }

  get caFile(): string {
    return this.cert.certFile;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Watch requests received so far. */
  get watchRequests(): LoggedRequest[] {
    return this.requests.filter((r) => r.watch);
  }

  /** Requests whose path matches (all when no pattern). */
  requestsTo(path?: RegExp): LoggedRequest[] {
    return path === undefined ? [...this.requests] : this.requests.filter((r) => path.test(r.path));
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Open watches of one resource. */
  openWatchesOf(resource: Resource): number {
    let n = 0;
    for (const w of this.watches) if (w.selection.resource === resource) n++;
    return n;
  }

  /** Resolves once every line queued on the open watches has been written to its socket. */
  async flushed(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.writing));
  }

  /** Answer the next request (list or watch; of a path matching `path`, when given) with this status and body instead. */
  respondNext(status: number, body: unknown, path?: RegExp): void {
    this.scripted.push({ status, body, path });
  }

  /** Stores a new event (its uid must be set), giving it the next resourceVersion; watchers see ADDED. */
  add(event: KubeObject): KubeObject {
    return this.change('events', 'ADDED', structuredClone(event));
  }

  /** Replaces a stored event by uid with `update(old)`, as a kubelet bumping count and lastTimestamp. */
  modify(uid: string, update: (old: KubeObject) => KubeObject): KubeObject {
    const old = this.objects.get(key('events', uid));
    if (!old) throw new Error(`no event ${uid}`);
    return this.change('events', 'MODIFIED', update(structuredClone(old)));
  }

  /** Removes an event (TTL expiry); watchers see DELETED. */
  remove(uid: string): void {
    const old = this.objects.get(key('events', uid));
    if (!old) throw new Error(`no event ${uid}`);
    this.change('events', 'DELETED', structuredClone(old));
  }

  /** Creates or replaces a pod (by namespace and name); watchers see ADDED or MODIFIED. */
  putPod(pod: KubeObject): KubeObject {
    return this.put('pods', pod);
  }

  /** Deletes a pod; watchers see DELETED, GETs answer 404. */
  deletePod(namespace: string, name: string): void {
    const old = this.objects.get(key('pods', `${namespace}/${name}`));
    if (!old) throw new Error(`no pod ${namespace}/${name}`);
    this.change('pods', 'DELETED', structuredClone(old));
  }

  /** Creates or replaces a namespace. */
  putNamespace(namespace: KubeObject): KubeObject {
    return this.put('namespaces', namespace);
  }

  /** The stored pod, as a GET would answer it. */
  pod(namespace: string, name: string): KubeObject | undefined {
    const pod = this.objects.get(key('pods', `${namespace}/${name}`));
    return pod === undefined ? undefined : structuredClone(pod);
  }

  /** The stored Lease, as a GET would answer it. */
  lease(namespace: string, name: string): KubeObject | undefined {
    return this.leases.get(namespace, name);
  }

  /** Replaces a stored Lease (as another client would), with a new resourceVersion. */
  putLease(namespace: string, name: string, update: (old: KubeObject | undefined) => KubeObject): KubeObject {
    return this.leases.put(namespace, name, update);
  }

  /** Sends a BOOKMARK at the current resourceVersion to every open watch (after a fresh version, as etcd moves on). */
  bookmark(): string {
    this.rv++;
    for (const w of this.watches) {
      const kind = KINDS[w.selection.resource];
      this.writeLine(w, JSON.stringify({ type: 'BOOKMARK', object: { kind, apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } }));
    }
    return String(this.rv);
  }

  /** etcd compaction (and a write after it): watches from any version before now get 410 Gone; a new list's version is fine. */
  compact(): void {
    this.rv++;
    this.compactedBelow = this.rv;
  }

  /** Cuts every open watch connection (a load balancer dropping it). */
  dropWatches(): void {
    for (const w of this.watches) {
      clearTimeout(w.timer);
      w.res.socket?.destroy();
    }
    this.watches.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cert.remove();
  }

  private put(resource: 'pods' | 'namespaces', object: KubeObject): KubeObject {
    const copy = structuredClone(object);
    copy.metadata.uid ??= `uid-${resource}-${copy.metadata.namespace ?? ''}-${copy.metadata.name as string}`;
    return this.change(resource, this.objects.has(key(resource, nameKey(resource, copy))) ? 'MODIFIED' : 'ADDED', copy);
  }

  private change(resource: Resource, type: Change['type'], object: KubeObject): KubeObject {
    const id = key(resource, resource === 'events' ? (object.metadata.uid as string) : nameKey(resource, object));
    const previous = this.objects.get(id);
    this.rv++;
    object.metadata.resourceVersion = String(this.rv);
    if (type === 'DELETED') this.objects.delete(id);
    else this.objects.set(id, object);
    const change: Change = { rv: this.rv, type, resource, object: structuredClone(object), previous: previous && structuredClone(previous) };
    this.history.push(change);
    for (const w of this.watches) {
      const line = watchLine(change, w.selection);
      if (line !== undefined) this.writeLine(w, line);
    }
    return structuredClone(object);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // A client reconnecting while the server closes would otherwise hold it open with a new watch.
    if (this.closing) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'https://x');
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const watch = url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    const log: LoggedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, token, status: 0, watch };
    this.requests.push(log);
    const send = (status: number, body: unknown) => {
      log.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const answer = () => {
      if (res.destroyed) return;
      const intercepted = this.intercept?.(url.pathname, url.searchParams, token);
      if (intercepted === 'drop') {
        req.socket.destroy();
        return;
      }
      if (intercepted !== undefined) return send(intercepted.status, intercepted.body);
      if (token === undefined ? !this.allowAnonymous : !this.tokens.has(token)) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
      const lease = LEASE_PATH.exec(url.pathname);
      if (lease) return this.leases.request(req, lease[1]!, lease[2], send);
      if (req.method !== 'GET') return send(405, status(405, 'MethodNotAllowed', 'only GET'));
      const scriptedAt = this.scripted.findIndex((s) => s.path === undefined || s.path.test(url.pathname));
      if (scriptedAt >= 0) {
        const [scripted] = this.scripted.splice(scriptedAt, 1);
        return send(scripted!.status, scripted!.body);
      }
      this.route(url, watch, res, log, send);
    };
    if (this.latencyMs > 0) setTimeout(answer, this.latencyMs);
    else answer();
  }

  private route(url: URL, watch: boolean, res: ServerResponse, log: LoggedRequest, send: (status: number, body: unknown) => void): void {
    const notFound = (what = 'the server could not find the requested resource') => send(404, status(404, 'NotFound', what));
    const path = url.pathname;
    if (path === '/pods') {
      // The kubelet's read-only pod list: this node's pods, no watch.
      const items = this.stored('pods').filter((p) => this.kubeletNode === undefined || nodeOf(p) === this.kubeletNode);
      return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
    }
    let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    if (m) {
      const pod = this.objects.get(key('pods', `${m[1]}/${m[2]}`));
      return pod ? send(200, { kind: 'Pod', apiVersion: 'v1', ...pod }) : notFound(`pods "${m[2]}" not found`);
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
    if (m) {
      const ns = this.objects.get(key('namespaces', m[1]!));
      return ns ? send(200, { kind: 'Namespace', apiVersion: 'v1', ...ns }) : notFound(`namespaces "${m[1]}" not found`);
    }
    m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(events|pods)$/.exec(path) ?? /^\/api\/v1\/()(namespaces)$/.exec(path);
    if (!m) return notFound();
    const field = url.searchParams.get('fieldSelector') ?? '';
    const node = /^spec\.nodeName=(.*)$/.exec(field);
    if (field !== '' && !(node && m[2] === 'pods')) return send(400, status(400, 'BadRequest', `field label not supported: ${field}`));
    const selection: Selection = { resource: m[2] as Resource, namespace: m[1] || undefined, nodeName: node?.[1] };
    if (watch) return this.startWatch(url.searchParams, selection, res, log);
    this.list(url.searchParams, selection, send);
  }

  private stored(resource: Resource): KubeObject[] {
    const prefix = `${resource}:`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => o);
  }

  private list(query: URLSearchParams, selection: Selection, send: (status: number, body: unknown) => void): void {
    const limit = Number(query.get('limit') ?? '0');
    const cont = query.get('continue');
    let items: KubeObject[];
    let offset = 0;
    let listRv: string;
    if (cont) {
      const [key, at] = cont.split(':');
      const snapshot = this.snapshots.get(key!);
      if (!snapshot) return send(410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
      items = snapshot;
      offset = Number(at);
      listRv = key!;
    } else {
      items = this.stored(selection.resource).filter((o) => selected(o, selection)).sort((a, b) => rvOf(a) - rvOf(b));
      listRv = String(this.rv);
      this.snapshots.set(listRv, items);
    }
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const next = limit > 0 && offset + limit < items.length ? `${listRv}:${offset + limit}` : undefined;
    // List items carry no kind/apiVersion, as the API server serves them.
    const kind = `${KINDS[selection.resource]}List`;
    send(200, { kind, apiVersion: 'v1', metadata: { resourceVersion: listRv, ...(next ? { continue: next } : {}) }, items: page });
  }

  private startWatch(query: URLSearchParams, selection: Selection, res: ServerResponse, log: LoggedRequest): void {
    log.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const from = Number(query.get('resourceVersion') ?? '0');
    const w: OpenWatch = { res, selection, writing: Promise.resolve() };
    if (from < this.compactedBelow) {
      const line = JSON.stringify({
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.compactedBelow})`, reason: 'Expired', code: 410 },
      });
      this.writeLine(w, line);
      void w.writing.then(() => res.end());
      return;
    }
    this.watches.add(w);
    res.on('close', () => {
      clearTimeout(w.timer);
      this.watches.delete(w);
    });
    for (const change of this.history) {
      if (change.rv <= from) continue;
      const line = watchLine(change, selection);
      if (line !== undefined) this.writeLine(w, line);
    }
    const timeout = Number(query.get('timeoutSeconds') ?? '0');
    if (timeout > 0) {
      w.timer = setTimeout(() => {
        this.watches.delete(w);
        void w.writing.then(() => res.end());
      }, timeout * 1000);
    }
  }

  /** One line; with splitLines, in three writes separated by event-loop turns, the first cut inside a UTF-8 character if there is one. */
  private writeLine(w: OpenWatch, line: string): void {
    const bytes = Buffer.from(line + '\n', 'utf8');
    w.writing = w.writing.then(async () => {
      if (w.res.destroyed) return;
      if (!this.splitLines || bytes.length < 3) {
        w.res.write(bytes);
        return;
      }
      const multiByte = bytes.findIndex((b) => b >= 0xc0);
      const first = multiByte > 0 ? multiByte + 1 : Math.floor(bytes.length / 3);
      const second = Math.max(first + 1, Math.floor((bytes.length * 2) / 3));
      for (const [a, b] of [[0, first], [first, second], [second, bytes.length]] as const) {
        if (w.res.destroyed) return;
        w.res.write(bytes.subarray(a, b));
        await new Promise((r) => setTimeout(r, 1));
      }
    });
  }
}

function key(resource: Resource, id: string): string {
  return `${resource}:${id}`;
}

function nameKey(resource: Resource, o: KubeObject): string {
  return resource === 'namespaces' ? (o.metadata.name as string) : `${o.metadata.namespace as string}/${o.metadata.name as string}`;
}

/**
 * The line a watch of `selection` gets for a change, if any: with a field selector an object that starts
 * matching is ADDED and one that stops matching is DELETED, as the API server reports them.
 */
function watchLine(change: Change, selection: Selection): string | undefined {
  if (change.resource !== selection.resource) return undefined;
  const now = change.type !== 'DELETED' && selected(change.object, selection);
  const before = change.previous !== undefined && selected(change.previous, selection);
  let type: Change['type'];
  if (change.type === 'DELETED') {
    if (!selected(change.object, selection)) return undefined;
    type = 'DELETED';
  } else if (now && before) type = change.type;
  else if (now) type = 'ADDED';
  else if (before) type = 'DELETED';
  else return undefined;
  // Watch objects carry kind and apiVersion.
  return JSON.stringify({ type, object: { kind: KINDS[change.resource], apiVersion: 'v1', ...change.object } });
}

function selected(o: KubeObject, selection: Selection): boolean {
  if (selection.namespace !== undefined && o.metadata.namespace !== selection.namespace) return false;
  return selection.nodeName === undefined || nodeOf(o) === selection.nodeName;
}

function nodeOf(pod: KubeObject): string | undefined {
  const spec = pod.spec as { nodeName?: string } | undefined;
  return spec?.nodeName;
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function rvOf(o: KubeObject): number {
  return Number(o.metadata.resourceVersion);
}

/**
 * A core/v1 Event as the API server stores it (managedFields included, no kind/apiVersion: list items
 * have none). `overrides` replace top-level keys; `involvedObject` fields merge.
 */
export function kubeEvent(n: number, overrides: Record<string, unknown> = {}): KubeObject {
  const namespace = (overrides.namespace as string | undefined) ?? 'shop';
  const name = `api-${n}`;
  const at = (overrides.at as string | undefined) ?? new Date(Date.now() - 5_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const event: KubeObject = {
    metadata: {
      name: `${name}.18${String(n).padStart(14, '0')}`,
      namespace,
      uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      resourceVersion: '0',
      creationTimestamp: at,
      managedFields: [{ manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: at, fieldsType: 'FieldsV1', fieldsV1: { 'f:count': {}, 'f:lastTimestamp': {} } }],
    },
    involvedObject: { kind: 'Pod', namespace, name, uid: `11111111-0000-4000-8000-${String(n).padStart(12, '0')}`, apiVersion: 'v1', resourceVersion: '4242', fieldPath: 'spec.containers{api}' },
    reason: 'Unhealthy',
    message: 'Liveness probe failed: Get "http://10.244.1.17:8080/healthz?full=1&timeout=2s": context deadline exceeded <timeout>',
    source: { component: 'kubelet', host: 'worker-2' },
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
    type: 'Warning',
    eventTime: null,
    reportingComponent: 'kubelet',
    reportingInstance: 'worker-2',
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (k === 'namespace' || k === 'at') continue;
    if (k === 'involvedObject') event.involvedObject = { ...(event.involvedObject as object), ...(v as object) };
    else event[k] = v;
  }
  return event;
}
