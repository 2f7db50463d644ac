/**
 * `record_layout fluentd`: the record fabric8io/fluent-plugin-kubernetes_metadata_filter (3.x, the
 * version the fluentd-kubernetes-daemonset images ship) writes, key by key, so Loki queries written
 * for a Fluentd setup keep working. Read from the plugin's source (v3.7.1):
 *
 * - filter_kubernetes_metadata.rb `filter`: the tag is matched with tag_to_kubernetes_name_regexp;
 *   a tag that does not match leaves the record alone; else `record.merge(metadata)`, metadata being
 *   `{docker: {container_id}, kubernetes: {...}}` (`docker` dropped when the id is empty).
 * - `get_metadata_for_record`: `kubernetes` starts as container_name, namespace_name, pod_name (from
 *   the tag), then container_image, container_image_id (the status' imageID, whole) and the status'
 *   containerID (past `scheme://`) as docker.container_id unless skip_container_metadata, then the pod
 *   and namespace metadata merged in (Ruby's merge!: a key already there keeps its place).
 * - kubernetes_metadata_common.rb `parse_pod_metadata`: namespace_name, pod_id, pod_name, pod_ip, host,
 *   ownerrefs (include_ownerrefs_metadata), labels (unless empty or skipped), annotations (only those
 *   annotation_match selects), master_url (unless skip_master_url); `parse_namespace_metadata`:
 *   namespace_id, namespace_labels, namespace_annotations.
 * - kubernetes_metadata_cache_strategy.rb `get_pod_metadata`: a pod the API server does not give but
 *   whose namespace it does gets `pod_id` = the tag's id; neither: the orphan keys (allow_orphans).
 * - de_dot / de_dot_separator are the 2.x plugin's (removed in 3.0): label and annotation keys with
 *   dots get them replaced, the renamed key moving last (`de_dot!` deletes and re-adds it).
 */
import type { NamespaceObject } from './namespace-store.js';
import type { PodMetadata } from './pod-metadata.js';
import type { TagMetadata } from './tag-metadata.js';
import { RubyRegexp } from '../common/ruby-regexp.js';

export const FLUENTD_VAR_LOG_PODS =
  '(var\\.log\\.pods)\\.(?<namespace>[^_]+)_(?<pod_name>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<pod_uuid>[a-z0-9-]*)\\.(?<container_name>.+)\\..*\\.log$';
export const FLUENTD_VAR_LOG_CONTAINERS =
  '(var\\.log\\.containers)\\.(?<pod_name>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<namespace>[^_]+)_(?<container_name>.+)-(?<docker_id>[a-z0-9]{64})\\.log$';
/** filter_kubernetes_metadata.rb: the default tag_to_kubernetes_name_regexp. */
export const FLUENTD_TAG_REGEXP = `(${FLUENTD_VAR_LOG_PODS}|${FLUENTD_VAR_LOG_CONTAINERS})`;

export interface FluentdLayoutOptions {
  skipLabels: boolean;
  skipPodLabels: boolean;
  skipNamespaceLabels: boolean;
  skipContainerMetadata: boolean;
  skipMasterUrl: boolean;
  skipNamespaceMetadata: boolean;
  includeOwnerrefsMetadata: boolean;
  annotationMatch: RubyRegexp[];
  deDot: boolean;
  deDotSeparator: string;
  /** kubernetes_url as written. */
  masterUrl: string;
  allowOrphans: boolean;
  orphanedNamespaceName: string;
  orphanedNamespaceId: string;
}

/** The tag's container, as the plugin reads it; `cacheKey` is the pod uuid (/var/log/pods) or docker id. */
export interface FluentdTag extends TagMetadata {
  cacheKey: string | undefined;
}

/** Reads tags with tag_to_kubernetes_name_regexp (named groups namespace, pod_name, container_name, docker_id / pod_uuid). */
export class FluentdTagReader {
  private readonly regexp: RubyRegexp;
  constructor(source: string) {
    this.regexp = new RubyRegexp(source, 'tag_to_kubernetes_name_regexp');
  }

  read(tag: string): FluentdTag | undefined {
    const groups = this.regexp.groups(tag);
    if (groups === undefined) return undefined;
    const namespace = groups.namespace;
    const podName = groups.pod_name;
    if (namespace === undefined || podName === undefined) return undefined;
    const dockerId = groups.docker_id;
    return {
      podName,
      namespace,
      containerName: groups.container_name,
      dockerId,
      containerHash: undefined,
      podKey: `${namespace}/${podName}`,
      cacheKey: groups.pod_uuid ?? dockerId,
    };
  }
}

type Json = Record<string, unknown>;

/** `parse_pod_metadata` without its `containers` (the filter deletes that key). */
export function fluentdPodMap(pod: PodMetadata, o: FluentdLayoutOptions): Json {
  const map: Json = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) map[key] = value; // Hash#compact
  };
  set('namespace_name', pod.namespace);
  set('pod_id', pod.uid);
  set('pod_name', pod.name);
  set('pod_ip', pod.podIP);
  set('host', pod.nodeName);
  if (o.includeOwnerrefsMetadata && Array.isArray(pod.ownerReferences)) {
    map.ownerrefs = pod.ownerReferences.map((r: Json) => ({ kind: r?.kind ?? null, name: r?.name ?? null }));
  }
  if (!o.skipLabels && !o.skipPodLabels) {
    const labels = copyMap(pod.labels, o);
    if (hasKeys(labels)) map.labels = labels;
  }
  const annotations = matchAnnotations(pod.annotations, o);
  if (hasKeys(annotations)) map.annotations = annotations;
  if (!o.skipMasterUrl) map.master_url = o.masterUrl;
  return map;
}

/** `parse_namespace_metadata`, without creation_timestamp (deleted before the merge). */
export function fluentdNamespaceMap(ns: NamespaceObject, o: FluentdLayoutOptions): Json {
  const map: Json = {};
  if (ns.uid !== undefined && ns.uid !== null) map.namespace_id = ns.uid;
  if (!o.skipLabels && !o.skipNamespaceLabels) {
    const labels = copyMap(ns.labels, o);
    if (hasKeys(labels)) map.namespace_labels = labels;
  }
  const annotations = matchAnnotations(ns.annotations, o);
  if (hasKeys(annotations)) map.namespace_annotations = annotations;
  return map;
}

/**
 * The `{docker, kubernetes}` the plugin merges into each record of this tag. `pod` / `namespace` are
 * undefined when the API server did not give them (not found, unavailable).
 */
export function fluentdMetadata(tag: FluentdTag, pod: PodMetadata | undefined, namespace: NamespaceObject | undefined, o: FluentdLayoutOptions): Json {
  const kube: Json = { container_name: tag.containerName ?? null, namespace_name: tag.namespace, pod_name: tag.podName };
  let containerId = tag.dockerId ?? '';
  let merged: Json;
  if (pod !== undefined && (o.skipNamespaceMetadata || namespace !== undefined)) {
    merged = fluentdPodMap(pod, o);
    if (!o.skipNamespaceMetadata) Object.assign(merged, fluentdNamespaceMap(namespace!, o));
    const status = tag.containerName === undefined ? undefined : pod.containers.find(([name, s]) => name === tag.containerName && !s.init)?.[1];
    if (status !== undefined && !o.skipContainerMetadata) {
      kube.container_image = status.image ?? null;
      if (status.imageId !== undefined && status.imageId.length > 0) kube.container_image_id = status.imageId;
      const id = (status.containerIdRaw ?? '').replace(/^[-_a-zA-Z0-9]+:\/\//, '');
      if (id.length > 0) containerId = id;
    }
  } else if (o.skipNamespaceMetadata) {
    merged = {};
  } else if (pod === undefined && namespace !== undefined) {
    merged = { pod_id: tag.cacheKey ?? null, ...fluentdNamespaceMap(namespace, o) };
    if (merged.pod_id === null) delete merged.pod_id;
  } else if (o.allowOrphans) {
    merged = { orphaned_namespace: tag.namespace, namespace_name: o.orphanedNamespaceName, namespace_id: o.orphanedNamespaceId };
  } else merged = {};
  Object.assign(kube, merged);
  const out: Json = {};
  if (containerId.length > 0) out.docker = { container_id: containerId };
  out.kubernetes = kube;
  return out;
}

/** `record.merge(metadata)`: a key the record has keeps its place, new keys go last. */
export function mergeFluentd(record: Json, metadata: Json): Json {
  const out: Json = {};
  for (const key in record) out[key] = record[key];
  for (const key in metadata) out[key] = metadata[key];
  return out;
}

function copyMap(value: unknown, o: FluentdLayoutOptions): Json {
  const out: Json = {};
  if (!isMap(value)) return out;
  for (const key in value) out[key] = value[key];
  if (o.deDot) deDot(out, o.deDotSeparator);
  return out;
}

/** kubernetes_metadata_common.rb `match_annotations`: each regexp in turn, each annotation in order. */
function matchAnnotations(value: unknown, o: FluentdLayoutOptions): Json {
  const out: Json = {};
  if (!isMap(value) || o.annotationMatch.length === 0) return out;
  for (const re of o.annotationMatch) for (const key in value) if (re.test(key)) out[key] = value[key];
  if (o.deDot) deDot(out, o.deDotSeparator);
  return out;
}

/** The 2.x plugin's `de_dot!`: a key with a dot (and a truthy value) is deleted and re-added renamed. */
function deDot(h: Json, separator: string): void {
  for (const key of Object.keys(h)) {
    const v = h[key];
    if (v === null || v === undefined || v === false || !key.includes('.')) continue;
    delete h[key];
    h[key.split('.').join(separator)] = v;
  }
}

function isMap(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function hasKeys(o: Json): boolean {
  for (const _ in o) return true;
  return false;
}
