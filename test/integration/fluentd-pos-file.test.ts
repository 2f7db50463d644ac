/**
 * A switch from Fluentd: a Fluentd config's tail `pos_file` (Fluentd's format, as a running Fluentd
 * leaves it) is read at floki's first start, through the Fluentd front-end and the real tail input,
 * so that each file resumes where Fluentd stopped: no line read again, none skipped. A file Fluentd
 * knew under another inode (replaced while nobody ran) is read from its start; a file it did not know
 * starts at its end (read_from_head false), as in Fluentd. At the next start floki's own positions
 * (`<pos_file>.floki`) are used and Fluentd's file is neither read again nor written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';
import { lines, writeFiles } from '../unit/config-kit.js';

const hex = (n: number | bigint) => n.toString(16).padStart(16, '0');

test("a Fluentd pos_file is resumed at floki's first start without reading a line twice or skipping one", async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const dir = writeFiles(t, { 'log/.keep': '' });
  const log = (name: string) => join(dir, 'log', name);
  const app = ['app 1', 'app 2', 'app 3', 'app 4', 'app 5'];
  writeFileSync(log('app.log'), app.map((l) => `${l}\n`).join(''));
  writeFileSync(log('replaced.log'), 'replaced 1\nreplaced 2\n');
  writeFileSync(log('unknown.log'), 'unknown old 1\n');
  // Fluentd read app.log up to the end of its third line; replaced.log's entry names an inode the file no longer has.
  const readUpTo = Buffer.byteLength('app 1\napp 2\napp 3\n');
  const pos = join(dir, 'fluentd-containers.log.pos');
  writeFileSync(
    pos,
    [
      `${log('app.log')}\t${hex(readUpTo)}\t${hex(statSync(log('app.log'), { bigint: true }).ino)}`,
      `${log('replaced.log')}\t${hex(7)}\t${hex(statSync(log('replaced.log'), { bigint: true }).ino + 1000n)}`,
      `${log('gone.log')}\tffffffffffffffff\t${hex(42)}`,
      '',
    ].join('\n'),
  );
  const before = readFileSync(pos, 'utf8');
  const conf = join(dir, 'fluent.conf');
  writeFileSync(
    conf,
    `<source>
  @type tail
  path ${join(dir, 'log', '*.log')}
  pos_file ${pos}
  tag app.*
  read_from_head false
  <parse>
    @type regexp
    expression /^(?<message>.*)$/
  </parse>
</source>
<match app.**>
  @type loki
  url http://127.0.0.1:${loki.port}
  extra_labels {"job":"fluentd"}
  include_thread_label false
  line_format json
  <buffer>
    flush_interval 0.1s
  </buffer>
</match>
`,
  );
  const start = async () => {
    const loaded = loadConfig(conf, PLUGINS, { environment: {} });
    assert.ok(loaded.config, lines(loaded.problems).join('\n'));
    const floki = new Floki(loaded.config, pino({ level: process.env.FLOKI_TEST_LOG ?? 'silent' }));
    await floki.start();
    return floki;
  };
  const got = () => loki.entries.map((e) => (JSON.parse(e.line) as { message: string }).message).sort();

  let floki = await start();
  t.after(() => floki.stop(100));
  await waitFor(() => loki.entries.length >= 4, 'the lines after the saved positions');
  // A line written after the start, to a file Fluentd did not know: read (it is new since the start).
  appendFileSync(log('unknown.log'), 'unknown new 2\n');
  appendFileSync(log('app.log'), 'app 6\n');
  await waitFor(() => loki.entries.length >= 6, 'the lines written after the start');
  await floki.stop(1000);
  assert.deepEqual(got(), ['app 4', 'app 5', 'app 6', 'replaced 1', 'replaced 2', 'unknown new 2']);
  assert.ok(existsSync(`${pos}.floki`), "floki keeps its own positions beside Fluentd's file");
  assert.equal(readFileSync(pos, 'utf8'), before, "Fluentd's pos file is not written");

  // The next start resumes from floki's own positions: nothing again, the new line once.
  appendFileSync(log('app.log'), 'app 7\n');
  floki = await start();
  await waitFor(() => loki.entries.length >= 7, 'the line written while floki was down');
  await floki.stop(1000);
  assert.deepEqual(got(), ['app 4', 'app 5', 'app 6', 'app 7', 'replaced 1', 'replaced 2', 'unknown new 2']);
});
