/**
 * What an idle forward → loki node carries (issue #12): the CLI loads only the plugins its config
 * names, and starting the pipeline starts no thread (the transcode pool's and the snappy
 * compressor's start at their first job). The first event still arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigModel, PluginSection } from '../../src/config/model.js';
import { PLUGIN_CATALOGUE, pluginsNamedBy } from '../../src/plugin-catalogue.js';
import { PLUGIN_LIST, PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { ROOT, freePort } from '../helpers/floki-process.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { arr, cat, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';

const config = (forwardPort: number, lokiPort: number): string => `pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${forwardPort}
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${lokiPort}
`;

function send(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

const oneEvent = (): Buffer => cat(arr(3), str('app.idle'), eventTime(1764064800, 1), rec({ message: 'after a rest' }));

test('the catalogue lists every plugin of src/plugins.ts, in its order, under the kind and name each has', () => {
  assert.deepEqual(
    PLUGIN_CATALOGUE.map((p) => `${p.kind}:${p.name}`),
    PLUGIN_LIST.map((p) => `${p.kind}:${p.name}`),
  );
});

function section(kind: PluginSection['kind'], name: string, processors: PluginSection[] = []): PluginSection {
  return { kind, file: 'f.yaml', line: 1, entries: [{ key: 'Name', value: name, file: 'f.yaml', line: 1 }], processors };
}

test('a config names the plugins it uses; a name held in a variable wants every plugin of its kind', () => {
  const model = { inputs: [section('input', 'forward')], filters: [], outputs: [section('output', 'loki', [section('filter', 'grep')])] } as unknown as ConfigModel;
  assert.deepEqual(pluginsNamedBy(model).map((p) => `${p.kind}:${p.name}`), ['input:forward', 'filter:grep', 'output:loki']);
  // `forward` as an output is the forward output, not the input.
  const out = { inputs: [section('input', 'dummy')], filters: [], outputs: [section('output', 'Forward')] } as unknown as ConfigModel;
  assert.deepEqual(pluginsNamedBy(out).map((p) => `${p.kind}:${p.name}`), ['input:dummy', 'output:forward']);
  const variable = { inputs: [], filters: [section('filter', '${FILTER}')], outputs: [] } as unknown as ConfigModel;
  assert.deepEqual(
    pluginsNamedBy(variable).map((p) => p.name),
    PLUGIN_CATALOGUE.filter((p) => p.kind === 'filter').map((p) => p.name),
  );
});

/** The threads of this process (Linux). */
const threads = (): number => readdirSync('/proc/self/task').length;

test('starting a forward → loki pipeline starts no thread; the first event starts what it needs and arrives', { skip: process.platform !== 'linux' }, async (t) => {
  const loki = await LokiReceiver.start();
  const forwardPort = await freePort();
  const floki = new Floki(parseConfig(config(forwardPort, loki.port), join(tmpdir(), 'idle.yaml'), PLUGINS), pino({ level: 'silent' }));
  t.after(async () => {
    await floki.stop(0);
    await loki.close();
  });
  // libuv's pool starts at the first file or DNS request: make sure it runs before counting.
  await Promise.all([stat(ROOT), lookup('localhost')]);
  const before = threads();
  await floki.start();
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(threads(), before, 'a thread started with the pipeline');
  await send(forwardPort, oneEvent());
  await loki.waitFor(1, 15_000);
  assert.equal(loki.entries[0]!.line.includes('after a rest'), true);
});

test('the CLI on a forward → loki config loads those two plugins and no other; the first event arrives', async (t) => {
  const loki = await LokiReceiver.start();
  const dir = mkdtempSync(join(tmpdir(), 'floki-idle-'));
  const file = join(dir, 'floki.yaml');
  const log = join(dir, 'modules.txt');
  writeFileSync(file, config(0, loki.port));
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test', 'helpers', 'module-log.mjs'), join(ROOT, 'src', 'cli.ts'), '-c', file], {
    cwd: ROOT,
    env: { ...process.env, MODULE_LOG: log },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    await loki.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(() => /"msg":"floki started"/.test(stderr) || child.exitCode !== null, 'floki to start', 20_000);
  const listening = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { plugin?: string; port?: number; msg?: string }).find((e) => e.plugin === 'forward.0' && typeof e.port === 'number');
  assert.ok(listening?.port, stderr);
  await send(listening.port, oneEvent());
  await loki.waitFor(1, 15_000);
  child.kill('SIGTERM');
  await exited;

  const loaded = readFileSync(log, 'utf8').split('\n').map((url) => url.replace(/^file:\/\//, ''));
  const has = (path: string): boolean => loaded.includes(join(ROOT, path));
  assert.ok(has('src/inputs/forward/index.ts') && has('src/outputs/loki/index.ts'), 'the plugins the config names are loaded');
  for (const other of ['src/plugins.ts', 'src/inputs/tail/index.ts', 'src/filters/kubernetes/index.ts', 'src/outputs/forward/index.ts', 'src/filters/multiline/index.ts', 'src/inputs/kubernetes_events/index.ts']) {
    assert.equal(has(other), false, `${other} was loaded`);
  }
});

test('avsc loads only when a disk buffer encodes an entry, not with the outputs that could use one', async () => {
  // A fresh process: this test process has loaded every plugin (and the storage tests avsc).
  const script = `
    import { createRequire } from 'node:module';
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/avsc/'));
    await import(${JSON.stringify(join(ROOT, 'src', 'outputs', 'loki', 'index.ts'))});
    await import(${JSON.stringify(join(ROOT, 'src', 'outputs', 'forward', 'index.ts'))});
    const { LOKI_ENTRY } = await import(${JSON.stringify(join(ROOT, 'src', 'outputs', 'loki', 'stored-entry.ts'))});
    const before = loaded();
    const type = LOKI_ENTRY.type;
    console.log(JSON.stringify({ before, after: loaded(), typed: typeof type.toBuffer === 'function' }));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, err);
  assert.deepEqual(JSON.parse(out.trim()), { before: false, after: true, typed: true });
});
