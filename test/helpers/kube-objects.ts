/**
 * Pods and Namespaces as the API server stores them (key order, managedFields, status), for the
 * API-server stand-in and the kubernetes filter's tests.
 */
import type { KubeObject } from './kube-apiserver.js';

export interface PodSpec {
  namespace: string;
  name: string;
  node?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Owner kind and name (a ReplicaSet, a DaemonSet...). */
  owner?: { kind: string; name: string };
  podIP?: string;
  /** Containers: name, image, and the 64-hex id of the running one (the log file's id). */
  containers: { name: string; image: string; id: string; imageID?: string; runtime?: 'containerd' | 'docker' }[];
  /** Pad the spec with this many environment variables (a large pod). */
  envVars?: number;
}

export function kubePod(p: PodSpec): KubeObject {
  const created = '2026-11-25T09:00:00Z';
  const metadata: Record<string, unknown> = {
    name: p.name,
    generateName: p.owner ? `${p.owner.name}-` : undefined,
    namespace: p.namespace,
    uid: p.uid ?? `0d1e2f30-0000-4000-8000-${hex12(p.namespace + '/' + p.name)}`,
    resourceVersion: '0',
    creationTimestamp: created,
    labels: p.labels,
    annotations: p.annotations,
    ownerReferences: p.owner
      ? [{ apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: `7a8b9c0d-0000-4000-8000-${hex12(p.owner.name)}`, controller: true, blockOwnerDeletion: true }]
      : undefined,
    managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: created, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }],
  };
  for (const k of Object.keys(metadata)) if (metadata[k] === undefined) delete metadata[k];
  const env = Array.from({ length: p.envVars ?? 0 }, (_, i) => ({ name: `SETTING_${i}`, value: 'x'.repeat(40) }));
  return {
    metadata,
    spec: {
      volumes: [{ name: 'kube-api-access', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } }],
      containers: p.containers.map((c) => ({ name: c.name, image: c.image, env: env.length ? env : undefined, resources: {}, terminationMessagePath: '/dev/termination-log', imagePullPolicy: 'IfNotPresent' })),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: p.node,
      securityContext: {},
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: created }],
      hostIP: '10.0.0.12',
      podIP: p.podIP,
      podIPs: p.podIP ? [{ ip: p.podIP }] : undefined,
      startTime: created,
      containerStatuses: p.containers.map((c) => ({
        name: c.name,
        state: { running: { startedAt: created } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: c.image,
        imageID: c.imageID ?? `${c.runtime === 'docker' ? 'docker-pullable://' : ''}${c.image.replace(/:[^:/]+$/, '')}@sha256:${hex64(c.image)}`,
        containerID: `${c.runtime ?? 'containerd'}://${c.id}`,
        started: true,
      })),
      qosClass: 'BestEffort',
    },
  };
}

export function kubeNamespace(name: string, labels?: Record<string, string>, annotations?: Record<string, string>): KubeObject {
  const metadata: Record<string, unknown> = { name, uid: `5e6f7a8b-0000-4000-8000-${hex12(name)}`, resourceVersion: '0', creationTimestamp: '2026-11-01T00:00:00Z' };
  metadata.labels = { 'kubernetes.io/metadata.name': name, ...labels };
  if (annotations) metadata.annotations = annotations;
  return { metadata, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}

/** A container id as runtimes make them: 64 hex characters, derived from `seed`. */
export function containerId(seed: string): string {
  return hex64(`container:${seed}`);
}

function hex64(seed: string): string {
  let out = '';
  let h = 2166136261;
  while (out.length < 64) {
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
    h = Math.imul(h ^ out.length, 16777619) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 64);
}

function hex12(seed: string): string {
  return hex64(seed).slice(0, 12);
}
