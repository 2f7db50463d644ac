/**
 * A `coordination.k8s.io/v1` Lease, read and written as client-go's leader election does: GET it,
 * POST it when there is none, PUT a new version of it with the resourceVersion it was read at, so the
 * API server refuses (409 Conflict) a write based on an older version: two replicas can never both
 * think they wrote the same lease.
 */
import { KubeApiError } from './api-client.js';
import type { KubeConnection } from './connection.js';

export interface LeaseSpec {
  /** Who holds it; empty or absent when released. */
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime (RFC 3339 with microseconds). */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string>; [key: string]: unknown };
  spec: LeaseSpec;
}

/** Largest Lease answer read: a Lease is small, annotations included. */
const MAX_LEASE_BYTES = 256 * 1024;

export class LeaseClient {
  private readonly path: string;

  constructor(
    private readonly connection: KubeConnection,
    readonly namespace: string,
    readonly name: string,
    /** Timeout of one request. */
    private readonly timeoutMs: number,
  ) {
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  }

  /** The Lease, or undefined when there is none (404). */
  async get(): Promise<Lease | undefined> {
    try {
      return asLease(await this.connection.get(`${this.path}/${encodeURIComponent(this.name)}`, { maxBytes: MAX_LEASE_BYTES, timeoutMs: this.timeoutMs }));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Creates the Lease; undefined when another replica created it first (409). */
  async create(spec: LeaseSpec, annotations: Record<string, string>): Promise<Lease | undefined> {
    const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace, annotations }, spec };
    return this.write('POST', this.path, lease);
  }

  /** Writes a new version of `lease` (its metadata.resourceVersion says which it replaces); undefined on a conflict (409). */
  async update(lease: Lease): Promise<Lease | undefined> {
    return this.write('PUT', `${this.path}/${encodeURIComponent(this.name)}`, lease);
  }

  private async write(method: 'POST' | 'PUT', path: string, lease: Lease): Promise<Lease | undefined> {
    try {
      return asLease(await this.connection.send(method, path, lease, { maxBytes: MAX_LEASE_BYTES, timeoutMs: this.timeoutMs }));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return undefined;
      throw err;
    }
  }
}

/** A Lease from an answer; throws a KubeApiError when the answer is not one. */
function asLease(value: unknown): Lease {
  const o = value as Partial<Lease> | null;
  if (o === null || typeof o !== 'object' || typeof o.metadata !== 'object' || o.metadata === null || typeof o.metadata.name !== 'string') {
    throw new KubeApiError('the answer is not a Lease', 200);
  }
  const spec = typeof o.spec === 'object' && o.spec !== null ? o.spec : {};
  return { ...o, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: o.metadata, spec } as Lease;
}

/** A MicroTime as the API server writes it: RFC 3339, UTC, six decimals. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
