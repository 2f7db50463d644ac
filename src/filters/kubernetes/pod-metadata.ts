/**
 * A pod as the filter keeps it: only what goes into records (uid, labels, annotations, owner
 * references, node, IP, each container's id, image and image id), never the whole object. Each
 * container's `kubernetes` map is made once and shared by its records.
 */
import type { TagMetadata } from './tag-metadata.js';
import { isObject, type KubeObject } from '../../kube/list-watch.js';

export interface ContainerStatus {
  containerId: string | undefined;
  imageHash: string | undefined;
  image: string | undefined;
  /** As the API gives them, for `record_layout fluentd`. */
  imageId: string | undefined;
  containerIdRaw: string | undefined;
  /** From initContainerStatuses (Fluentd's plugin does not look there). */
  init: boolean;
}

export interface PodMetadata {
  namespace: string;
  name: string;
  /** Values as the API server gave them (types kept, as Fluent Bit copies them). */
  uid: unknown;
  labels: unknown;
  annotations: unknown;
  ownerReferences: unknown;
  nodeName: unknown;
  podIP: unknown;
  /** Container statuses in the API's order: init containers' first, as Fluent Bit searches them. */
  containers: [name: string, status: ContainerStatus][];
  /** What this entry costs the cache, roughly (its JSON length). */
  bytes: number;
}

export interface MapOptions {
  labels: boolean;
  annotations: boolean;
  ownerReferences: boolean;
}

const HAS = Object.prototype.hasOwnProperty;

/** The parts of a Pod object the filter uses; undefined when it is not a pod with a name and namespace. */
export function podMetadataOf(pod: KubeObject): PodMetadata | undefined {
  const metadata = pod.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string' || typeof metadata.namespace !== 'string') return undefined;
  const spec = isObject(pod.spec) ? pod.spec : {};
  const status = isObject(pod.status) ? pod.status : {};
  const containers: PodMetadata['containers'] = [];
  // Fluent Bit walks status in its key order and takes the first list holding the container's name.
  for (const key of Object.keys(status)) {
    if (key !== 'containerStatuses' && key !== 'initContainerStatuses') continue;
    const list = status[key];
    if (!Array.isArray(list)) continue;
    for (const s of list) {
      if (!isObject(s) || typeof s.name !== 'string') continue;
      containers.push([
        s.name,
        {
          containerId: typeof s.containerID === 'string' ? hashOf(s.containerID) : undefined,
          imageHash: typeof s.imageID === 'string' ? hashOf(s.imageID) : undefined,
          image: typeof s.image === 'string' && s.image.length > 0 ? s.image : undefined,
          imageId: typeof s.imageID === 'string' ? s.imageID : undefined,
          containerIdRaw: typeof s.containerID === 'string' ? s.containerID : undefined,
          init: key === 'initContainerStatuses',
        },
      ]);
    }
  }
  const meta: PodMetadata = {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: HAS.call(metadata, 'uid') ? metadata.uid : undefined,
    labels: HAS.call(metadata, 'labels') ? metadata.labels : undefined,
    annotations: HAS.call(metadata, 'annotations') ? metadata.annotations : undefined,
    ownerReferences: HAS.call(metadata, 'ownerReferences') ? metadata.ownerReferences : undefined,
    nodeName: HAS.call(spec, 'nodeName') ? spec.nodeName : undefined,
    podIP: HAS.call(status, 'podIP') ? status.podIP : undefined,
    containers,
    bytes: 0,
  };
  meta.bytes = 256 + JSON.stringify([meta.uid, meta.labels, meta.annotations, meta.ownerReferences, meta.nodeName, meta.podIP, containers]).length;
  return meta;
}

/**
 * Fluent Bit's reading of a containerID / imageID: past `scheme://` when there is one
 * (`containerd://<id>`, `docker-pullable://nginx@sha256:…`), the whole value when its colon has no
 * slashes after it (`sha256:…`), nothing without a colon.
 */
export function hashOf(value: string): string | undefined {
  if (value.length <= 1) return undefined;
  const colon = value.indexOf(':');
  if (colon < 0) return undefined;
  let slash = colon;
  while (value.charCodeAt(slash + 1) === 0x2f) slash++;
  if (slash === colon) return value;
  const out = value.slice(slash + 1);
  return out.length > 0 ? out : undefined;
}

/**
 * A container's `kubernetes` map, keys in Fluent Bit's order: pod_name, namespace_name, pod_id, labels,
 * annotations, ownerReferences, host, pod_ip, container_name, docker_id, container_hash, container_image.
 * The tag gives names and the container id; the pod what only the API server knows.
 */
export function kubernetesMap(tag: TagMetadata, pod: PodMetadata, options: MapOptions): Record<string, unknown> {
  const map: Record<string, unknown> = { pod_name: tag.podName, namespace_name: tag.namespace };
  if (pod.uid !== undefined) map.pod_id = pod.uid;
  if (options.labels && pod.labels !== undefined) map.labels = pod.labels;
  if (options.annotations && pod.annotations !== undefined) map.annotations = pod.annotations;
  if (options.ownerReferences && pod.ownerReferences !== undefined) map.ownerReferences = pod.ownerReferences;
  if (pod.nodeName !== undefined) map.host = pod.nodeName;
  if (pod.podIP !== undefined) map.pod_ip = pod.podIP;
  let dockerId = tag.dockerId;
  let hash = tag.containerHash;
  let image: string | undefined;
  if (tag.containerName !== undefined) {
    map.container_name = tag.containerName;
    const status = pod.containers.find(([name]) => name === tag.containerName)?.[1];
    if (status !== undefined) {
      dockerId ??= status.containerId;
      hash ??= status.imageHash;
      image = status.image;
    }
  }
  if (dockerId !== undefined) map.docker_id = dockerId;
  if (hash !== undefined) map.container_hash = hash;
  if (image !== undefined) map.container_image = image;
  return map;
}

/** What the tag alone says (use_tag_for_meta, and records whose pod the API server cannot give). */
export function tagOnlyMap(tag: TagMetadata): Record<string, unknown> {
  const map: Record<string, unknown> = { pod_name: tag.podName, namespace_name: tag.namespace };
  if (tag.containerName !== undefined) map.container_name = tag.containerName;
  if (tag.dockerId !== undefined) map.docker_id = tag.dockerId;
  return map;
}
