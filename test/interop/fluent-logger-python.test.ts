/**
 * Debian's python3-fluent-logger (installed by .ci/run with apt-get, used with /usr/bin/python3) as a
 * real client of floki (the CLI, its own process), into the decoding Loki receiver. The library offers
 * Message mode only, without the handshake or TLS: integer, float and EventTime (nanosecond_precision)
 * times, the async sender, a unix socket, its buffer while the server is down, and the logging handler.
 * Every record must arrive once with the exact time the client put on the wire.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait.js';
import { entriesBy, forwardInput, freePorts, startFloki, type RunningFloki } from './floki-forward.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fluent-logger-python.py');

interface Sent {
  id: string;
  sec: number;
  nsec: number;
}

let f: RunningFloki;
let port: number;
let socketPath: string;
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

before(async () => {
  try {
    execFileSync(PYTHON, ['-c', 'import fluent.sender, fluent.asyncsender, fluent.handler'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${PYTHON} cannot import fluent-logger: install Debian's python3-fluent-logger (apt-get install python3-fluent-logger), as .ci/run does`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'floki-py-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  socketPath = join(dir, 'forward.sock');
  f = await startFloki([forwardInput({ alias: 'tcp', port: 0 }), forwardInput({ alias: 'unix', unix_path: socketPath })].join('\n'));
  cleanups.push(() => f.stop());
  port = f.port('tcp');
});

/** Runs the script; resolves with the records it reports sending. `onLine` sees each stdout line. */
function python(mode: string, target: string, run: string, onLine?: (line: string, stdin: NodeJS.WritableStream) => void): Promise<Sent[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, mode, target, run], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) onLine?.(line, child.stdin);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`python ${mode} exited with ${code}:\n${err}${out}`));
      resolve(out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Sent));
    });
  });
}

async function expectArrived(loki: RunningFloki['loki'], run: string, sent: Sent[]): Promise<void> {
  assert.ok(sent.length > 0);
  await waitFor(() => entriesBy(loki.entries, 'run', run).size === sent.length, `${sent.length} ${run} entries in Loki`, 15_000);
  const got = entriesBy(loki.entries, 'run', run);
  for (const s of sent) {
    const e = got.get(s.id);
    assert.ok(e, `${s.id} arrived`);
    assert.equal(e.ts, BigInt(s.sec) * 1_000_000_000n + BigInt(s.nsec), `${s.id}: the time as sent`);
    assert.equal(e.labels.tag, `py.${run}`);
    assert.equal((JSON.parse(e.line) as { unicode?: string }).unicode ?? 'ünïcødé ✓', 'ünïcødé ✓');
  }
  assert.equal(loki.entries.filter((e) => (JSON.parse(e.line) as { run?: string }).run === run).length, sent.length, 'each once');
}

test('integer and float seconds', async () => {
  const sent = await python('plain', `127.0.0.1:${port}`, 'plain');
  assert.deepEqual(sent.map((s) => s.nsec), [0, 0, 250_000_000, 500_000_000]);
  await expectArrived(f.loki, 'plain', sent);
});

test('nanosecond_precision: EventTime to the nanosecond', async () => {
  const sent = await python('nano', `127.0.0.1:${port}`, 'nano');
  assert.ok(sent.some((s) => s.nsec % 1000 !== 0), 'sub-microsecond digits are on the wire');
  await expectArrived(f.loki, 'nano', sent);
});

test('the async sender', async () => {
  await expectArrived(f.loki, 'async', await python('async', `127.0.0.1:${port}`, 'async'));
});

test('a unix socket', async () => {
  await expectArrived(f.loki, 'unix', await python('unix', socketPath, 'unix'));
  assert.ok((await f.metric('floki_input_records_total', { name: 'unix' })) >= 4);
});

test('the logging handler (FluentHandler with FluentRecordFormatter)', async () => {
  const sent = await python('handler', `127.0.0.1:${port}`, 'handler');
  assert.equal(sent.length, 3);
  await expectArrived(f.loki, 'handler', sent);
  const levels = [...entriesBy(f.loki.entries, 'run', 'handler').values()].map((e) => (JSON.parse(e.line) as { level: string }).level);
  assert.deepEqual(levels, ['WARNING', 'WARNING', 'WARNING']);
});

test('its buffer: a record emitted while floki is down is sent once floki is up', async () => {
  const [later] = (await freePorts(1)) as [number];
  let started: Promise<RunningFloki> | undefined;
  const sent = await python('buffer', `127.0.0.1:${later}`, 'buffer', (line, stdin) => {
    if (line !== 'buffered') return;
    started = startFloki(forwardInput({ alias: 'late', port: later })).then((late) => {
      cleanups.push(() => late.stop());
      stdin.write('go\n');
      return late;
    });
  });
  assert.ok(started, 'the script buffered a record');
  const late = await started;
  await expectArrived(late.loki, 'buffer', sent);
});
