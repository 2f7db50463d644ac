/**
 * Loki down while an input pushes as fast as it is let: memory stays bounded (memory buffer), memory
 * and disk stay bounded (disk buffer), and every entry arrives after Loki is back. And two tenants,
 * one rate-limited: the other keeps flowing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { Input, InputContext } from '../../src/core/plugin.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';
import { freePort, ROOT } from '../helpers/floki-process.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { events, lokiHarness, T0 } from '../helpers/loki-harness.js';
import { waitFor } from '../helpers/wait.js';

/** Emits batches of 100 events back to back, yielding to the event loop between them, while not paused. */
class FloodInput implements Input {
  sent = 0;
  pauses = 0;
  stopped = false;
  private paused = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly ctx: InputContext) {}

  async start(): Promise<void> {
    this.loop = this.run();
  }

  pause(): void {
    this.paused = true;
    this.pauses++;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const pad = 'p'.repeat(250);
    while (!this.stopped) {
      if (this.paused) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const batch: LogEvent[] = [];
      for (let i = 0; i < 100; i++) {
        const seq = this.sent + i;
        batch.push({ tag: 'flood', time: T0 + BigInt(seq), record: { log: `${seq} ${pad}`, team: seq % 2 ? 'a' : 'b' } });
      }
      try {
        await this.ctx.emit(batch);
        this.sent += batch.length;
      } catch {
        // Refused (disk full): not sent, try again.
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

async function floodPipeline(t: TestContext, loki: LokiReceiver, output: string, storagePath?: string) {
  let flood: FloodInput | undefined;
  const plugin: AnyPlugin = {
    kind: 'input',
    name: 'flood',
    description: 'test input',
    options: [],
    create: (_o, ctx) => (flood = new FloodInput(ctx)),
  };
  const registry: PluginRegistry = new Map([...PLUGINS, ['flood', plugin]]);
  const service = storagePath ? `service:\n  storage.path: ${storagePath}\n` : '';
  const text = `${service}pipeline:\n  inputs:\n    - name: flood\n  outputs:\n    - name: loki\n      match: '*'\n      port: ${loki.port}\n      batch_wait: 20ms\n      batch_size: 16K\n      retry_min_backoff: 10ms\n      retry_max_backoff: 50ms\n${output}`;
  const metrics = new Metrics();
  const engine = new Engine(parseConfig(text, 'floki.yaml', registry, {}), pino({ level: 'silent' }), metrics);
  await engine.start();
  t.after(() => engine.stop(100));
  return { engine, flood: flood!, metrics };
}

/** Samples `read()` every 5 ms until `stop()`; returns the highest value seen. */
function sampler(read: () => number | Promise<number>) {
  let max = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      max = Math.max(max, await read());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return max;
    },
  };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'floki-outage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every sequence number 0..n-1 arrived (copies allowed: Loki stores an identical entry once). */
async function assertAllArrived(loki: LokiReceiver, n: number): Promise<void> {
  await loki.waitUntil(() => new Set(loki.entries.map((e) => e.ts)).size >= n, `${n} distinct entries`, 15_000);
  const seen = new Set(loki.entries.map((e) => e.ts - T0));
  for (let i = 0; i < n; i++) assert.ok(seen.has(BigInt(i)), `entry ${i} arrived`);
}

test('memory buffer: Loki down, the input at full speed is paused at mem_buf_limit; all delivered after recovery', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  await loki.down();
  const limit = 128 * 1024;
  const { engine, flood } = await floodPipeline(t, loki, `      mem_buf_limit: 128K\n      retry_limit: no_limits\n`);
  const memory = sampler(() => engine.queuedBytes()['loki.0']!);
  await waitFor(() => flood.pauses > 0, 'the input paused', 5000);
  const sentAtPause = flood.sent;
  await new Promise((resolve) => setTimeout(resolve, 300)); // the outage goes on
  assert.ok(flood.sent - sentAtPause <= 200, `${flood.sent - sentAtPause} more events sent while paused`);
  await loki.up();
  await new Promise((resolve) => setTimeout(resolve, 200));
  flood.stopped = true;
  await assertAllArrived(loki, flood.sent);
  const max = await memory.stop();
  // Permissive like Fluent Bit: one emit (100 events, ~30 KiB) may go over before the input stops.
  assert.ok(max <= limit + 48 * 1024, `held ${max} bytes with mem_buf_limit ${limit}`);
});

test('disk buffer: Loki down, memory and disk stay bounded, the input pauses at the disk limit; all delivered after recovery', async (t) => {
  const storage = tempDir(t);
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  await loki.down();
  const memLimit = 64 * 1024;
  const diskLimit = 256 * 1024;
  const { engine, flood, metrics } = await floodPipeline(t, loki, `      storage.type: filesystem\n      storage.total_limit_size: 256K\n      mem_buf_limit: 64K\n`, storage);
  const memory = sampler(() => engine.queuedBytes()['loki.0']!);
  const disk = sampler(() => metrics.value('floki_output_storage_bytes', { name: 'loki.0' }));
  await waitFor(() => flood.pauses > 0, 'the input paused at the disk limit', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await loki.up();
  await new Promise((resolve) => setTimeout(resolve, 200));
  flood.stopped = true;
  await assertAllArrived(loki, flood.sent);
  const [maxMemory, maxDisk] = [await memory.stop(), await disk.stop()];
  // Batches in flight (half the limit), those held back for a retry (the other half) and blocks read ahead (half).
  assert.ok(maxMemory <= memLimit * 1.5 + 48 * 1024, `held ${maxMemory} bytes in memory with mem_buf_limit ${memLimit}`);
  // The limit is checked as blocks land: one segment (32 KiB here) and one emit may go over.
  assert.ok(maxDisk <= diskLimit + 80 * 1024, `${maxDisk} bytes on disk with storage.total_limit_size ${diskLimit}`);
});

test('memory buffer, floki as a process: Loki down, a dummy input at 20k records/s, RSS stays within a fixed margin', async (t) => {
  const dir = tempDir(t);
  const [httpPort, lokiPort] = [await freePort(), await freePort()]; // nothing listens on lokiPort: Loki is down
  const config = join(dir, 'floki.yaml');
  writeFileSync(
    config,
    `service:\n  http_server: on\n  http_listen: 127.0.0.1\n  http_port: ${httpPort}\n  log_level: error\npipeline:\n  inputs:\n    - name: dummy\n      rate: 20000\n      dummy: '{"message":"${'x'.repeat(1000)}"}'\n  outputs:\n    - name: loki\n      match: '*'\n      port: ${lokiPort}\n      mem_buf_limit: 8M\n      retry_limit: no_limits\n      retry_min_backoff: 10ms\n      retry_max_backoff: 50ms\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), '-c', config], { cwd: ROOT, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const metric = async (name: string): Promise<number | undefined> => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  const MiB = 1024 * 1024;
  // Once the buffer is full the input is paused: from then on RSS must stay put.
  await waitFor(async () => ((await metric('floki_output_queue_bytes')) ?? 0) >= 8 * MiB, 'the buffer full', 20_000);
  const atFull = (await metric('floki_process_resident_memory_bytes'))!;
  let maxRss = atFull;
  let maxQueue = 0;
  const started = Date.now();
  while (Date.now() - started < 3000) {
    maxRss = Math.max(maxRss, (await metric('floki_process_resident_memory_bytes')) ?? 0);
    maxQueue = Math.max(maxQueue, (await metric('floki_output_queue_bytes')) ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const records = (await metric('floki_input_records_total'))!;
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  // The limit is permissive (Fluent Bit's rule): the write that crosses it is taken whole, and a late
  // dummy tick carries every record due since.
  assert.ok(maxQueue <= 2 * 8 * MiB, `queue ${maxQueue} bytes with mem_buf_limit 8M`);
  // Unbounded, the input would add ~20 MB a second: 60 MB over these 3 s. Bounded, RSS still moves: 2-4
  // MiB here, flat over 12 s, but 24 MiB once in a CI run on a loaded machine (cause not found), so the
  // margin is half of what unbounded would add. The records count below is what shows the pause.
  assert.ok(maxRss - atFull <= 32 * MiB, `RSS grew from ${mib(atFull)} to ${mib(maxRss)} with the input paused`);
  // A fixed margin over the limit: node, tsx, floki's modules and heap slack.
  assert.ok(maxRss <= 8 * MiB + 256 * MiB, `RSS ${mib(maxRss)}`);
  assert.ok(records < 30_000, `${records} records taken in: the input was paused`);
});

for (const mode of ['memory', 'filesystem'] as const) {
  test(`${mode} buffer: two tenants, one rate-limited: the other keeps flowing`, async (t) => {
    const storage = tempDir(t);
    const h = await lokiHarness(
      t,
      { tenant_id_key: 'team', workers: 1, mem_buf_limit: 64 * 1024, batch_size: 4096, retry_min_backoff: 20, retry_max_backoff: 50, 'storage.type': mode },
      { storagePath: storage },
    );
    let limited = true;
    h.receiver.rule = (r) =>
      limited && r.tenant === 'noisy'
        ? { status: 429, body: "Ingestion rate limit exceeded for user noisy (limit: 4194304 bytes/sec) while attempting to ingest '10' lines totaling '3000' bytes" }
        : undefined;
    const pad = 'n'.repeat(300);
    let seq = 0;
    // 48 KiB of the noisy tenant: more than the half of mem_buf_limit that flows, less than all of it.
    for (let round = 0; round < 16; round++) {
      await h.output.write(events(10, (i) => ({ time: T0 + BigInt(seq + i), record: { team: 'noisy', log: `${seq + i} ${pad}` } })));
      seq += 10;
      await h.output.write(events(2, (i) => ({ time: T0 + BigInt(seq + i), record: { team: 'quiet', log: `${seq + i}` } })));
      seq += 2;
    }
    const quiet = 32;
    await h.receiver.waitUntil(() => h.receiver.entries.filter((e) => e.tenant === 'quiet').length === quiet, 'every quiet entry while noisy is limited', 5000);
    await h.receiver.waitUntil(() => h.receiver.requestLog.filter((r) => r.tenant === 'noisy' && r.outcome === 429).length >= 3, 'noisy retried', 5000);
    assert.equal(h.receiver.entries.filter((e) => e.tenant === 'noisy').length, 0);
    limited = false;
    await h.receiver.waitUntil(() => h.receiver.entries.length === seq, 'everything once the limit is lifted', 5000);
    assert.equal(await h.value('floki_output_dropped_records_total'), 0);
  });
}
