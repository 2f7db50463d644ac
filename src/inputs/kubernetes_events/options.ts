/**
 * The kubernetes_events input's options, named as Fluent Bit's `kubernetes_events` input names them.
 * `tls.verify` is Fluent Bit's TLS key of the same name. Leader election (`leader_election`,
 * `lease_*`, `renew_deadline`, `retry_period`) is floki's own, with client-go's defaults.
 */
import { OptionValueError, type OptionSpec, type ResolvedOptions } from '../../config/options.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export const kubernetesEventsOptions: readonly OptionSpec[] = [
  { name: 'kube_url', type: 'string', default: 'https://kubernetes.default.svc', description: 'API server URL (https, or http behind kubectl proxy).' },
  { name: 'kube_ca_file', type: 'string', default: `${SA_DIR}/ca.crt`, description: "CA certificate (PEM) the API server's certificate must chain to." },
  {
    name: 'kube_token_file',
    type: 'string',
    default: `${SA_DIR}/token`,
    description: 'Service account token file, read again every kube_token_ttl and after any 401 (projected tokens rotate).',
  },
  { name: 'kube_token_ttl', type: 'duration', default: '10m', description: 'How long a token read from kube_token_file is used before it is read again.' },
  { name: 'kube_namespace', type: 'string', description: "Only this namespace's events; all namespaces when unset." },
  { name: 'kube_request_limit', type: 'int', default: 0, description: 'Events per list request (pages with continue tokens); 0 lists everything in one request.' },
  {
    name: 'kube_retention_time',
    type: 'duration',
    default: '1h',
    description: 'Events whose last time is older than this are not sent (at start, after a relist, on resume); 0 sends every event.',
  },
  { name: 'kube_watch_timeout', type: 'duration', default: '10m', description: 'Each watch request asks the API server to end it after this long; floki then watches again from the last resourceVersion.' },
  {
    name: 'db',
    type: 'string',
    description:
      'File keeping the last resourceVersion sent, so a restart resumes the watch there instead of listing again (written atomically: temporary file, fsync, rename).',
  },
  { name: 'tag', type: 'string', description: 'Tag of the records; the instance name (kubernetes_events.0) when unset.' },
  {
    name: 'leader_election',
    type: 'bool',
    default: false,
    description:
      'Run as several replicas: only the holder of a coordination.k8s.io/v1 Lease watches, and the last delivered resourceVersion is kept on the Lease, so the next holder resumes there (instead of db).',
  },
  { name: 'lease_name', type: 'string', default: 'floki-kubernetes-events', description: 'Name of the Lease the replicas compete for.' },
  {
    name: 'lease_namespace',
    type: 'string',
    description: "Namespace of the Lease; the pod's own (the service account's namespace file beside kube_token_file) when unset, else default.",
  },
  { name: 'lease_duration', type: 'duration', default: '15s', description: 'How long the others wait, after they last saw the Lease renewed, before taking it (client-go LeaseDuration).' },
  { name: 'renew_deadline', type: 'duration', default: '10s', description: 'The leader stops watching when it could not renew the Lease for this long (client-go RenewDeadline); less than lease_duration.' },
  { name: 'retry_period', type: 'duration', default: '2s', description: 'How often the leader renews and the others try to take the Lease (client-go RetryPeriod).' },
  { name: 'tls.verify', type: 'bool', default: true, description: "Verify the API server's certificate and host name." },
];

export interface KubernetesEventsOptions {
  url: URL;
  caFile: string;
  tokenFile: string;
  tokenTtlMs: number;
  namespace?: string;
  requestLimit: number;
  retentionMs: number;
  watchTimeoutMs: number;
  db?: string;
  tag?: string;
  tlsVerify: boolean;
  leaderElection?: LeaderElectionOptions;
}

export interface LeaderElectionOptions {
  leaseName: string;
  /** undefined: the service account's namespace, else `default`. */
  leaseNamespace?: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function resolveKubernetesEventsOptions(options: ResolvedOptions): KubernetesEventsOptions {
  const rawUrl = str(options.kube_url) ?? 'https://kubernetes.default.svc';
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new OptionValueError(`kube_url: expected a URL such as https://kubernetes.default.svc, got '${rawUrl}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OptionValueError(`kube_url: expected http:// or https://, got '${rawUrl}'`);
  const requestLimit = num(options.kube_request_limit, 0);
  if (requestLimit < 0) throw new OptionValueError(`kube_request_limit: expected 0 or more, got ${requestLimit}`);
  const watchTimeoutMs = num(options.kube_watch_timeout, 600_000);
  if (watchTimeoutMs < 1000) throw new OptionValueError('kube_watch_timeout: expected at least 1s');
  const namespace = str(options.kube_namespace);
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
    throw new OptionValueError(`kube_namespace: '${namespace}' is not a Kubernetes namespace name`);
  }
  const db = str(options.db);
  let leaderElection: LeaderElectionOptions | undefined;
  if (options.leader_election === true) {
    if (db !== undefined) throw new OptionValueError('db: not used with leader_election on: the last resourceVersion is kept on the Lease for every replica; remove db');
    const leaseName = str(options.lease_name) ?? 'floki-kubernetes-events';
    if (!NAME.test(leaseName) || leaseName.length > 253) throw new OptionValueError(`lease_name: '${leaseName}' is not a Kubernetes object name`);
    const leaseNamespace = str(options.lease_namespace);
    if (leaseNamespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(leaseNamespace)) throw new OptionValueError(`lease_namespace: '${leaseNamespace}' is not a Kubernetes namespace name`);
    const leaseDurationMs = num(options.lease_duration, 15_000);
    const renewDeadlineMs = num(options.renew_deadline, 10_000);
    const retryPeriodMs = num(options.retry_period, 2_000);
    if (leaseDurationMs < 1000) throw new OptionValueError('lease_duration: expected at least 1s (a Lease holds whole seconds)');
    if (renewDeadlineMs >= leaseDurationMs) throw new OptionValueError('renew_deadline: must be less than lease_duration, so a leader stops before another may take over');
    if (retryPeriodMs <= 0 || retryPeriodMs * 1.2 >= renewDeadlineMs) throw new OptionValueError('retry_period: must be more than 0 and well under renew_deadline (1.2 × retry_period < renew_deadline, as client-go checks)');
    leaderElection = { leaseName, leaseNamespace, leaseDurationMs, renewDeadlineMs, retryPeriodMs };
  }
  return {
    url,
    caFile: str(options.kube_ca_file) ?? '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    tokenFile: str(options.kube_token_file) ?? '/var/run/secrets/kubernetes.io/serviceaccount/token',
    tokenTtlMs: num(options.kube_token_ttl, 600_000),
    namespace,
    requestLimit,
    retentionMs: num(options.kube_retention_time, 3_600_000),
    watchTimeoutMs,
    db,
    tag: str(options.tag),
    tlsVerify: options['tls.verify'] !== false,
    leaderElection,
  };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
