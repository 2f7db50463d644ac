/**
 * `floki -c FILE --dry-run` (`-D`) as a user runs it: either format, warnings and errors with the file and
 * line (of the included file where the mistake is), and the configs that used to hang or crash it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FlokiProcess, ROOT } from '../helpers/floki-process.js';
import { writeFiles } from '../unit/config-kit.js';

const dryRun = async (file: string, env: NodeJS.ProcessEnv = {}) => {
  const f = new FlokiProcess(['-c', file, '-D'], env);
  const code = await f.wait();
  return { code, stdout: f.stdout, stderr: f.stderr };
};

test('a classic config: config ok, and its warnings with file and line', async () => {
  const r = await dryRun(join(ROOT, 'test', 'fixtures', 'configs', 'docs', 'http.conf'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'config ok\n');
  assert.equal(r.stderr, "http.conf:11: warning: inputs[1] (http): key 'success_header' has no effect in floki (floki adds no headers to its answers)\n");
});

test('errors in an included file name that file and line', async (t) => {
  const dir = writeFiles(t, {
    'fluent-bit.conf': '[SERVICE]\n    Flush 1\n@INCLUDE conf.d/*.conf\n',
    'conf.d/input.conf': '[INPUT]\n    Name dummy\n    Rate lots\n',
    'conf.d/output.conf': '[OUTPUT]\n    Name loki\n    Match *\n    Lables job=x\n',
  });
  const r = await dryRun(join(dir, 'fluent-bit.conf'));
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "conf.d/input.conf:3: inputs[0] (dummy): key 'rate': expected an integer, got 'lots'\nconf.d/output.conf:4: outputs[0] (loki): unknown key 'lables' (did you mean 'labels'?)\n");
});

test('-c /dev/zero is refused at once instead of reading forever', async () => {
  const r = await dryRun('/dev/zero');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'zero:0: cannot read config: it is not a regular file (a FIFO, socket or device): floki reads configs from regular files only\n');
});

test('-c on a FIFO is refused at once instead of waiting for a writer', async (t) => {
  const dir = writeFiles(t, {});
  execFileSync('mkfifo', [join(dir, 'fluent-bit.conf')]);
  const r = await dryRun(join(dir, 'fluent-bit.conf'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^fluent-bit\.conf:0: cannot read config: it is not a regular file/);
});

test('a ${VAR} expanding past the longest string is a file:line error, not a RangeError stack trace', async (t) => {
  // 100 KiB in the environment, named 6000 times: 600 MiB once replaced.
  const dir = writeFiles(t, { 'fb.yaml': `pipeline:\n  inputs:\n    - name: dummy\n      tag: '${'${BIG}'.repeat(6000)}'\n  outputs:\n    - name: stdout\n      match: '*'\n` });
  const r = await dryRun(join(dir, 'fb.yaml'), { BIG: 'x'.repeat(100 * 1024) });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "fb.yaml:4: inputs[0] (dummy): the value grows past 1 MiB once its variables are replaced (at '${BIG}')\n");
});
