/**
 * `floki -c fluent.conf --dry-run` on Fluentd configs, as a user runs it: every refusal at once, each
 * with its file (the included one where it is) and line, plugins floki lacks named with their
 * directive; `config ok` with the warnings for a config floki runs; `--format fluentd` for a file
 * whose content does not say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FlokiProcess } from '../helpers/floki-process.js';
import { writeFiles } from '../unit/config-kit.js';

const run = async (args: string[]) => {
  const f = new FlokiProcess(args, {});
  const code = await f.wait();
  return { code, stdout: f.stdout, stderr: f.stderr };
};

test('--dry-run on a Fluentd config lists every refusal with file and line', async (t) => {
  const dir = writeFiles(t, {
    'fluent.conf': '<source>\n  @type tail\n  path /var/log/app.log\n  tag app\n  encoding ISO-8859-1\n  <parse>\n    @type apache2\n  </parse>\n</source>\n@include out.conf\n',
    'out.conf': '<match app>\n  @type elasticsearch\n</match>\n<match **>\n  @type null\n  flush_mode never\n</match>\n',
  });
  const r = await run(['-c', join(dir, 'fluent.conf'), '--dry-run']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    [
      'fluent.conf:5: <source> @type tail: encoding ISO-8859-1 is not supported by floki (floki reads UTF-8)',
      'fluent.conf:7: <source> @type tail <parse> @type apache2 is not supported by floki (floki has no such parser (cri, json, regexp, none, multiline, multi_format, kubernetes and syslog are mapped))',
      'out.conf:2: <match app> @type elasticsearch is not supported by floki (floki has no such output (loki, forward, stdout, null, copy and relabel are mapped))',
      "out.conf:6: <match **> @type null: parameter 'flush_mode' is not supported by floki (floki does not map it, and it may change what is delivered)",
      '',
    ].join('\n'),
  );
});

test('--dry-run: config ok with its warnings; --format fluentd whatever the content', async (t) => {
  const dir = writeFiles(t, {
    'fluent.conf': '<source>\n  @type forward\n  port 0\n  linger_timeout 5\n</source>\n<match **>\n  @type null\n</match>\n',
    'odd.txt': '# a Fluentd file whose first line is no directive\n@include fluent.conf\n',
  });
  const r = await run(['-c', join(dir, 'fluent.conf'), '-D']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'config ok\n');
  assert.equal(r.stderr, 'fluent.conf:4: warning: <source> @type forward: linger_timeout is ignored by floki (it changes nothing floki delivers)\n');
  const forced = await run(['-c', join(dir, 'odd.txt'), '--format', 'fluentd', '-D']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stdout, 'config ok\n');
});
