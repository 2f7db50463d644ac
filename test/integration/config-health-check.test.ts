/**
 * `health_check on` (Fluent Bit's classic keys): `/api/v1/health` answers 200 `ok` while Loki takes
 * the pushes and 500 `error` once failed requests exceed hc_errors_count within hc_period, as Fluent
 * Bit 5.1.1 answers (`ok\n`/`error\n` there); `/api/v2/health` gives the counts in Fluent Bit's JSON.
 * Without health_check the endpoint says ok whatever the outputs do.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfigFile } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';
import { writeFiles } from '../unit/config-kit.js';

async function start(t: TestContext, healthCheck: boolean): Promise<{ loki: LokiReceiver; url: string }> {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const dir = writeFiles(t, {
    'fluent-bit.conf': `[SERVICE]
    Flush 1
    HTTP_Server On
    HTTP_Listen 127.0.0.1
    HTTP_Port 0
    Health_Check ${healthCheck ? 'On' : 'Off'}
    HC_Errors_Count 2
    HC_Retry_Failure_Count 5
    HC_Period 60

[INPUT]
    Name dummy
    Tag  app
    Rate 20

[OUTPUT]
    Name  loki
    Match *
    Host  127.0.0.1
    Port  ${loki.port}
    batch_wait 50ms
    retry_min_backoff 50ms
    retry_max_backoff 100ms
`,
  });
  const floki = new Floki(loadConfigFile(join(dir, 'fluent-bit.conf'), PLUGINS, {}), pino({ level: 'silent' }));
  await floki.start();
  t.after(() => floki.stop(100));
  return { loki, url: `http://127.0.0.1:${floki.httpAddress!.port}` };
}

const health = async (url: string) => {
  const r = await fetch(`${url}/api/v1/health`);
  return `${r.status} ${await r.text()}`;
};

test('health_check: ok while Loki takes the pushes, error once failed requests exceed hc_errors_count', async (t) => {
  const { loki, url } = await start(t, true);
  await loki.waitFor(1);
  assert.equal(await health(url), '200 ok');
  loki.rule = () => 500;
  await waitFor(async () => (await health(url)) === '500 error', 'the health endpoint to answer error', 10_000);
  const v2 = await fetch(`${url}/api/v2/health`);
  assert.equal(v2.status, 500);
  const body = (await v2.json()) as Record<string, unknown>;
  assert.equal(body['status'], 'error');
  assert.ok((body['errors'] as number) > 2);
  assert.deepEqual([body['error_limit'], body['retry_failure_limit'], body['period_limit']], [2, 5, 60]);
});

test('without health_check, failing outputs leave the health endpoint ok', async (t) => {
  const { loki, url } = await start(t, false);
  loki.rule = () => 500;
  await loki.waitForRequests(4, 10_000);
  assert.equal(await health(url), '200 ok');
});
