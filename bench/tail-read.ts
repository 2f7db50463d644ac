// Micro-benchmark of the tail input alone, without the Loki output: `npx tsx bench/tail-read.ts`.
//
// The tail workload's files (bench/lib/tail-load.js, generated into bench/.data/ if missing) read from
// head through the event_exporter filter into an output that only counts and settles. Shows what the
// input costs by itself, next to `npm run bench` (the whole pipeline) and bench/loki-encode.ts (the
// output alone). Environment: BENCH_RUNS (default 5), BENCH_TAIL_MIB (default 500), BENCH_CHUNK
// (buffer_chunk_size, default the input's), BENCH_TAIL_PROFILE (bench/lib/tail-load.js's profile:
// `app-350` reads W2's files, without the event_exporter filter W2 does not have).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig, type PluginRegistry } from '../src/config/load.js';
import type { Delivery } from '../src/core/delivery.js';
import { Engine } from '../src/core/engine.js';
import type { LogEvent } from '../src/core/event.js';
import type { AnyPlugin } from '../src/core/registry-types.js';
import { Metrics } from '../src/observability/metrics.js';
import { PLUGINS } from '../src/plugins.js';
import { linkTailFiles, prepareTailFiles } from './lib/tail-load.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const MiB = 1024 * 1024;
const profile = process.env['BENCH_TAIL_PROFILE'] as 'mixed' | 'app-350' | undefined;
const files = prepareTailFiles({
  dataDir: join(import.meta.dirname, '.data'),
  totalBytes: Math.round(Number(process.env['BENCH_TAIL_MIB'] ?? 500) * MiB),
  ...(profile ? { profile } : {}),
});

async function once(): Promise<{ wallS: number; cpuS: number; rssMiB: number }> {
  let count = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const counting: AnyPlugin = {
    kind: 'output',
    name: 'count',
    description: 'counts and settles',
    options: [],
    create: () => ({
      start: async () => {},
      write: (events: LogEvent[], delivery?: Delivery) => {
        count += events.length;
        delivery?.settle(events.length);
        if (count >= files.events) done();
      },
      queuedBytes: () => 0,
      stop: async () => {},
    }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'floki-tail-read-'));
  mkdirSync(join(dir, 'containers'));
  const filters = '  filters:\n    - name: event_exporter\n      match: kube.*event-exporter*\n';
  const chunk = process.env['BENCH_CHUNK'] ? `      buffer_chunk_size: ${process.env['BENCH_CHUNK']}\n` : '';
  const config = `pipeline:
  inputs:
    - name: tail
      path: ${dir}/containers/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
${chunk}${profile ? '' : filters}  outputs:
    - name: count
      match: '*'
`;
  const registry: PluginRegistry = new Map([...PLUGINS, ['count', counting]]);
  const engine = new Engine(parseConfig(config, 'bench.yaml', registry, {}), pino({ level: 'warn' }), new Metrics());
  await engine.start();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  linkTailFiles(files, join(dir, 'containers'));
  await finished;
  const wallS = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  const rssMiB = process.memoryUsage().rss / MiB;
  await engine.stop(100);
  rmSync(dir, { recursive: true, force: true });
  return { wallS, cpuS: (used.user + used.system) / 1e6, rssMiB };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
const wall = median(runs.map((r) => r.wallS));
const cpu = median(runs.map((r) => r.cpuS));
console.log(`${files.events} lines, ${(files.bytes / MiB).toFixed(0)} MiB in ${files.files.length} CRI files (${profile ?? 'mixed'}), median of ${RUNS} runs`);
console.log('| workload | lines/s | MiB/s | CPU s/GiB | µs CPU/line | RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(
  `| tail → ${profile ? '' : 'event_exporter → '}counting output | ${Math.round(files.events / wall).toLocaleString('en')} | ${(files.bytes / MiB / wall).toFixed(0)} | ${(cpu / (files.bytes / (1024 * MiB))).toFixed(2)} | ${((cpu * 1e6) / files.events).toFixed(2)} | ${median(runs.map((r) => r.rssMiB)).toFixed(0)} |`,
);
process.exit(0);
