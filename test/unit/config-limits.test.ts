/**
 * The loader's bounds (src/config/limits.ts): files that are not regular, files and expansions over
 * their size, too many files, too many plugin instances. Each ends in a clear error, quickly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CONFIG_LIMITS } from '../../src/config/limits.js';
import { PLUGINS } from '../../src/plugins.js';
import { refused, writeFiles } from './config-kit.js';

const OUTPUT = "  outputs:\n    - name: stdout\n      match: '*'\n";

test('a FIFO is refused without opening it (opening it would wait for a writer forever)', (t) => {
  const dir = writeFiles(t, {});
  const fifo = join(dir, 'fluent-bit.conf');
  execFileSync('mkfifo', [fifo]);
  assert.deepEqual(refused(fifo, PLUGINS), [
    'fluent-bit.conf:0: cannot read config: it is not a regular file (a FIFO, socket or device): floki reads configs from regular files only',
  ]);
});

test('a device and a directory are refused', (t) => {
  assert.deepEqual(refused('/dev/zero', PLUGINS), ['zero:0: cannot read config: it is not a regular file (a FIFO, socket or device): floki reads configs from regular files only']);
  const dir = writeFiles(t, { 'sub/x': '' });
  assert.deepEqual(refused(join(dir, 'sub'), PLUGINS), ['sub:0: cannot read config: it is a directory, not a file']);
});

test('a ${VAR} that grows a value past 1 MiB is an error at its line, not a RangeError', (t) => {
  const big = 'x'.repeat(1024 * 1024);
  // 600 MiB once replaced: past V8's longest string, which ended the old loader with a RangeError.
  const dir = writeFiles(t, { 'fb.yaml': `pipeline:\n  inputs:\n    - name: dummy\n      tag: '${'${BIG}'.repeat(600)}'\n${OUTPUT}` });
  const started = Date.now();
  assert.deepEqual(refused(join(dir, 'fb.yaml'), PLUGINS, { environment: { BIG: big } }), [
    "fb.yaml:4: inputs[0] (dummy): the value grows past 1 MiB once its variables are replaced (at '${BIG}')",
  ]);
  assert.ok(Date.now() - started < 2000);
});

test('replacements add at most 8 MiB to a whole config', (t) => {
  const half = 'x'.repeat(512 * 1024);
  const inputs = Array.from({ length: 20 }, () => "    - name: dummy\n      tag: '${HALF}'\n").join('');
  const dir = writeFiles(t, { 'fb.yaml': `pipeline:\n  inputs:\n${inputs}${OUTPUT}` });
  const problems = refused(join(dir, 'fb.yaml'), PLUGINS, { environment: { HALF: half } });
  assert.match(problems[0]!, /^fb\.yaml:\d+: inputs\[16\] \(dummy\): replacing variables has added more than 8 MiB to the config$/);
});

test('300,000 inputs are refused in well under a second: the file is over 1 MiB', (t) => {
  const dir = writeFiles(t, { 'fb.yaml': `pipeline:\n  inputs:\n${'    - name: dummy\n'.repeat(300_000)}${OUTPUT}` });
  const started = Date.now();
  assert.deepEqual(refused(join(dir, 'fb.yaml'), PLUGINS), ['fb.yaml:0: cannot read config: it is larger than 1 MiB, the limit for one config file']);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
});

test('more than 10,000 plugin instances are refused before any is built', (t) => {
  const n = CONFIG_LIMITS.instances + 1;
  const dir = writeFiles(t, { 'fb.yaml': `pipeline:\n  inputs: [${'{name: dummy},'.repeat(n - 1)}{name: dummy}]\n${OUTPUT}` });
  assert.deepEqual(refused(join(dir, 'fb.yaml'), PLUGINS), [`fb.yaml:0: the config has ${n + 1} plugin instances, more than the 10000 floki accepts`]);
});

test('includes count against 8 MiB for every file together, and 1000 files', (t) => {
  const chunk = `# ${'x'.repeat(1000 * 1024)}\n`;
  const files: Record<string, string> = { 'main.conf': '@INCLUDE part_*.conf\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n' };
  for (let i = 0; i < 9; i++) files[`part_${i}.conf`] = chunk;
  const dir = writeFiles(t, files);
  assert.deepEqual(refused(join(dir, 'main.conf'), PLUGINS), [`main.conf:1: @INCLUDE: cannot read ${join(dir, 'part_8.conf')}: the config's files together are larger than 8 MiB`]);

  const many: Record<string, string> = { 'main.conf': '@INCLUDE inc/*.conf\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n' };
  for (let i = 0; i < 1000; i++) many[`inc/${String(i).padStart(4, '0')}.conf`] = '# empty\n';
  const manyDir = writeFiles(t, many);
  assert.deepEqual(refused(join(manyDir, 'main.conf'), PLUGINS), [`main.conf:1: @INCLUDE: cannot read ${join(manyDir, 'inc/0999.conf')}: more than 1000 config files`]);
});
