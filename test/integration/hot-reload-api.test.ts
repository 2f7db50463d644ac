/**
 * `/api/v2/reload`, as Fluent Bit 5.1.1 answers it (observed on the binary, see the README's "Hot
 * reload"): GET `{"hot_reload_count":N}`; POST or PUT with `-d '{}'` reloads, `{"reload":"done",
 * "status":0}`; `{"reload":"not enabled","status":-1}` (200) with hot_reload off; 400
 * `{"reload":"in progress","status":-2}` during a reload; 405 with `Allow: GET, POST, PUT` otherwise.
 * floki answers once the reload is done, and a refused config with 400 and its errors.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, loadConfigFile } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { freePort } from '../helpers/floki-process.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

async function setup(t: TestContext, config: (service: string) => string, service = '  hot_reload: on\n') {
  const dir = mkdtempSync(join(tmpdir(), 'floki-reload-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'floki.yaml');
  const write = (text: string) => writeFileSync(file, text);
  write(config(service));
  const floki = new Floki(loadConfigFile(file, PLUGINS, {}), pino({ level: process.env.FLOKI_TEST_LOG ?? 'silent' }), { reader: () => loadConfig(file, PLUGINS) });
  await floki.start();
  t.after(() => floki.stop(500));
  const url = () => `http://127.0.0.1:${floki.httpAddress!.port}/api/v2/reload`;
  return { floki, write, url };
}

async function call(url: string, method: string, body?: string): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(url, body === undefined ? { method } : { method, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const text = await res.text();
  return { status: res.status, json: text.length ? JSON.parse(text) : undefined, headers: res.headers };
}

test('GET counts reloads; POST and PUT reload a valid config and refuse an invalid one with its errors; other methods 405', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const config = (tag: string) => (service: string) => `service:
  log_level: off
  http_server: on
  http_listen: 127.0.0.1
  http_port: 0
${service}pipeline:
  inputs:
    - name: dummy
      rate: 50
      tag: ${tag}
  outputs:
    - name: loki
      match: '*'
      url: ${loki.url}
      labels: job=floki, tag=$TAG
      batch_wait: 50ms
`;
  const { floki, write, url } = await setup(t, config('one'));
  assert.deepEqual((await call(url(), 'GET')).json, { hot_reload_count: 0, hot_reload_failure_count: 0 });
  write(config('two')('  hot_reload: on\n'));
  // curl -X POST -d '{}' (a form body, as curl sends it)
  assert.deepEqual(await call(url(), 'POST', '{}').then((r) => [r.status, r.json]), [200, { reload: 'done', status: 0 }]);
  assert.deepEqual((await call(url(), 'GET')).json, { hot_reload_count: 1, hot_reload_failure_count: 0 });
  await loki.waitUntil(() => loki.entries.some((e) => e.labels.tag === 'two'), 'entries of the new config');

  write(config('three')('  hot_reload: on\n').replace('rate: 50', 'rate: fast'));
  const refused = await call(url(), 'PUT');
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.json, { reload: 'failed', status: -3, errors: ["floki.yaml:10: inputs[0] (dummy): key 'rate': expected an integer, got 'fast'"] });
  assert.deepEqual((await call(url(), 'GET')).json, { hot_reload_count: 1, hot_reload_failure_count: 1 });
  const seen = loki.entries.length;
  await loki.waitUntil(() => loki.entries.length > seen + 5, 'the running pipeline goes on');
  assert.ok(loki.entries.slice(seen).every((e) => e.labels.tag === 'two'));

  const other = await call(url(), 'DELETE');
  assert.equal(other.status, 405);
  assert.equal(other.headers.get('allow'), 'GET, POST, PUT');
  assert.equal(await floki.metrics.value('floki_config_reloads_total', { result: 'success' }), 1);
  assert.equal(await floki.metrics.value('floki_config_reloads_total', { result: 'failure' }), 1);
});

test("with hot_reload off a POST answers Fluent Bit's 'not enabled' and changes nothing", async (t) => {
  const config = (service: string) => `service:
  log_level: off
  http_server: on
  http_listen: 127.0.0.1
  http_port: 0
${service}pipeline:
  inputs:
    - name: dummy
      rate: 1
  outputs:
    - name: loki
      match: nothing
`;
  const { floki, url } = await setup(t, config, '');
  assert.deepEqual(await call(url(), 'POST', '{}').then((r) => [r.status, r.json]), [200, { reload: 'not enabled', status: -1 }]);
  assert.deepEqual((await call(url(), 'GET')).json, { hot_reload_count: 0, hot_reload_failure_count: 0 });
  assert.equal(floki.reloads + floki.reloadFailures, 0);
});

test("a reload asked for during a reload is answered 400 'in progress'", async (t) => {
  const port = await freePort();
  const config = (service: string) => `service:
  log_level: off
  http_server: on
  http_listen: 127.0.0.1
  http_port: 0
  grace: 2
${service}pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${port}
  outputs:
    - name: loki
      match: nothing
`;
  const { url } = await setup(t, config);
  // A client that does not close when floki ends the connection keeps the forward input stopping
  // for half the grace period: the first reload takes that long.
  const client = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  t.after(() => client.destroy());
  await new Promise((resolve) => client.once('connect', resolve));
  const first = call(url(), 'POST', '{}');
  await new Promise((resolve) => client.once('end', resolve));
  assert.deepEqual(await call(url(), 'POST', '{}').then((r) => [r.status, r.json]), [400, { reload: 'in progress', status: -2 }]);
  assert.deepEqual(await first.then((r) => [r.status, r.json]), [200, { reload: 'done', status: 0 }]);
  assert.deepEqual((await call(url(), 'GET')).json, { hot_reload_count: 1, hot_reload_failure_count: 0 });
});

test('a reload that moves the monitoring server answers on the old port, then serves on the new one', async (t) => {
  const [a, b] = [await freePort(), await freePort()];
  const config = (port: number) => (service: string) => `service:
  log_level: off
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${port}
${service}pipeline:
  inputs:
    - name: dummy
      rate: 1
  outputs:
    - name: loki
      match: nothing
`;
  const { write } = await setup(t, config(a));
  write(config(b)('  hot_reload: on\n'));
  assert.equal((await call(`http://127.0.0.1:${a}/api/v2/reload`, 'POST', '{}')).status, 200);
  let moved: unknown;
  for (let i = 0; i < 200 && moved === undefined; i++) {
    moved = await call(`http://127.0.0.1:${b}/api/v2/reload`, 'GET').then(
      (r) => r.json,
      () => new Promise((resolve) => setTimeout(resolve, 20)).then(() => undefined),
    );
  }
  assert.deepEqual(moved, { hot_reload_count: 1, hot_reload_failure_count: 0 });
  await assert.rejects(fetch(`http://127.0.0.1:${a}/api/v2/reload`));
});
