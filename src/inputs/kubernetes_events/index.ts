import type { InputPlugin } from '../../core/registry-types.js';
import { KubernetesEventsInput } from './input.js';
import { kubernetesEventsOptions, resolveKubernetesEventsOptions } from './options.js';

export { KubeApiClient, KubeApiError } from '../../kube/api-client.js';
export { eventTimeNs, exporterRecord, rfc3339ToNs } from './exporter-record.js';
export { KubernetesEventsInput } from './input.js';
export { kubernetesEventsOptions, resolveKubernetesEventsOptions, type KubernetesEventsOptions } from './options.js';
export { ResourceVersionDb } from './resource-version-db.js';
export { SeenEvents } from './seen-events.js';
export { WatchLineSplitter } from '../../kube/watch-lines.js';

export const kubernetesEventsInput: InputPlugin = {
  kind: 'input',
  name: 'kubernetes_events',
  description:
    "Lists and watches Kubernetes Events from the API server (Fluent Bit `kubernetes_events`), each as the record kubernetes-event-exporter prints, resuming from the last resourceVersion; with leader_election, on one replica of several (see the aggregator tier)",
  options: kubernetesEventsOptions,
  check: (options) => void resolveKubernetesEventsOptions(options),
  create: (options, ctx) => new KubernetesEventsInput(resolveKubernetesEventsOptions(options), ctx),
};
