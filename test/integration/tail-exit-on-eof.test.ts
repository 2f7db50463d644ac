/**
 * exit_on_eof, run by the floki command: once every file present at start is read to its end, floki
 * sends what it read and exits 0 by itself, as Fluent Bit does. An unfinished last line (no newline)
 * is not a line yet and is not sent, as in Fluent Bit; an unfinished multiline entry is sent (Fluent
 * Bit 5.1.1 drops it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlokiProcess } from '../helpers/floki-process.js';
import { tempDir } from '../helpers/tail-harness.js';

test('exit_on_eof: floki reads the files present at start to their end, sends their lines, and exits 0', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.log'), 'a\nb\nunfinished');
  writeFileSync(join(dir, 'b.log'), 'c\njava.lang.IllegalStateException: boom\n\tat a.b(C.java:1)\n');
  writeFileSync(
    join(dir, 'fluent-bit.conf'),
    `[SERVICE]
    Grace 2
[INPUT]
    Name             tail
    Path             ${dir}/*.log
    Read_From_Head   true
    Exit_On_Eof      On
    multiline.parser java
[OUTPUT]
    Name   stdout
    Match  *
    Format json_lines
`,
  );
  const floki = new FlokiProcess(['-c', join(dir, 'fluent-bit.conf')]);
  t.after(() => floki.stop('SIGKILL'));
  const started = Date.now();
  const code = await floki.wait();
  assert.equal(code, 0, floki.stderr);
  assert.ok(Date.now() - started < 15_000);
  const logs = floki.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      // The record itself (Fluent Bit's json_lines), or floki's earlier {tag, time, labels, line}.
      const printed = JSON.parse(l) as { log?: string; line?: string };
      return printed.line !== undefined ? (JSON.parse(printed.line) as { log: string }).log : printed.log;
    })
    .sort();
  assert.deepEqual(logs, ['a\n', 'b\n', 'c\n', 'java.lang.IllegalStateException: boom\n\tat a.b(C.java:1)\n']);
  assert.match(floki.stderr, /every file read to its end \(exit_on_eof\): stopping/);
});
