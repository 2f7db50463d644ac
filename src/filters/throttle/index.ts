import type { FilterPlugin } from '../../core/registry-types.js';
import { ThrottleFilter, throttleOptions } from './filter.js';

export { ThrottleFilter, throttleOptions, intervalSeconds } from './filter.js';
export { ThrottleWindow } from './window.js';

export const throttleFilter: FilterPlugin = {
  kind: 'filter',
  name: 'throttle',
  description: "Drops records past an average rate over a sliding window of intervals (Fluent Bit's throttle)",
  options: throttleOptions,
  create: (options, ctx) => new ThrottleFilter(options, ctx),
};
