import type { OutputPlugin } from '../../core/registry-types.js';
import { StdoutOutput, stdoutOptions } from './output.js';

export { StdoutOutput, stdoutOptions } from './output.js';
export { Rfc3339NanoFormatter, formatBatch, lineOf, readableLabels, type StdoutFormat } from './format.js';

export const stdoutOutput: OutputPlugin = {
  kind: 'output',
  name: 'stdout',
  description: "Prints each entry's time, tag, labels and line to standard output, readable or as JSON lines",
  options: stdoutOptions,
  create: (options, ctx) => new StdoutOutput(options, ctx),
};
