/**
 * A DaemonSet-style Fluent Bit config (test/fixtures/configs/daemonset: tail with `multiline.parser
 * cri`, `@INCLUDE`d filter and output files, `parsers_file`, `daemon off`, `${VAR}`s from @SET and
 * the environment), as is, and its YAML twin: container log lines reach a decoding Loki receiver
 * with the labels the config asks for. And the older docker variant (test/fixtures/tail/
 * daemonset-docker: tail with `Parser docker` and `Docker_Mode On`, the stock parsers.conf), run by
 * the floki command as a user runs it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { FlokiProcess, ROOT } from '../helpers/floki-process.js';
import { waitFor } from '../helpers/wait.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { lines, RecordingParsers, writeFiles } from '../unit/config-kit.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'configs', 'daemonset');
const EXPORTER_LOG = join(ROOT, 'test', 'fixtures', 'event-exporter', 'event-exporter-6d5b9c7f4-x2x9q_monitoring_event-exporter-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.log');
const CONTAINER = `api-7d9f8b6c5-xk2lp_shop_api-${'c'.repeat(64)}.log`;

async function run(t: TestContext, main: string): Promise<LokiReceiver> {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const dirs = writeFiles(t, { 'log/.keep': '', 'db/.keep': '' });
  // A container's log as containerd writes it: a whole line, a line split in two (P then F), and a
  // kubernetes-event-exporter event.
  const event = readFileSync(EXPORTER_LOG, 'utf8').split('\n')[2]!.replace(/^\S+ \S+ F /, '');
  writeFileSync(
    join(dirs, 'log', CONTAINER),
    [
      '2026-11-25T10:00:00.000000001Z stdout F GET /healthz 200',
      '2026-11-25T10:00:00.000000002Z stderr P panic: first half, ',
      '2026-11-25T10:00:00.000000003Z stderr F second half',
      `2026-11-25T10:00:00.000000004Z stdout F ${event}`,
      '',
    ].join('\n'),
  );
  const environment = { LOG_DIR: join(dirs, 'log'), DB_DIR: join(dirs, 'db'), LOKI_HOST: '127.0.0.1', LOKI_PORT: String(loki.port), LOG_LEVEL: 'info' };
  const parsers = new RecordingParsers();
  const loaded = loadConfig(join(FIXTURE, main), PLUGINS, { environment, parsers: () => parsers });
  assert.ok(loaded.config, lines(loaded.problems).join('\n'));
  assert.deepEqual(RecordingParsers.names(parsers.defined), ['app_json']);
  const floki = new Floki(loaded.config, pino({ level: 'silent' }));
  await floki.start();
  t.after(() => floki.stop(100));
  await loki.waitFor(3, 15_000);
  return loki;
}

const expected = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'event-exporter', 'expected-cri.jsonl'), 'utf8').split('\n')[0]!) as { labels: Record<string, string> };

for (const main of ['fluent-bit.conf', 'fluent-bit.yaml']) {
  test(`the DaemonSet config ${main} runs end to end into Loki`, async (t) => {
    const loki = await run(t, main);
    const byTime = [...loki.entries].sort((a, b) => (a.ts < b.ts ? -1 : 1));
    const base = { job: 'fluent-bit', cluster: 'test-cluster', namespace: 'shop', pod: 'api-7d9f8b6c5-xk2lp', container: 'api' };
    assert.deepEqual(
      byTime.slice(0, 2).map((e) => [e.ts, e.labels, e.line]),
      [
        [1_795_600_800_000_000_001n, { ...base, stream: 'stdout' }, 'GET /healthz 200'],
        [1_795_600_800_000_000_002n, { ...base, stream: 'stderr' }, 'panic: first half, second half'],
      ],
    );
    const exported = byTime[2]!;
    assert.equal(exported.ts, 1_795_600_800_000_000_004n);
    for (const [k, v] of Object.entries(expected.labels)) assert.equal(exported.labels[k], v, k);
    assert.equal(JSON.parse(exported.line).reason, expected.labels['reason']);
  });
}

const DOCKER_EXPORTER_LOG = join(ROOT, 'test', 'fixtures', 'event-exporter', 'event-exporter-7f8c9d6b5-k4m2p_monitoring_event-exporter-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.docker.log');
const expectedDocker = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'event-exporter', 'expected-docker.jsonl'), 'utf8').split('\n')[0]!) as { labels: Record<string, string> };

test('the DaemonSet config with Parser docker and Docker_Mode runs end to end into Loki through the floki command', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const dirs = writeFiles(t, { 'log/.keep': '', 'db/.keep': '' });
  // A container's log as docker's json-file driver writes it: a whole line, a line split in two pieces
  // (its first without a newline), and a kubernetes-event-exporter event.
  const event = JSON.parse(readFileSync(DOCKER_EXPORTER_LOG, 'utf8').split('\n')[2]!) as { log: string };
  const docker = (log: string, stream: string, n: number) => JSON.stringify({ log, stream, time: `2026-11-25T10:00:00.00000000${n}Z` });
  writeFileSync(
    join(dirs, 'log', CONTAINER),
    [docker('GET /healthz 200\n', 'stdout', 1), docker('panic: first half, ', 'stderr', 2), docker('second half\n', 'stderr', 3), docker(event.log, 'stdout', 4), ''].join('\n'),
  );
  const env = { LOG_DIR: join(dirs, 'log'), DB_DIR: join(dirs, 'db'), LOKI_HOST: '127.0.0.1', LOKI_PORT: String(loki.port), LOG_LEVEL: 'info' };
  const floki = new FlokiProcess(['-c', join(ROOT, 'test', 'fixtures', 'tail', 'daemonset-docker', 'fluent-bit.conf')], env);
  t.after(() => floki.stop('SIGKILL'));
  await floki.ready();
  await loki.waitFor(3, 15_000);
  assert.equal(await floki.stop(), 0);

  const byTime = [...loki.entries].sort((a, b) => (a.ts < b.ts ? -1 : 1));
  const base = { job: 'fluent-bit', cluster: 'test-cluster', namespace: 'shop', pod: 'api-7d9f8b6c5-xk2lp', container: 'api' };
  // The docker parser keeps the newline ending `log`, as in Fluent Bit; docker mode times a joined line
  // by its last piece, as Fluent Bit does.
  assert.deepEqual(
    byTime.slice(0, 2).map((e) => [e.ts, e.labels, e.line]),
    [
      [1_795_600_800_000_000_001n, { ...base, stream: 'stdout' }, 'GET /healthz 200\n'],
      [1_795_600_800_000_000_003n, { ...base, stream: 'stderr' }, 'panic: first half, second half\n'],
    ],
  );
  const exported = byTime[2]!;
  assert.equal(exported.ts, 1_795_600_800_000_000_004n);
  for (const [k, v] of Object.entries(expectedDocker.labels)) assert.equal(exported.labels[k], v, k);
  assert.equal(loki.entries.length, 3);
  await waitFor(() => floki.stderr.includes('"msg":"floki stopped"'), 'a clean stop');
});
