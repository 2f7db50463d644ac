/**
 * Kubernetes metadata from a container log's path, as a node lays them out:
 * - `/var/log/containers/<pod>_<namespace>_<container>-<64 hex container id>.log` (kubelet's symlinks;
 *   the same pattern as Fluent Bit's kubernetes filter `kube_tag` regex);
 * - `/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart>.log` (their targets), which carry
 *   no container id but the pod's uid.
 */
import { basename, dirname } from 'node:path';

export interface KubernetesMetadata {
  pod_name: string;
  namespace_name: string;
  container_name: string;
  container_id?: string;
  pod_id?: string;
}

// Pod names are DNS subdomains and namespaces DNS labels: neither holds '_'; container names are DNS
// labels too, but the container id is always the last 64 hex characters.
const CONTAINERS_FILE = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)_([^_]+)_(.+)-([a-z0-9]{64})\.log$/;
const PODS_DIR = /^([^_]+)_([^_]+)_([^_]+)$/;
const PODS_FILE = /^\d+\.log$/;

/** The metadata of `path`, or undefined when it is not a container log path. */
export function kubernetesMetadataOf(path: string): KubernetesMetadata | undefined {
  const file = basename(path);
  const m = CONTAINERS_FILE.exec(file);
  if (m) return { pod_name: m[1]!, namespace_name: m[2]!, container_name: m[3]!, container_id: m[4]! };
  if (PODS_FILE.test(file)) {
    const containerDir = dirname(path);
    const podDir = basename(dirname(containerDir));
    const p = PODS_DIR.exec(podDir);
    if (p && basename(dirname(dirname(containerDir))) === 'pods') {
      return { pod_name: p[2]!, namespace_name: p[1]!, container_name: basename(containerDir), pod_id: p[3]! };
    }
  }
  return undefined;
}
