/**
 * The API server stand-in's Leases (`coordination.k8s.io/v1`, what leader election reads and writes):
 * GET, POST (409 AlreadyExists when there is one) and PUT (409 Conflict unless the body's
 * metadata.resourceVersion is the stored one, as the API server checks it), each write given the next
 * resourceVersion of the server's one counter.
 */
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from './kube-apiserver.js';

export const LEASE_PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;

type Send = (status: number, body: unknown) => void;

export class LeaseStore {
  private readonly leases = new Map<string, KubeObject>();

  constructor(private readonly nextVersion: () => string) {}

  get(namespace: string, name: string): KubeObject | undefined {
    const lease = this.leases.get(`${namespace}/${name}`);
    return lease === undefined ? undefined : structuredClone(lease);
  }

  /** Writes a Lease as another client would (`update` gets the stored one, or undefined). */
  put(namespace: string, name: string, update: (old: KubeObject | undefined) => KubeObject): KubeObject {
    const key = `${namespace}/${name}`;
    const lease = update(structuredClone(this.leases.get(key)));
    lease.metadata = { ...lease.metadata, name, namespace, resourceVersion: this.nextVersion() };
    this.leases.set(key, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
    return structuredClone(lease);
  }

  /** A request to a Lease path (`name` undefined: the collection, for POST). */
  request(req: IncomingMessage, namespace: string, name: string | undefined, send: Send): void {
    const conflict = (reason: string, message: string) =>
      send(409, { ...status(409, reason, message), details: { name, group: 'coordination.k8s.io', kind: 'leases' } });
    const notFound = (n: string | undefined) => send(404, status(404, 'NotFound', `leases.coordination.k8s.io "${n}" not found`));
    if (req.method === 'GET' && name !== undefined) {
      const lease = this.leases.get(`${namespace}/${name}`);
      return lease ? send(200, lease) : notFound(name);
    }
    if (!((req.method === 'POST' && name === undefined) || (req.method === 'PUT' && name !== undefined))) {
      return send(405, status(405, 'MethodNotAllowed', `${req.method} is not allowed here`));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: KubeObject;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as KubeObject;
      } catch {
        return send(400, status(400, 'BadRequest', 'the body is not JSON'));
      }
      const bodyName = body.metadata?.name as string | undefined;
      if (bodyName === undefined || (name !== undefined && bodyName !== name)) return send(400, status(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
      const key = `${namespace}/${bodyName}`;
      const stored = this.leases.get(key);
      if (req.method === 'POST') {
        if (stored) return conflict('AlreadyExists', `leases.coordination.k8s.io "${bodyName}" already exists`);
      } else {
        if (!stored) return notFound(name);
        if (body.metadata.resourceVersion !== stored.metadata.resourceVersion) {
          return conflict('Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
      }
      const saved: KubeObject = { ...body, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { ...body.metadata, namespace, resourceVersion: this.nextVersion() } };
      this.leases.set(key, saved);
      send(req.method === 'POST' ? 201 : 200, saved);
    });
  }
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
