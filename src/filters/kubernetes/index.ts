import type { FilterPlugin } from '../../core/registry-types.js';
import { KubernetesFilter } from './filter.js';
import { checkKubernetesFilterOptions, kubernetesFilterOptions, resolveKubernetesFilterOptions } from './options.js';

export { KubernetesFilter, type KubernetesFilterTimings } from './filter.js';
export { kubernetesFilterOptions, resolveKubernetesFilterOptions, type KubernetesFilterOptions } from './options.js';

export const kubernetesFilter: FilterPlugin = {
  kind: 'filter',
  name: 'kubernetes',
  description:
    "Adds each container log record's pod metadata (Fluent Bit `kubernetes`: labels, annotations, owner, node, image; namespace labels), merges JSON logs and honours fluentbit.io/ annotations, from a watch of this node's pods",
  options: kubernetesFilterOptions,
  check: (options, env) => checkKubernetesFilterOptions(options, env),
  create: (options, ctx) => new KubernetesFilter(resolveKubernetesFilterOptions(options), ctx),
};
