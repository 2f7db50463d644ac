import type { InputPlugin } from '../../core/registry-types.js';
import { DummyInput, dummyOptions } from './input.js';

export { DummyInput, dummyOptions } from './input.js';
export { SAMPLE_EVENT_DUMMY, SAMPLE_EVENT_JSON } from './sample-event.js';

export const dummyInput: InputPlugin = {
  kind: 'input',
  name: 'dummy',
  description: 'Generates a fixed record at a fixed rate (Fluent Bit `dummy`), for trying pipelines out',
  options: dummyOptions,
  create: (options, ctx) => new DummyInput(options, ctx),
};
