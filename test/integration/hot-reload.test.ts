/**
 * Issue #13's test for hot reload: lines keep arriving, by a tailed file and a forward client with acks,
 * during five reloads through /api/v2/reload (one adds a filter, one changes a label of the Loki
 * output, one changes both inputs) and one broken config in between, which is refused while the
 * running pipeline goes on. Every line reaches the decoding Loki receiver exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, loadConfigFile } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { freePort } from '../helpers/floki-process.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';
import { AckingForwardClient } from './hot-reload-client.js';

interface Version {
  /** What the version changes, for failure messages. */
  what: string;
  filters?: string;
  labels?: string;
  tailTag?: string;
  forwardPrefix?: string;
  broken?: boolean;
}

test('hot reload under load: lines keep arriving during 5 reloads, each exactly once; a broken config is refused and the old pipeline keeps running', async (t) => {
  const loki = await LokiReceiver.start();
  const dir = mkdtempSync(join(tmpdir(), 'floki-hot-reload-'));
  const port = await freePort();
  t.after(async () => {
    await loki.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const logFile = join(dir, 'app.log');
  writeFileSync(logFile, '');
  const configFile = join(dir, 'fluent-bit.yaml');
  const render = (v: Version) => `service:
  flush: 1
  grace: 4
  log_level: ${process.env.FLOKI_TEST_LOG ?? 'off'}
  hot_reload: on
  http_server: on
  http_listen: 127.0.0.1
  http_port: 0
pipeline:
  inputs:
    - name: tail
      path: ${join(dir, '*.log')}
      read_from_head: true
      tag: ${v.tailTag ?? 'app'}
    - name: forward
      listen: 127.0.0.1
      port: ${port}
      tag_prefix: ${v.forwardPrefix ?? 'fwd.'}
${v.filters ? `  filters:\n${v.filters}` : ''}  outputs:
    - name: loki
      match: '*'
      url: ${loki.url}
      labels: ${v.labels ?? 'job=floki'}
      batch_wait: 100ms
${v.broken ? '      lables: job=oops\n' : ''}`;
  writeFileSync(configFile, render({ what: 'start' }));
  const floki = new Floki(loadConfigFile(configFile, PLUGINS, {}), pino({ level: 'silent' }), { reader: () => loadConfig(configFile, PLUGINS) });
  await floki.start();
  t.after(() => floki.stop(1000));
  const reload = async () => {
    const res = await fetch(`http://127.0.0.1:${floki.httpAddress!.port}/api/v2/reload`, { method: 'POST', body: '{}' });
    return { status: res.status, json: (await res.json()) as { reload: string; errors?: string[] } };
  };

  // The load: a writer appends 20 lines every 10 ms; the client sends a chunk of 5 lines every 10 ms.
  let tailLines = 0;
  let forwardLines = 0;
  const client = new AckingForwardClient(port, 'app', 8);
  t.after(() => client.close());
  const load = setInterval(() => {
    let text = '';
    for (let i = 0; i < 20; i++) text += `tail-${tailLines++}\n`;
    appendFileSync(logFile, text);
    client.send(Array.from({ length: 5 }, () => `fwd-${forwardLines++}`));
  }, 10);
  t.after(() => clearInterval(load));

  const versions: Version[] = [
    { what: 'a filter added', filters: '    - name: record_modifier\n      match: "*"\n      record: generation two\n' },
    { what: 'a label of the output changed', filters: '    - name: record_modifier\n      match: "*"\n      record: generation three\n', labels: 'job=floki, generation=three' },
    { what: 'a broken config', broken: true },
    { what: 'both inputs changed', tailTag: 'app.four', forwardPrefix: 'four.', labels: 'job=floki, generation=three' },
    { what: 'the filter removed', tailTag: 'app.five', labels: 'job=floki, generation=three' },
    { what: 'the label removed again', tailTag: 'app.six' },
  ];
  for (const v of versions) {
    const before = loki.entries.length;
    await waitFor(() => loki.entries.length > before + 300, `lines arriving before the reload to "${v.what}"`, 30_000);
    writeFileSync(configFile, render(v));
    const answer = await reload();
    if (v.broken) {
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.json.errors, [`fluent-bit.yaml:25: outputs[0] (loki): unknown key 'lables' (did you mean 'labels'?)`]);
      const running = loki.entries.length;
      await waitFor(() => loki.entries.length > running + 300, 'the running pipeline goes on after the broken config', 30_000);
    } else {
      assert.deepEqual([answer.status, answer.json], [200, { reload: 'done', status: 0 }], v.what);
    }
  }
  assert.equal(floki.reloads, 5);
  assert.equal(floki.reloadFailures, 1);

  clearInterval(load);
  await waitFor(() => client.outstanding === 0, 'every forward chunk acked', 30_000);
  const want = tailLines + forwardLines;
  await waitFor(() => loki.entries.length >= want, `all ${want} lines in Loki (have ${loki.entries.length})`, 30_000);
  // A line sent twice would arrive now: give the outputs another batch.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const counts = new Map<string, number>();
  for (const e of loki.entries) {
    const record = JSON.parse(e.line) as { log?: string; msg?: string };
    const line = record.log ?? record.msg ?? e.line;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  const missing: string[] = [];
  for (let i = 0; i < tailLines; i++) if (!counts.has(`tail-${i}`)) missing.push(`tail-${i}`);
  for (let i = 0; i < forwardLines; i++) if (!counts.has(`fwd-${i}`)) missing.push(`fwd-${i}`);
  const twice = [...counts].filter(([, n]) => n > 1).map(([line, n]) => `${line} ×${n}`);
  assert.deepEqual({ missing: missing.slice(0, 10), twice: twice.slice(0, 10) }, { missing: [], twice: [] }, `${missing.length} missing, ${twice.length} twice of ${want}`);
  assert.equal(loki.entries.length, want);
  // The reloads did what they said: the filter's key, the label, the inputs' tags.
  const generations = new Set(loki.entries.map((e) => e.labels.generation ?? '-'));
  assert.deepEqual([...generations].sort(), ['-', 'three']);
  assert.ok(loki.entries.some((e) => e.line.includes('"generation":"two"')));
  assert.ok(client.connections >= 6, `the forward client reconnected at each reload (${client.connections} connections)`);
  assert.equal(client.resets, 0);
});
