/**
 * What a record's tag says of its container, as Fluent Bit's kubernetes filter reads it: the tag less
 * `kube_tag_prefix` is a /var/log/containers file name, `<pod>_<namespace>_<container>-<64 hex id>.log`
 * (the tail input's own reading of those names), or whatever a `regex_parser`'s named captures say.
 */
import { kubernetesMetadataOf } from '../../inputs/tail/kubernetes-path.js';
import type { Parser } from '../../parsers/registry.js';

export interface TagMetadata {
  podName: string;
  namespace: string;
  containerName: string | undefined;
  dockerId: string | undefined;
  /** From a regex_parser's `container_hash` capture only. */
  containerHash: string | undefined;
  /** `namespace/pod`: the pod cache's key. */
  podKey: string;
}

export class TagReader {
  constructor(
    private readonly prefix: string,
    private readonly regexParser: Parser | undefined,
  ) {}

  /** The container the tag names, or undefined when it names none (the record is left as it is). */
  read(tag: string): TagMetadata | undefined {
    // As Fluent Bit: the prefix's length is cut off whatever it holds, and the tag must be longer.
    if (this.prefix.length + 1 >= tag.length) return undefined;
    const rest = tag.slice(this.prefix.length);
    if (this.regexParser !== undefined) {
      const fields = this.regexParser.parse(rest)?.record;
      const podName = text(fields?.pod_name);
      const namespace = text(fields?.namespace_name);
      if (fields === undefined || podName === undefined || namespace === undefined) return undefined;
      return {
        podName,
        namespace,
        containerName: text(fields.container_name),
        dockerId: text(fields.docker_id),
        containerHash: text(fields.container_hash),
        podKey: `${namespace}/${podName}`,
      };
    }
    const m = rest.includes('/') ? undefined : kubernetesMetadataOf(rest);
    if (m === undefined || m.container_id === undefined) return undefined;
    return {
      podName: m.pod_name,
      namespace: m.namespace_name,
      containerName: m.container_name,
      dockerId: m.container_id,
      containerHash: undefined,
      podKey: `${m.namespace_name}/${m.pod_name}`,
    };
  }
}

/** A non-empty capture (Fluent Bit ignores empty ones). */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
