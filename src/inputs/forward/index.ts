import type { InputPlugin } from '../../core/registry-types.js';
import { checkForwardOptions, forwardOptions, resolveForwardOptions } from './options.js';
import { ForwardServer } from './server.js';

export { ForwardFrameDecoder, type ForwardFormat, type ForwardFrame, type ForwardFrameDecoderOptions, type ForwardMode, type ForwardOption } from './decoder.js';
export { ForwardProtocolError } from '../../forward/protocol-error.js';
export { EventTime } from '../../forward/event-time.js';
export { ForwardHandshake } from './handshake.js';
export { forwardOptions, resolveForwardOptions, type ForwardServerOptions } from './options.js';
export { ForwardServer } from './server.js';

export const forwardInput: InputPlugin = {
  kind: 'input',
  name: 'forward',
  description:
    'Receives the Fluent forward protocol (Fluent Bit / Fluentd forward output, fluent-logger libraries): every mode, msgpack or JSON, acks, the shared key handshake, TLS, unix socket, UDP heartbeat',
  options: forwardOptions,
  check: checkForwardOptions,
  create: (options, ctx) => new ForwardServer(resolveForwardOptions(options), ctx),
};
