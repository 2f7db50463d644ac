import type { OutputPlugin } from '../../core/registry-types.js';
import { StdoutOutput, stdoutOptions } from './output.js';

export { StdoutOutput, stdoutOptions } from './output.js';
export { Rfc3339NanoFormatter, formatBatch, lineOf, readableLabels, STDOUT_FORMATS, type StdoutFormat } from './format.js';
export { fluentBitDump, fluentBitJson, jsonDate } from './fluent-bit-format.js';

export const stdoutOutput: OutputPlugin = {
  kind: 'output',
  name: 'stdout',
  description: "Prints each entry to standard output: its time, tag, labels and Loki line (floki's formats), or the record as Fluent Bit's formats print it",
  options: stdoutOptions,
  create: (options, ctx) => new StdoutOutput(options, ctx),
};
