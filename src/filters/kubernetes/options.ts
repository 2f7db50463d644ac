/**
 * The kubernetes filter's options: Fluent Bit's keys and defaults for the same thing, plus the keys of
 * what floki does beyond it (a watch of this node's pods, bounded waits and caches).
 */
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { CheckEnvironment } from '../../core/registry-types.js';
import { SERVICE_ACCOUNT_DIR, parseKubeUrl } from '../../kube/connection.js';
import { FLUENTD_TAG_REGEXP, type FluentdLayoutOptions } from './fluentd-layout.js';
import { RubyRegexp } from '../common/ruby-regexp.js';

export const DEFAULT_TAG_PREFIX = 'kube.var.log.containers.';

export const kubernetesFilterOptions: readonly OptionSpec[] = [
  { name: 'kube_url', type: 'string', default: 'https://kubernetes.default.svc', description: 'API server URL (https, or http behind kubectl proxy).' },
  { name: 'kube_ca_file', type: 'string', default: `${SERVICE_ACCOUNT_DIR}/ca.crt`, description: "CA certificate (PEM) the API server's (and the kubelet's) certificate must chain to." },
  {
    name: 'kube_token_file',
    type: 'string',
    default: `${SERVICE_ACCOUNT_DIR}/token`,
    description: 'Service account token file, read again every kube_token_ttl and after any 401 (projected tokens rotate).',
  },
  { name: 'kube_token_ttl', type: 'duration', default: '10m', description: 'How long a token read from kube_token_file is used before it is read again.' },
  { name: 'tls.verify', type: 'bool', default: true, description: "Verify the API server's (and the kubelet's) certificate and host name." },
  {
    name: 'kube_tag_prefix',
    type: 'string',
    default: DEFAULT_TAG_PREFIX,
    description: 'Removed from the tag before it is read as a container log file name, `<pod>_<namespace>_<container>-<64 hex id>.log` (tail with `tag kube.*` on /var/log/containers).',
  },
  {
    name: 'regex_parser',
    type: 'string',
    description: 'A parser (of the config) whose named captures pod_name, namespace_name, container_name, docker_id read the tag (after kube_tag_prefix) instead of the file name layout.',
  },
  {
    name: 'kube_node_name',
    type: 'string',
    description:
      "This node's name (default: the NODE_NAME environment variable, from the downward API). With it, floki lists and watches only this node's pods and serves records from that copy; without it, one GET per pod, as Fluent Bit.",
  },
  { name: 'labels', type: 'bool', default: true, description: "Add the pod's labels (`kubernetes.labels`)." },
  { name: 'annotations', type: 'bool', default: true, description: "Add the pod's annotations (`kubernetes.annotations`)." },
  { name: 'owner_references', type: 'bool', default: false, description: "Add the pod's owner references (`kubernetes.ownerReferences`)." },
  { name: 'namespace_labels', type: 'bool', default: false, description: "Add the namespace's labels (`kubernetes_namespace.labels`)." },
  { name: 'namespace_annotations', type: 'bool', default: false, description: "Add the namespace's annotations (`kubernetes_namespace.annotations`)." },
  { name: 'namespace_metadata_only', type: 'bool', default: false, description: 'Add only `kubernetes_namespace`: no pod metadata (labels and annotations are then ignored).' },
  {
    name: 'merge_log',
    type: 'bool',
    default: false,
    description: 'Parse `log` (JSON, or the pod\'s `fluentbit.io/parser`, or merge_parser) and add its keys to the record (or under merge_log_key).',
  },
  { name: 'merge_log_key', type: 'string', description: 'With merge_log: put the parsed keys under this key instead of at the top level.' },
  { name: 'merge_log_trim', type: 'bool', default: true, description: 'With merge_log: remove trailing newlines (and literal `\\n`, `\\r`) from the parsed string values.' },
  { name: 'merge_parser', type: 'string', description: 'With merge_log: parse `log` with this parser (of the config) instead of as JSON.' },
  { name: 'keep_log', type: 'bool', default: true, description: 'With merge_log: keep `log` once its content was merged.' },
  {
    name: 'k8s-logging.parser',
    type: 'bool',
    default: false,
    description: 'Let pods choose the parser of their `log` with the `fluentbit.io/parser[_stdout|_stderr][-<container>]` annotation (needs merge_log).',
  },
  {
    name: 'k8s-logging.exclude',
    type: 'bool',
    default: false,
    description: 'Let pods drop their own records with the `fluentbit.io/exclude[_stdout|_stderr][-<container>]: "true"` annotation.',
  },
  { name: 'use_kubelet', type: 'bool', default: false, description: "Take pods from the kubelet's `/pods` (kubelet_host:kubelet_port, https) instead of the API server." },
  { name: 'kubelet_host', type: 'string', default: '127.0.0.1', description: 'The kubelet, with use_kubelet.' },
  { name: 'kubelet_port', type: 'int', default: 10250, description: "The kubelet's port, with use_kubelet." },
  { name: 'use_tag_for_meta', type: 'bool', default: false, description: 'Take pod_name, namespace_name, container_name and docker_id from the tag alone; no requests at all.' },
  {
    name: 'kube_meta_cache_ttl',
    type: 'duration',
    default: '0',
    description: 'How long metadata from a GET (or the kubelet) is used before it is asked again; 0: until evicted. Pods the watch covers are always current.',
  },
  { name: 'kube_meta_namespace_cache_ttl', type: 'duration', default: '15m', description: "How long a namespace's metadata is used before it is asked again (in the background); 0: until evicted." },
  {
    name: 'kube_meta_cache_size',
    type: 'size',
    default: '16M',
    description: 'Bytes of pod and namespace metadata kept; past it the least recently used pods go first. floki extension.',
  },
  {
    name: 'kube_meta_wait_time',
    type: 'duration',
    default: '2s',
    description:
      "A record of a pod not in the copy yet (its log appeared before the watch told of it) waits at most this long for the watch, then for one GET. floki extension.",
  },
  {
    name: 'buffer_size',
    type: 'size',
    default: '32K',
    description: 'Largest pod (or namespace) object read from the API server, as JSON; a larger one is skipped and its records get the tag metadata only. 0: no limit.',
  },
  { name: 'cache_use_docker_id', type: 'bool', default: false, description: "Accepted for Fluent Bit configs; floki always follows the pod's changes (watch), so it has no effect." },
  { name: 'dns_retries', type: 'int', default: 6, description: 'Accepted for Fluent Bit configs and ignored: floki retries the API server with backoff whatever the failure.' },
  { name: 'dns_wait_time', type: 'duration', default: '30s', description: 'Accepted for Fluent Bit configs and ignored (see dns_retries).' },
  { name: 'tls.debug', type: 'int', default: -1, description: 'Accepted for Fluent Bit configs and ignored.' },
  {
    name: 'record_layout',
    type: 'string',
    default: 'fluent-bit',
    choices: ['fluent-bit', 'fluentd'],
    description:
      "`fluent-bit`: Fluent Bit's `kubernetes` (and `kubernetes_namespace`) maps. `fluentd`: the record of fluent-plugin-kubernetes_metadata_filter 3.x (`docker.container_id`, `kubernetes.{container_name, namespace_name, pod_name, container_image, container_image_id, pod_id, pod_ip, host, labels, master_url, namespace_id, namespace_labels}`), tags read with tag_to_kubernetes_name_regexp; merge_log and fluentbit.io/ annotations do not apply.",
  },
  {
    name: 'tag_to_kubernetes_name_regexp',
    type: 'string',
    default: FLUENTD_TAG_REGEXP,
    description: "record_layout fluentd: reads the tag (named groups namespace, pod_name, container_name, docker_id or pod_uuid); a tag it does not match is left alone. Default: the Fluentd plugin's (/var/log/containers and /var/log/pods names).",
  },
  { name: 'de_dot', type: 'bool', default: false, description: "record_layout fluentd: replace dots in label and annotation keys with de_dot_separator (the Fluentd plugin's 2.x option; 3.x, and this default, keep them)." },
  { name: 'de_dot_separator', type: 'string', default: '_', description: 'record_layout fluentd: what de_dot puts in place of each dot (may not hold a dot).' },
  { name: 'annotation_match', type: 'list', default: [], description: 'record_layout fluentd: regular expressions; the pod (and namespace) annotations whose keys one matches are added (`kubernetes.annotations`, `kubernetes.namespace_annotations`). None by default.' },
  { name: 'skip_labels', type: 'bool', default: false, description: 'record_layout fluentd: no `labels` nor `namespace_labels`.' },
  { name: 'skip_pod_labels', type: 'bool', default: false, description: 'record_layout fluentd: no `labels`.' },
  { name: 'skip_namespace_labels', type: 'bool', default: false, description: 'record_layout fluentd: no `namespace_labels`.' },
  { name: 'skip_container_metadata', type: 'bool', default: false, description: 'record_layout fluentd: no `container_image`, `container_image_id`, nor the container id from the pod status.' },
  { name: 'skip_master_url', type: 'bool', default: false, description: 'record_layout fluentd: no `master_url` (which is kube_url as written).' },
  { name: 'skip_namespace_metadata', type: 'bool', default: false, description: "record_layout fluentd: no namespace request: no `namespace_id`, `namespace_labels`." },
  { name: 'include_ownerrefs_metadata', type: 'bool', default: false, description: 'record_layout fluentd: add `ownerrefs` (kind and name of each owner).' },
  { name: 'allow_orphans', type: 'bool', default: true, description: "record_layout fluentd: a record whose pod and namespace the API server does not give gets namespace_name orphaned_namespace_name, namespace_id orphaned_namespace_id and orphaned_namespace (the tag's namespace), as the Fluentd plugin does." },
  { name: 'orphaned_namespace_name', type: 'string', default: '.orphaned', description: 'record_layout fluentd: see allow_orphans.' },
  { name: 'orphaned_namespace_id', type: 'string', default: 'orphaned', description: 'record_layout fluentd: see allow_orphans.' },
];

export interface KubernetesFilterOptions {
  url: URL;
  caFile: string;
  tokenFile: string;
  tokenTtlMs: number;
  tlsVerify: boolean;
  tagPrefix: string;
  regexParser: string | undefined;
  nodeName: string | undefined;
  labels: boolean;
  annotations: boolean;
  ownerReferences: boolean;
  namespaceLabels: boolean;
  namespaceAnnotations: boolean;
  namespaceMetadataOnly: boolean;
  mergeLog: boolean;
  mergeLogKey: string | undefined;
  mergeLogTrim: boolean;
  mergeParser: string | undefined;
  keepLog: boolean;
  allowParserAnnotation: boolean;
  allowExcludeAnnotation: boolean;
  useKubelet: boolean;
  kubeletUrl: URL;
  useTagForMeta: boolean;
  podTtlMs: number;
  namespaceTtlMs: number;
  cacheBytes: number;
  waitMs: number;
  maxObjectBytes: number;
  /** Set with record_layout fluentd. */
  fluentd: (FluentdLayoutOptions & { tagRegexp: string }) | undefined;
}

export function resolveKubernetesFilterOptions(o: ResolvedOptions, env: NodeJS.ProcessEnv = process.env): KubernetesFilterOptions {
  const str = (key: string): string | undefined => (typeof o[key] === 'string' && (o[key] as string).length > 0 ? (o[key] as string) : undefined);
  const bool = (key: string, fallback: boolean): boolean => (typeof o[key] === 'boolean' ? (o[key] as boolean) : fallback);
  const num = (key: string, fallback: number): number => (typeof o[key] === 'number' ? (o[key] as number) : fallback);
  const kubeletPort = num('kubelet_port', 10250);
  if (kubeletPort < 1 || kubeletPort > 65535) throw new Error(`kubelet_port: expected a port, got ${kubeletPort}`);
  const kubeletHost = str('kubelet_host') ?? '127.0.0.1';
  return {
    url: requestBase(parseKubeUrl(str('kube_url') ?? 'https://kubernetes.default.svc'), str('record_layout') === 'fluentd'),
    caFile: str('kube_ca_file') ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`,
    tokenFile: str('kube_token_file') ?? `${SERVICE_ACCOUNT_DIR}/token`,
    tokenTtlMs: num('kube_token_ttl', 600_000),
    tlsVerify: bool('tls.verify', true),
    tagPrefix: typeof o.kube_tag_prefix === 'string' ? o.kube_tag_prefix : DEFAULT_TAG_PREFIX,
    regexParser: str('regex_parser'),
    nodeName: str('kube_node_name') ?? (env.NODE_NAME && env.NODE_NAME.length > 0 ? env.NODE_NAME : undefined),
    labels: bool('labels', true),
    annotations: bool('annotations', true),
    ownerReferences: bool('owner_references', false),
    namespaceLabels: bool('namespace_labels', false),
    namespaceAnnotations: bool('namespace_annotations', false),
    namespaceMetadataOnly: bool('namespace_metadata_only', false),
    mergeLog: bool('merge_log', false),
    mergeLogKey: str('merge_log_key'),
    mergeLogTrim: bool('merge_log_trim', true),
    mergeParser: str('merge_parser'),
    keepLog: bool('keep_log', true),
    allowParserAnnotation: bool('k8s-logging.parser', false),
    allowExcludeAnnotation: bool('k8s-logging.exclude', false),
    useKubelet: bool('use_kubelet', false),
    kubeletUrl: parseKubeUrl(`https://${kubeletHost.includes(':') ? `[${kubeletHost}]` : kubeletHost}:${kubeletPort}`, 'kubelet_host'),
    useTagForMeta: bool('use_tag_for_meta', false),
    podTtlMs: num('kube_meta_cache_ttl', 0),
    namespaceTtlMs: num('kube_meta_namespace_cache_ttl', 900_000),
    cacheBytes: num('kube_meta_cache_size', 16 * 1024 * 1024),
    waitMs: num('kube_meta_wait_time', 2000),
    maxObjectBytes: num('buffer_size', 32 * 1024),
    fluentd: str('record_layout') === 'fluentd' ? fluentdLayoutOptions(o, str, bool) : undefined,
  };
}

/**
 * record_layout fluentd: Fluentd's kubernetes_url is the API's base path, `/api` included (kubeclient
 * asks `<url>/v1/...`; the daemonset's in-cluster value is `https://host:port/api`); floki asks
 * `<base>/api/v1/...`, so a trailing `/api` is taken off the base. master_url keeps it as written.
 */
function requestBase(url: URL, fluentd: boolean): URL {
  if (!fluentd || !/\/api\/?$/.test(url.pathname)) return url;
  const base = new URL(url.href);
  base.pathname = url.pathname.replace(/\/api\/?$/, '') || '/';
  return base;
}

function fluentdLayoutOptions(
  o: ResolvedOptions,
  str: (key: string) => string | undefined,
  bool: (key: string, fallback: boolean) => boolean,
): FluentdLayoutOptions & { tagRegexp: string } {
  const separator = typeof o.de_dot_separator === 'string' ? o.de_dot_separator : '_';
  const deDot = bool('de_dot', false);
  if (deDot && separator.includes('.')) throw new Error("de_dot_separator: cannot be or contain '.'");
  const match = Array.isArray(o.annotation_match) ? (o.annotation_match as unknown[]).map(String).filter((s) => s.length > 0) : [];
  return {
    tagRegexp: str('tag_to_kubernetes_name_regexp') ?? FLUENTD_TAG_REGEXP,
    skipLabels: bool('skip_labels', false),
    skipPodLabels: bool('skip_pod_labels', false),
    skipNamespaceLabels: bool('skip_namespace_labels', false),
    skipContainerMetadata: bool('skip_container_metadata', false),
    skipMasterUrl: bool('skip_master_url', false),
    skipNamespaceMetadata: bool('skip_namespace_metadata', false),
    includeOwnerrefsMetadata: bool('include_ownerrefs_metadata', false),
    annotationMatch: match.map((m) => new RubyRegexp(m, 'annotation_match')),
    deDot,
    deDotSeparator: separator,
    masterUrl: str('kube_url') ?? 'https://kubernetes.default.svc',
    allowOrphans: bool('allow_orphans', true),
    orphanedNamespaceName: typeof o.orphaned_namespace_name === 'string' ? o.orphaned_namespace_name : '.orphaned',
    orphanedNamespaceId: typeof o.orphaned_namespace_id === 'string' ? o.orphaned_namespace_id : 'orphaned',
  };
}

/** Checks that span options and the config's parsers; run by --dry-run too. */
export function checkKubernetesFilterOptions(o: ResolvedOptions, env: CheckEnvironment): void {
  const options = resolveKubernetesFilterOptions(o);
  for (const key of ['merge_parser', 'regex_parser'] as const) {
    const name = key === 'merge_parser' ? options.mergeParser : options.regexParser;
    if (name !== undefined && env.parsers.parser(name) === undefined) throw new Error(`${key}: no parser named '${name}' in the config`);
  }
  if (options.cacheBytes < 64 * 1024) throw new Error('kube_meta_cache_size: expected at least 64K');
  if (options.fluentd !== undefined) new RubyRegexp(options.fluentd.tagRegexp, 'tag_to_kubernetes_name_regexp');
}
