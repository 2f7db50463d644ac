/**
 * A Fluentd `http` source run by floki: a JSON record POSTed to `/<tag>` takes the path as its tag,
 * as Fluentd's in_http does, and is routed by that tag through first-match-wins `<match>`es (a
 * `null` one drops what it takes) to a grafana-loki `<match>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { freePort } from '../helpers/floki-process.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { lines, writeFiles } from '../unit/config-kit.js';

test('a Fluentd http source: the URL path is the tag, first match wins, null drops', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const port = await freePort();
  const dir = writeFiles(t, {});
  const conf = join(dir, 'fluent.conf');
  writeFileSync(
    conf,
    `<source>
  @type http
  bind 127.0.0.1
  port ${port}
  body_size_limit 1m
</source>
<match app.debug>
  @type null
</match>
<match app.**>
  @type loki
  url http://127.0.0.1:${loki.port}
  extra_labels {"job":"fluentd"}
  line_format key_value
  <label>
    app $.kubernetes.labels.app
  </label>
  <buffer>
    flush_interval 0.1s
  </buffer>
</match>
`,
  );
  const loaded = loadConfig(conf, PLUGINS, { environment: {} });
  assert.ok(loaded.config, lines(loaded.problems).join('\n'));
  const floki = new Floki(loaded.config, pino({ level: process.env.FLOKI_TEST_LOG ?? 'silent' }));
  await floki.start();
  t.after(() => floki.stop(100));
  const post = async (tag: string, record: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/${tag}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) });
    assert.ok(res.status < 300, `POST /${tag}: ${res.status}`);
  };
  await post('app.debug', { msg: 'dropped' });
  await post('app.web', { msg: 'hello world', kubernetes: { labels: { app: 'web' } } });
  await loki.waitFor(1, 10_000);
  await floki.stop(1000);
  assert.deepEqual(
    loki.entries.map((e) => [e.labels, e.line]),
    // The <label> key leaves the record; the rest is the plugin's key_value line (Ruby's to_s of the map, quoted).
    [[{ job: 'fluentd', app: 'web' }, 'msg="hello world" kubernetes="{\\"labels\\" => {}}"']],
  );
});
