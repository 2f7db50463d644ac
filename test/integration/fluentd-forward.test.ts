/**
 * Two Fluentd configs, both run by floki: a sender (`sample` source, `forward` output with
 * `<security>` and a `<server>` user, acks) and a receiver (`forward` source with `<security>`,
 * `user_auth` and `<user>`, `@label` routing to a `<label>` whose `grep` and grafana-loki `<match>` take
 * the events), delivering to a decoding Loki receiver. What the Fluentd front-end maps for the
 * forward plugins, sample, labels and the loki output, end to end over real sockets.
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

test('a Fluentd forward sender and receiver with shared key and user auth, @label routing, into Loki', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const port = await freePort();
  const dir = writeFiles(t, {});
  const receiver = join(dir, 'receiver.conf');
  writeFileSync(
    receiver,
    `<source>
  @type forward
  @label @IN
  bind 127.0.0.1
  port ${port}
  <security>
    self_hostname receiver
    shared_key s3cret
    user_auth true
    <user>
      username alice
      password pw
    </user>
  </security>
</source>
<label @IN>
  <filter app.**>
    @type grep
    <exclude>
      key message
      pattern /^drop/
    </exclude>
  </filter>
  <match app.**>
    @type loki
    url http://127.0.0.1:${loki.port}
    extra_labels {"job":"fluentd"}
    line_format json
    <label>
      stream
    </label>
    <buffer>
      flush_interval 0.2s
    </buffer>
  </match>
</label>
<match **>
  @type null
</match>
`,
  );
  const sender = join(dir, 'sender.conf');
  writeFileSync(
    sender,
    `<source>
  @type sample
  tag app.web
  rate 20
  sample {"message":"hello","stream":"stdout"}
</source>
<source>
  @type sample
  tag app.web
  rate 20
  sample {"message":"drop me","stream":"stdout"}
</source>
<match app.**>
  @type forward
  require_ack_response true
  <security>
    self_hostname sender
    shared_key s3cret
  </security>
  <server>
    host 127.0.0.1
    port ${port}
    username alice
    password pw
  </server>
</match>
`,
  );
  const start = async (file: string) => {
    const loaded = loadConfig(file, PLUGINS, { environment: {} });
    assert.ok(loaded.config, lines(loaded.problems).join('\n'));
    const floki = new Floki(loaded.config, pino({ level: process.env.FLOKI_TEST_LOG ?? 'silent' }));
    await floki.start();
    return floki;
  };
  const rx = await start(receiver);
  t.after(() => rx.stop(100));
  const tx = await start(sender);
  t.after(() => tx.stop(100));
  await loki.waitFor(3, 20_000);
  await tx.stop(1000);
  await rx.stop(1000);
  assert.ok(loki.entries.length >= 3);
  for (const e of loki.entries) {
    assert.deepEqual(e.labels, { job: 'fluentd', stream: 'stdout' });
    assert.deepEqual(JSON.parse(e.line), { message: 'hello' });
  }
});
