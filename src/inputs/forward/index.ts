import type { InputPlugin } from '../../core/registry-types.js';
import { forwardOptions, resolveForwardOptions } from './options.js';
import { ForwardServer } from './server.js';

export { ForwardFrameDecoder, type ForwardFrame, type ForwardFrameDecoderOptions, type ForwardMode, type ForwardOption } from './decoder.js';
export { ForwardProtocolError } from './errors.js';
export { EventTime } from './event-time.js';
export { forwardOptions, resolveForwardOptions, type ForwardServerOptions } from './options.js';
export { ForwardServer } from './server.js';

export const forwardInput: InputPlugin = {
  kind: 'input',
  name: 'forward',
  description: 'Receives the Fluent forward protocol over TCP (Fluent Bit / Fluentd forward output, fluent-logger libraries)',
  options: forwardOptions,
  create: (options, ctx) => new ForwardServer(resolveForwardOptions(options), ctx),
};
