/**
 * A stand-in for the Kubernetes API server's Events endpoints, over HTTPS with a certificate made at
 * test time, for the kubernetes_events input. It keeps events with resourceVersions from one counter,
 * as etcd does, and serves:
 *
 * - list: `GET /api/v1/events` (or `/api/v1/namespaces/<ns>/events`) with `limit` and `continue`;
 * - watch: `?watch=1&resourceVersion=N`: every change after N, then changes as they happen, one JSON
 *   object per line in a chunked response; optionally each line cut into pieces written separately,
 *   with a cut inside a multi-byte character; `ERROR` with a 410 Status when N was compacted away;
 *   `BOOKMARK`s on demand; `timeoutSeconds` honoured;
 * - bearer tokens: anything else is a 401 Status, as the API server answers.
 *
 * Every request is logged (path, query, token, status) so tests can check what the input asked.
 */
import { runPeer } from './peers.js';
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

export interface LoggedRequest {
  path: string;
  query: URLSearchParams;
  token: string | undefined;
  status: number;
  watch: boolean;
}

interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface OpenWatch {
  res: ServerResponse;
  namespace: string | undefined;
  /** Writes are chained so the pieces of consecutive lines never interleave. */
  writing: Promise<void>;
  timer?: NodeJS.Timeout;
}

export class KubeApiServer {
  readonly requests: LoggedRequest[] = [];
  /** Tokens accepted; the test rotates them. */
  readonly tokens: Set<string>;
  /** Cut each watch line into pieces written one by one. */
  splitLines = true;
  private rv = 1000;
  private compactedBelow = 0;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: Change[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly snapshots = new Map<string, KubeObject[]>();
  private readonly scripted: { status: number; body: unknown }[] = [];
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

  get openWatches(): number {
    return this.watches.size;
  }

  /** Resolves once every line queued on the open watches has been written to its socket. */
  async flushed(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.writing));
  }

  /** Answer the next request (list or watch) with this status and body instead. */
  respondNext(status: number, body: unknown): void {
    this.scripted.push({ status, body });
  }

  /** Stores a new event (its uid must be set), giving it the next resourceVersion; watchers see ADDED. */
  add(event: KubeObject): KubeObject {
    return this.change('ADDED', structuredClone(event));
  }

  /** Replaces a stored event by uid with `update(old)`, as a kubelet bumping count and lastTimestamp. */
  modify(uid: string, update: (old: KubeObject) => KubeObject): KubeObject {
    const old = this.objects.get(uid);
    if (!old) throw new Error(`no event ${uid}`);
    return this.change('MODIFIED', update(structuredClone(old)));
  }

  /** Removes an event (TTL expiry); watchers see DELETED. */
  remove(uid: string): void {
    const old = this.objects.get(uid);
    if (!old) throw new Error(`no event ${uid}`);
    this.change('DELETED', structuredClone(old));
  }

  /** Sends a BOOKMARK at the current resourceVersion to every open watch (after a fresh version, as etcd moves on). */
  bookmark(): string {
    this.rv++;
    const line = JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Event', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } });
    for (const w of this.watches) this.writeLine(w, line);
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

  private change(type: Change['type'], object: KubeObject): KubeObject {
    const uid = object.metadata.uid as string;
    this.rv++;
    object.metadata.resourceVersion = String(this.rv);
    if (type === 'DELETED') this.objects.delete(uid);
    else this.objects.set(uid, object);
    const change: Change = { rv: this.rv, type, object: structuredClone(object) };
    this.history.push(change);
    for (const w of this.watches) if (inNamespace(object, w.namespace)) this.writeLine(w, watchLine(change));
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
    const log: LoggedRequest = { path: url.pathname, query: url.searchParams, token, status: 0, watch };
    this.requests.push(log);
    const send = (status: number, body: unknown) => {
      log.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (token === undefined || !this.tokens.has(token)) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    const m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?events$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const scripted = this.scripted.shift();
    if (scripted) return send(scripted.status, scripted.body);
    const namespace = m[1];
    if (watch) return this.startWatch(url.searchParams, namespace, res, log);
    this.list(url.searchParams, namespace, send);
  }

  private list(query: URLSearchParams, namespace: string | undefined, send: (status: number, body: unknown) => void): void {
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
      items = [...this.objects.values()].filter((o) => inNamespace(o, namespace)).sort((a, b) => rvOf(a) - rvOf(b));
      listRv = String(this.rv);
      this.snapshots.set(listRv, items);
    }
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const next = limit > 0 && offset + limit < items.length ? `${listRv}:${offset + limit}` : undefined;
    // List items carry no kind/apiVersion, as the API server serves them.
    send(200, { kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: listRv, ...(next ? { continue: next } : {}) }, items: page });
  }

  private startWatch(query: URLSearchParams, namespace: string | undefined, res: ServerResponse, log: LoggedRequest): void {
    log.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const from = Number(query.get('resourceVersion') ?? '0');
    const w: OpenWatch = { res, namespace, writing: Promise.resolve() };
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
    for (const change of this.history) if (change.rv > from && inNamespace(change.object, namespace)) this.writeLine(w, watchLine(change));
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

function watchLine(change: Change): string {
  // Watch objects carry kind and apiVersion.
  return JSON.stringify({ type: change.type, object: { kind: 'Event', apiVersion: 'v1', ...change.object } });
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function rvOf(o: KubeObject): number {
  return Number(o.metadata.resourceVersion);
}

function inNamespace(o: KubeObject, namespace: string | undefined): boolean {
  return namespace === undefined || o.metadata.namespace === namespace;
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
