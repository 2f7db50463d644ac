// floki benchmarks: `npm run bench` (builds first) or `node bench/run.js [workload ...]`.
//
// For each workload and run: start a counting Loki sink (its own process), start floki
// (`node dist/cli.js -c <config>`, its own process), generate the input before timing, then time from
// the first byte sent until the sink has counted every event. Prints one markdown table with the
// median of the runs on stdout, the individual runs on stderr. Exits non-zero if any run lost or
// duplicated an event, or failed.
//
// Environment: BENCH_EVENTS (events per workload, default per workload), BENCH_RUNS (default 3),
// BENCH_DEADLINE_S (per run, default 120), BENCH_CLI (another floki build's cli.js),
// BENCH_NODE_ARGS (node flags for floki, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'), BENCH_METRICS=1 (print floki's
// non-zero metrics after each run), BENCH_ECHO=<text> (copy floki's log lines containing it to stderr).
// `node bench/run.js --list` names the workloads.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForwardLoad, encodeChunks } from './lib/forward-load.js';
import { forkSink } from './lib/loki-sink.js';
import { linkTailFiles, prepareTailFiles } from './lib/tail-load.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.BENCH_CLI || join(ROOT, 'dist', 'cli.js');
/** Extra node flags for floki, e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const env = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not '${v}'`);
  return n;
};

const RUNS = env('BENCH_RUNS', 3);
const DEADLINE_MS = env('BENCH_DEADLINE_S', 120) * 1000;
/** Time after the last expected event during which a duplicate would still be noticed (floki flushes every 1 s). */
const SETTLE_MS = 1500;

// ---------------------------------------------------------------------------------------------
// Configs

function forwardToLokiConfig({ httpPort, inputPort, sinkPort }, { serviceOptions = {}, forwardOptions = {}, outputOptions = {} } = {}) {
  const extra = (opts, indent) => Object.entries(opts).map(([k, v]) => `${indent}${k}: ${v}\n`).join('');
  return `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
${extra(serviceOptions, '  ')}pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${inputPort}
${extra(forwardOptions, '      ')}  filters:
    - name: event_exporter
      match: '*'
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: job=floki
${extra(outputOptions, '      ')}`;
}

/** A node agent: container logs tailed from a containers folder, as configs/kubernetes/base/node-agent.floki.yaml. */
function tailToLokiConfig({ httpPort, sinkPort, dir }) {
  // The folder the files appear in when the timed run starts (see DRIVERS.tail).
  mkdirSync(join(dir, 'containers'), { recursive: true });
  return `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: tail
      path: ${join(dir, 'containers')}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
      refresh_interval: 1s
      db: ${join(dir, 'tail.db')}
  filters:
    - name: event_exporter
      match: kube.*event-exporter*
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: job=floki, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']
      label_keys: $stream
      remove_keys: $kubernetes
      drop_single_key: raw
`;
}

// ---------------------------------------------------------------------------------------------
// Inputs: how a workload's events reach floki. prepare() runs before timing; send() is timed.

const DRIVERS = {
  forward: {
    prepare(w) {
      const f = w.forward;
      return encodeChunks({ events: w.events, chunkSize: f.chunkSize, mode: f.mode, ack: f.ack });
    },
    async connect(w, prepared, ports) {
      const f = w.forward;
      const load = new ForwardLoad({ port: ports.inputPort, connections: f.connections, ack: f.ack, window: f.window });
      await load.connect();
      return {
        send: () => load.send(prepared.messages),
        close: () => load.close(),
      };
    },
  },
  tail: {
    // The files are written once into bench/.data/; the run starts when kubelet's symlinks appear.
    prepare(w) {
      const mib = env('BENCH_TAIL_MIB', w.tail.totalBytes / MiB);
      return prepareTailFiles({ dataDir: join(ROOT, 'bench', '.data'), files: w.tail.files, totalBytes: Math.round(mib * MiB) });
    },
    async connect(w, prepared, ports) {
      return {
        send: async () => linkTailFiles(prepared, join(ports.dir, 'containers')),
        close: () => {},
      };
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Workloads. Once published, keep a workload fixed so figures compare from commit to commit;
// add a new name for a new shape.

const forward = (mode, { ack = false, connections = 1, window = 8, chunkSize = 1000 } = {}) => ({ mode, ack, connections, window, chunkSize });

const WORKLOADS = [
  {
    name: 'forward-packed-1k',
    description: 'PackedForward, 1000 events per message, no acks, one connection → event_exporter → loki',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    config: (ports) => forwardToLokiConfig(ports),
  },
  // The same for 1.5M events: the rate once warm. Every run ends with the last partial batches
  // waiting out batch_wait (1 s), which is a third of a 300k run but a twelfth of this one.
  {
    name: 'forward-packed-1k-long',
    description: 'forward-packed-1k for 1.5M events: the steady rate, the final batch_wait flush weighing less',
    events: 1_500_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    config: (ports) => forwardToLokiConfig(ports),
  },
  {
    name: 'forward-packed-1k-long-unthreaded',
    description: "forward-packed-1k-long with the forward input's threaded off: records printed as JSON on the main thread",
    events: 1_500_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    config: (ports) => forwardToLokiConfig(ports, { forwardOptions: { threaded: 'off' } }),
  },
  {
    name: 'forward-packed-1k-snappyjs',
    description: 'forward-packed-1k with the pure-JS snappy (FLOKI_SNAPPY=js: snappyjs on a worker thread) instead of the native binding',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    env: { FLOKI_SNAPPY: 'js' },
    config: (ports) => forwardToLokiConfig(ports),
  },
  // The forward input's other modes, and each mode with acks: a Base64 chunk id per message, at most
  // 8 messages unacknowledged per connection (an ack means the chunk is in the output queue).
  ...[
    ['forward', 'Forward (entries as a msgpack array)'],
    ['compressed', 'CompressedPackedForward (gzip)'],
  ].map(([mode, what]) => ({
    name: `forward-${mode}-1k`,
    description: `${what}, 1000 events per message, no acks, one connection → event_exporter → loki`,
    events: 300_000,
    input: 'forward',
    forward: forward(mode),
    sink: { delayMs: 0 },
    config: (ports) => forwardToLokiConfig(ports),
  })),
  ...['packed', 'forward', 'compressed'].map((mode) => ({
    name: `forward-${mode}-1k-ack`,
    description: `forward-${mode}-1k with a chunk id per message, acks awaited, 8 messages in flight`,
    events: 300_000,
    input: 'forward',
    forward: forward(mode, { ack: true }),
    sink: { delayMs: 0 },
    config: (ports) => forwardToLokiConfig(ports),
  })),
  {
    name: 'forward-packed-1k-disk',
    description: 'forward-packed-1k with the disk buffer: every chunk fsync\'d to a segment file before it counts as taken, read back and sent',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    config: (ports) =>
      forwardToLokiConfig(ports, { serviceOptions: { 'storage.path': join(ports.dir, 'storage') }, outputOptions: { 'storage.type': 'filesystem' } }),
  },
  {
    name: 'forward-packed-1k-slow-loki',
    description: 'forward-packed-1k into a Loki that answers each push after 50 ms; 8 workers (streams sharded over them)',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 50 },
    config: (ports) => forwardToLokiConfig(ports, { outputOptions: { workers: 8 } }),
  },
  {
    name: 'forward-packed-1k-slow-loki-1-worker',
    description: 'forward-packed-1k-slow-loki with the default single worker, for comparison',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 50 },
    config: (ports) => forwardToLokiConfig(ports),
  },
  {
    name: 'tail',
    description: '20 CRI files, 500 MiB (one of kubernetes-event-exporter JSON; 10% of lines split in P pieces), read from head → event_exporter → loki with kubernetes labels',
    input: 'tail',
    tail: { files: 20, totalBytes: 500 * MiB },
    sink: { delayMs: 0 },
    config: (ports) => tailToLokiConfig(ports),
  },
  {
    name: 'tail-snappyjs',
    description: 'tail with the pure-JS snappy (FLOKI_SNAPPY=js: snappyjs on a worker thread) instead of the native binding',
    input: 'tail',
    tail: { files: 20, totalBytes: 500 * MiB },
    sink: { delayMs: 0 },
    env: { FLOKI_SNAPPY: 'js' },
    config: (ports) => tailToLokiConfig(ports),
  },
];

// ---------------------------------------------------------------------------------------------
// Process measurements

let clockTicks;
function clkTck() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds of `pid`. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / clkTck();
}

/** { hwm, rss } in bytes from /proc/<pid>/status. */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withDeadline(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// floki as a child process

class FlokiProcess {
  constructor(configFile, env = {}) {
    this.lines = []; // last lines of its log, for failure reports
    this.notable = new Map(); // warn/error messages → count
    this.exit = undefined;
    this.child = spawn(process.execPath, [...NODE_ARGS, CLI, '-c', configFile], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal }))));
    this.started = new Promise((resolve, reject) => {
      let partial = '';
      this.child.stderr.setEncoding('utf8');
      this.child.stderr.on('data', (text) => {
        const parts = (partial + text).split('\n');
        partial = parts.pop();
        for (const line of parts) this.onLine(line, resolve);
      });
      this.exited.then((e) => reject(new Error(`floki exited before it started (code ${e.code}, signal ${e.signal})\n${this.tail()}`)));
    });
  }

  onLine(line, started) {
    if (process.env.BENCH_ECHO && line.includes(process.env.BENCH_ECHO)) process.stderr.write(line + '\n');
    this.lines.push(line);
    if (this.lines.length > 40) this.lines.shift();
    if (line.includes('"msg":"floki started"')) started();
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined && Number(level) >= 40) {
      const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line.slice(0, 200);
      this.notable.set(msg, (this.notable.get(msg) ?? 0) + 1);
    } else if (level === undefined && line.trim() !== '') {
      this.notable.set(line.slice(0, 200), (this.notable.get(line.slice(0, 200)) ?? 0) + 1);
    }
  }

  get pid() {
    return this.child.pid;
  }

  tail(n = 15) {
    return this.lines
      .slice(-n)
      .map((l) => `    floki: ${l}`)
      .join('\n');
  }

  async stop() {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    try {
      return await withDeadline(this.exited, 15_000, 'floki did not exit within 15 s of SIGTERM');
    } catch (err) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw err;
    }
  }
}

async function scrapeMetrics(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/metrics/prometheus`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('floki_') && !/ 0$/.test(l))
      .join('\n');
  } catch (err) {
    return `(metrics unavailable: ${err.message})`;
  }
}

// ---------------------------------------------------------------------------------------------
// One run

async function runOnce(w, prepared, runNo) {
  const expected = w.events;
  const sink = await forkSink({ delayMs: w.sink.delayMs, expected });
  const dir = mkdtempSync(join(tmpdir(), 'floki-bench-'));
  let floki;
  let conn;
  let ports;
  const result = { workload: w.name, run: runNo, events: expected, bytesIn: prepared.bytes, ok: false, problems: [] };
  try {
    ports = { httpPort: await freePort(), inputPort: await freePort(), sinkPort: sink.port, dir };
    const configFile = join(dir, 'floki.yaml');
    writeFileSync(configFile, w.config(ports));
    floki = new FlokiProcess(configFile, w.env);
    await withDeadline(floki.started, 30_000, `floki did not log "floki started" within 30 s\n${floki.tail()}`);
    conn = await DRIVERS[w.input].connect(w, prepared, ports);

    const cpu0 = cpuSeconds(floki.pid);
    const t0 = process.hrtime.bigint();
    const sent = conn.send().then(() => (result.sentS = Number(process.hrtime.bigint() - t0) / 1e9));
    const failed = new Promise((_, reject) => {
      sent.catch(reject);
      floki.exited.then((e) => reject(new Error(`floki exited during the run (code ${e.code}, signal ${e.signal})`)));
    });
    const progress = setInterval(async () => {
      const s = await sink.stats().catch(() => undefined);
      if (s) process.stderr.write(`  ${w.name} run ${runNo}: ${s.entries}/${expected} events at the sink\n`);
    }, 10_000);
    let done;
    try {
      done = await withDeadline(Promise.race([sink.done, failed]), DEADLINE_MS, `not all events arrived within ${DEADLINE_MS / 1000} s`);
    } finally {
      clearInterval(progress);
    }
    const elapsedS = Number(BigInt(done.doneAt) - t0) / 1e9;
    const cpuS = cpuSeconds(floki.pid) - cpu0;
    const mem = memory(floki.pid);
    await sent;

    await sleep(SETTLE_MS); // not timed: lets a late duplicate show up
    const s = await sink.stats();
    Object.assign(result, {
      elapsedS,
      cpuS,
      hwm: mem.hwm,
      rssEnd: memory(floki.pid).rss,
      requests: s.requests,
      streams: s.streams,
      received: s.entries,
      duplicates: s.duplicates,
      unknown: s.unknown,
      sinkBytes: s.bodyBytes,
    });
    if (s.entries > expected) result.problems.push(`${s.entries - expected} more entries than sent`);
    if (s.duplicates > 0) result.problems.push(`${s.duplicates} duplicate events`);
    if (s.unknown > 0) result.problems.push(`${s.unknown} entries without a known sequence number`);
    if (s.badRequests > 0) result.problems.push(`${s.badRequests} push requests the sink could not read`);
    result.ok = result.problems.length === 0;
    if (!result.ok || process.env.BENCH_METRICS) result.metrics = await scrapeMetrics(ports.httpPort);
    if (process.env.BENCH_METRICS) process.stderr.write(result.metrics + '\n');
  } catch (err) {
    result.problems.push(err.message);
    const s = await sink.stats().catch(() => undefined);
    if (s) {
      result.received = s.entries;
      result.duplicates = s.duplicates;
      const missing = await sink.missing(5).catch(() => []);
      result.problems.push(`sink counted ${s.entries}/${expected} events (${s.duplicates} duplicates) in ${s.requests} requests; first missing: ${missing.join(', ')}`);
    }
    if (floki && !floki.exit && ports) result.metrics = await scrapeMetrics(ports.httpPort);
    if (floki) result.log = floki.tail();
  } finally {
    conn?.close();
    if (floki) {
      try {
        const e = await floki.stop();
        if (e.code !== 0 && result.ok) {
          result.problems.push(`floki exited with code ${e.code} (signal ${e.signal}) on SIGTERM`);
          result.ok = false;
        }
      } catch (err) {
        result.problems.push(err.message);
        result.ok = false;
      }
      result.notable = floki.notable;
    }
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const fmt = {
  int: (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–'),
  f1: (n) => (Number.isFinite(n) ? n.toFixed(1) : '–'),
  f2: (n) => (Number.isFinite(n) ? n.toFixed(2) : '–'),
};

function figures(r) {
  if (!r.ok) return { eps: NaN, mibs: NaN, cpuPerGiB: NaN, rssMiB: NaN };
  return {
    eps: r.events / r.elapsedS,
    mibs: r.bytesIn / MiB / r.elapsedS,
    cpuPerGiB: r.cpuS / (r.bytesIn / GiB),
    rssMiB: r.hwm / MiB,
  };
}

function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(argv) {
  if (argv.includes('--list')) {
    for (const w of WORKLOADS) process.stdout.write(`${w.name}\t${w.description}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => !WORKLOADS.some((w) => w.name === a));
  if (unknown.length) {
    process.stderr.write(`unknown workload ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.name).join(', ')}\n`);
    return 2;
  }
  if (!existsSync(CLI)) {
    process.stderr.write(`${CLI} is missing: run \`npm run build\` (or \`npm run bench\`)\n`);
    return 2;
  }
  const selected = argv.length ? WORKLOADS.filter((w) => argv.includes(w.name)) : WORKLOADS;
  const all = [];
  const summary = [];
  for (const base of selected) {
    const w = { ...base, events: env('BENCH_EVENTS', base.events) };
    process.stderr.write(w.events === undefined ? `${w.name}: preparing its input…\n` : `${w.name}: generating ${w.events} events…\n`);
    const prepared = DRIVERS[w.input].prepare(w);
    // Inputs read from files know their event count only once the files exist.
    if (prepared.events !== undefined) w.events = prepared.events;
    process.stderr.write(`${w.name}: ${(prepared.bytes / MiB).toFixed(1)} MiB of input; ${RUNS} runs\n`);
    const runs = [];
    for (let i = 1; i <= RUNS; i++) {
      const r = await runOnce(w, prepared, i);
      runs.push(r);
      all.push(r);
      const f = figures(r);
      process.stderr.write(
        r.ok
          ? `  run ${i}: ${fmt.int(f.eps)} events/s, ${fmt.f1(f.mibs)} MiB/s, ${r.elapsedS.toFixed(2)} s (sending ${r.sentS?.toFixed(2)} s), CPU ${r.cpuS.toFixed(2)} s, peak RSS ${fmt.int(f.rssMiB)} MiB, RSS at end ${fmt.int(r.rssEnd / MiB)} MiB, ${r.requests} pushes\n`
          : `  run ${i}: FAILED\n${r.problems.map((p) => `    ${p}`).join('\n')}\n${r.log ?? ''}\n${r.metrics ? r.metrics.replace(/^/gm, '    ') + '\n' : ''}`,
      );
      for (const [msg, n] of r.notable ?? []) process.stderr.write(`    floki logged ${n}× "${msg}"\n`);
    }
    const f = runs.map(figures);
    summary.push([
      w.name,
      fmt.int(w.events),
      fmt.int(median(f.map((x) => x.eps))),
      fmt.f1(median(f.map((x) => x.mibs))),
      fmt.f2(median(f.map((x) => x.cpuPerGiB))),
      fmt.int(median(f.map((x) => x.rssMiB))),
      runs.every((r) => r.ok) ? '' : `${runs.filter((r) => !r.ok).length}/${runs.length} runs failed`,
    ]);
  }

  const header = ['workload', 'events', 'events/s', 'MiB/s in', 'CPU s/GiB', 'peak RSS MiB'];
  const failures = summary.some((row) => row[6] !== '');
  const rows = summary.map((row) => (failures ? row : row.slice(0, 6)));
  process.stderr.write(
    '\nindividual runs:\n' +
      table(
        ['workload', 'run', 'events/s', 'MiB/s in', 'CPU s', 'CPU s/GiB', 'peak RSS MiB', 'elapsed s', 'pushes', 'result'],
        all.map((r) => {
          const f = figures(r);
          return [r.workload, r.run, fmt.int(f.eps), fmt.f1(f.mibs), fmt.f2(r.cpuS), fmt.f2(f.cpuPerGiB), fmt.int(f.rssMiB), fmt.f2(r.elapsedS), r.requests ?? '–', r.ok ? 'ok' : 'FAILED'];
        }),
      ) +
      '\n\n',
  );
  process.stdout.write(
    table(failures ? [...header, 'failures'] : header, rows) +
      `\n\nMedian of ${RUNS} runs. MiB/s in: forward protocol bytes as sent, or log file bytes read (tail). CPU s/GiB: floki's user+system CPU during the timed window per GiB in. Peak RSS: floki's VmHWM. Node ${process.version}.\n`,
  );
  return all.every((r) => r.ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
