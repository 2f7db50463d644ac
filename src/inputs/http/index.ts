import type { InputPlugin } from '../../core/registry-types.js';
import { httpOptions, resolveHttpOptions } from './options.js';
import { HttpInput } from './server.js';

export { BadBodyError, parseBody } from './body.js';
export { httpOptions, resolveHttpOptions, type HttpInputOptions } from './options.js';
export { HttpInput, tagFromUrl } from './server.js';

export const httpInput: InputPlugin = {
  kind: 'input',
  name: 'http',
  description:
    "Receives JSON records over HTTP (Fluent Bit `http`): POST / or /<tag> with an object, an array or JSON lines; kubernetes-event-exporter's webhook receiver works as is",
  options: httpOptions,
  check: (options) => void resolveHttpOptions(options),
  create: (options, ctx) => new HttpInput(resolveHttpOptions(options), ctx),
};
