import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startupFlags } from '../../src/startup.js';

const during = (execArgv: string[], nodeOptions = ''): string[] => startupFlags(execArgv, nodeOptions).map((f) => f.during);

test('start-up turns TurboFan and Sparkplug off, unless the user set them', () => {
  assert.deepEqual(during([]), ['--no-opt', '--no-sparkplug']);
  assert.deepEqual(during(['--no-opt']), ['--no-sparkplug']);
  assert.deepEqual(during(['--import', 'tsx'], '--turbofan --max-old-space-size=200'), ['--no-sparkplug']);
  assert.deepEqual(during(['--no_sparkplug']), ['--no-opt']);
  assert.deepEqual(during([], '--jitless'), []);
});
