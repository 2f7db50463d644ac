/** The `forward` output plugin: Fluent Bit's out_forward, to Fluent Bit, Fluentd or floki forward inputs. */
import type { OutputPlugin } from '../../core/registry-types.js';
import { ForwardOutput } from './forward-output.js';
import { FORWARD_OUTPUT_OPTIONS, resolveForwardOutputConfig } from './options.js';

export const forwardOutput: OutputPlugin = {
  kind: 'output',
  name: 'forward',
  description:
    'Sends to Fluent Bit, Fluentd or floki forward inputs (Fluent Bit out_forward): Forward, Message and CompressedPackedForward modes, acks, the shared key handshake, TLS, unix socket, upstream balancing.',
  options: FORWARD_OUTPUT_OPTIONS,
  check: (options) => void resolveForwardOutputConfig(options),
  create: (options, ctx) => new ForwardOutput(resolveForwardOutputConfig(options), ctx),
};

export { ForwardOutput, type ForwardOutputDeps } from './forward-output.js';
export { FORWARD_OUTPUT_OPTIONS, ForwardConfigError, resolveForwardOutputConfig, type ForwardOutputConfig } from './options.js';
export type { ForwardNode } from './upstream-nodes.js';
