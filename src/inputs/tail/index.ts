import type { InputPlugin } from '../../core/registry-types.js';
import { checkTailOptions, tailOptions } from './options.js';
import { TailInput } from './tail-input.js';

export { TailInput } from './tail-input.js';
export { tailOptions, resolveTailOptions, type TailOptions } from './options.js';

export const tailInput: InputPlugin = {
  kind: 'input',
  name: 'tail',
  description:
    'Follows files (Fluent Bit `tail`): container logs in CRI and docker formats with split lines joined, stack traces folded (`multiline.parser`), Fluent Bit\'s `parser`, `docker_mode` and old `multiline`, kubernetes metadata from the file name, rotation, and positions that move only past delivered lines',
  options: tailOptions,
  check: checkTailOptions,
  create: (options, ctx) => new TailInput(options, ctx),
};
