// Micro-benchmark of the Loki output's CPU work, without the network: `npx tsx bench/loki-encode.ts`.
//
// Workloads (150k entries of ~1 KiB from a pool of 10k distinct events, generated before timing, 5 runs,
// median printed):
// - protobuf encode: PushRequestEncoder.encode on 1 MiB batches (protobufjs reflection encoder);
// - snappy compress: snappyjs block compression of those encoded batches;
// - output write path: LokiOutput.write (labels, line formatting, batching) + encode + compress, with
//   a transport that answers 204 at once; snappy on the compression thread, and inline for comparison.
// Environment: BENCH_ENTRIES (default 150000), BENCH_RUNS (default 5).
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { compress } from 'snappyjs';
import type { LogEvent } from '../src/core/event.js';
import { Metrics } from '../src/observability/metrics.js';
import { Batcher, type ClosedBatch } from '../src/outputs/loki/batcher.js';
import { PushRequestEncoder } from '../src/outputs/loki/encoder.js';
import { LokiOutput, resolveLokiConfig } from '../src/outputs/loki/index.js';
import { ParserRegistry } from '../src/parsers/registry.js';

const ENTRIES = Number(process.env['BENCH_ENTRIES'] ?? 150_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const MiB = 1024 * 1024;
const T0 = 1_700_000_000_000_000_000n;

// Lines vary (ids, numbers, words) so snappy does not see one line repeated.
let seed = 42;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const words = 'request handled user session cache miss upstream latency retry token order payment invoice shipment'.split(' ');
function message(i: number): string {
  let s = `${new Date(1_700_000_000_000 + i).toISOString()} level=info trace_id=${Math.floor(rnd() * 2 ** 52).toString(16)} path=/api/v1/items/${i % 997} status=${[200, 201, 404, 500][i % 4]} dur_ms=${(rnd() * 500).toFixed(3)} msg="`;
  while (s.length < 900) s += `${words[Math.floor(rnd() * words.length)]} ${Math.floor(rnd() * 100000)} `;
  return `${s}"`;
}
// A pool of distinct events, cycled: a real pipeline's events die once batched, and keeping 150k
// records alive would measure the garbage collector's big-heap cost instead of the output.
const POOL = 10_000;
const pool: LogEvent[] = Array.from({ length: POOL }, (_, i) => ({
  tag: 'kube.var.log.containers.web',
  time: T0 + BigInt(i) * 1000n,
  record: { log: message(i), stream: i % 5 === 0 ? 'stderr' : 'stdout', kubernetes: { namespace_name: `ns-${i % 4}`, pod_name: `web-${i % 20}`, container_name: 'web' } },
}));

const labels = ['job=floki', "namespace=$kubernetes['namespace_name']", "$kubernetes['pod_name']", '$stream'];

interface Timing {
  wallS: number;
  /** CPU seconds of the main thread alone (Linux /proc), or NaN elsewhere. */
  mainCpuS: number;
  /** CPU seconds of the whole process, threads included. */
  cpuS: number;
}

/** utime + stime of the main thread, from /proc (the machine may be shared: wall time alone misleads). */
function mainThreadCpuS(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function timeIt(fn: () => void | Promise<void>): Promise<Timing> {
  const wall = process.hrtime.bigint();
  const main = mainThreadCpuS();
  const cpu = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wallS: Number(process.hrtime.bigint() - wall) / 1e9, mainCpuS: mainThreadCpuS() - main, cpuS: (used.user + used.system) / 1e6 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  // Prepare the batches the encode/compress workloads use, exactly as the output would build them.
  const config = resolveLokiConfig({ labels, batch_wait: 3_600_000 });
  const events: LogEvent[] = Array.from({ length: ENTRIES }, (_, i) => pool[i % POOL]!);
  const batches: ClosedBatch[] = [];
  {
    const closed: ClosedBatch[] = [];
    const batcher = new Batcher({ batchSizeBytes: config.batchSizeBytes, batchWaitMs: 3_600_000, onClose: (b) => closed.push(b) });
    const { compileLabelRules } = await import('../src/labels/label-rules.js');
    const { StreamLabeler } = await import('../src/labels/stream-labeler.js');
    const { LineFormatter } = await import('../src/labels/line-formatter.js');
    const rules = compileLabelRules(labels);
    const labeler = new StreamLabeler(rules.rules);
    const formatter = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: rules.consumedPaths });
    for (const e of events) {
      const line = formatter.lineFor(e);
      batcher.add(undefined, labeler.labelsFor(e), { ts: e.time, line }, Buffer.byteLength(line));
    }
    batcher.close();
    batches.push(...closed);
  }
  const encoder = new PushRequestEncoder();
  let encoded = batches.map((b) => encoder.encode(b.streams));
  const rawBytes = encoded.reduce((n, b) => n + b.byteLength, 0);
  const compressedBytes = encoded.reduce((n, b) => n + compress(b).byteLength, 0);

  const results: Record<string, Timing[]> = {
    'protobuf encode': [],
    'snappy compress': [],
    'output write path, snappy on a thread': [],
    'output write path, snappy inline': [],
  };
  for (let run = 0; run < RUNS; run++) {
    results['protobuf encode']!.push(await timeIt(() => void batches.forEach((b) => encoder.encode(b.streams))));
    results['snappy compress']!.push(await timeIt(() => void encoded.forEach((b) => compress(b))));
  }
  // Free the prepared batches before timing the output, so its garbage collection sees a normal heap.
  const batchCount = batches.length;
  batches.length = 0;
  encoded = [];
  for (let run = 0; run < RUNS; run++) {
    for (const useWorker of [true, false]) {
      const output = new LokiOutput(
        config,
        { name: 'bench', log: pino({ level: 'silent' }), metrics: new Metrics(), service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(), setFull: () => {} },
        { transport: { push: async () => ({ status: 204, body: '' }), close: () => {} }, compressor: { useWorker } },
      );
      results[`output write path, snappy ${useWorker ? 'on a thread' : 'inline'}`]!.push(
        await timeIt(async () => {
          // Yield between input batches as a real input would, so finished compressions are collected.
          for (let i = 0; i < events.length; i += 1000) {
            output.write(events.slice(i, i + 1000));
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          await output.stop(60_000);
        }),
      );
    }
  }

  console.log(`${ENTRIES} entries, ${(rawBytes / ENTRIES).toFixed(0)} B/entry encoded, ${batchCount} batches, snappy ratio ${(compressedBytes / rawBytes).toFixed(3)}, median of ${RUNS} runs`);
  console.log('| workload | entries/s (wall) | MiB/s (encoded) | main-thread CPU µs/entry | entries/s per main-thread CPU s | process CPU µs/entry |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, runs] of Object.entries(results)) {
    const wall = median(runs.map((r) => r.wallS));
    const main = median(runs.map((r) => r.mainCpuS));
    const cpu = median(runs.map((r) => r.cpuS));
    const us = (s: number): string => ((s * 1e6) / ENTRIES).toFixed(2);
    console.log(
      `| ${name} | ${Math.round(ENTRIES / wall).toLocaleString('en')} | ${(rawBytes / MiB / wall).toFixed(0)} | ${us(main)} | ${Math.round(ENTRIES / main).toLocaleString('en')} | ${us(cpu)} |`,
    );
  }
}

await main();
