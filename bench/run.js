// floki benchmarks: `npm run bench` (builds first) or `node bench/run.js [--all | workload ...]`.
//
// For each workload and run: start a counting Loki sink (its own process), start floki
// (`node dist/cli.js -c <config>`, its own process) and, when FLUENT_BIT names a binary and the
// workload has a Fluent Bit config, Fluent Bit on the same input in turn; generate the input before
// timing, then time until the sink has counted every event (or, for the idle workload, sample the
// process at rest). Prints one markdown table with the median of the runs on stdout, the individual
// runs on stderr. Exits non-zero if any run lost or duplicated an event, or failed.
//
// Without names it runs the default set (bench/workloads/index.js); --all runs every workload;
// --list names them (* marks the default set). Workloads are in bench/workloads/.
//
// Environment: FLUENT_BIT (a Fluent Bit binary to compare with), BENCH_EVENTS (events per forward
// workload, default per workload), BENCH_TAIL_MIB (MiB of tail files), BENCH_RUNS (default 3),
// BENCH_DEADLINE_S (per run, default 120), BENCH_IDLE_S / BENCH_IDLE_SETTLE_S (idle window and the
// wait before it), BENCH_CLI (another floki build's cli.js), BENCH_NODE_ARGS (node flags for floki,
// e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'), BENCH_METRICS=1 (print the process's non-zero metrics
// after each run), BENCH_ECHO=<text> (copy the process's log lines containing it to stderr),
// BENCH_THREADS=1 (each run's line lists the CPU seconds of the process's busiest threads). Every
// run's line says how busy the whole machine was meanwhile (work beside the bench slows both programs).

import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envNumber, makeDrivers } from './lib/drivers.js';
import { comparisonLines, describeRun, runsTable, summaryTable } from './lib/report.js';
import { runOnce, TARGETS } from './lib/run-once.js';
import { DEFAULT_WORKLOADS, WORKLOADS } from './workloads/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;

function options() {
  const fluentBit = process.env.FLUENT_BIT ? resolve(process.env.FLUENT_BIT) : undefined;
  if (fluentBit) {
    try {
      accessSync(fluentBit, constants.X_OK);
    } catch {
      throw new Error(`FLUENT_BIT=${process.env.FLUENT_BIT} is not an executable file`);
    }
  }
  return {
    root: ROOT,
    cli: process.env.BENCH_CLI || join(ROOT, 'dist', 'cli.js'),
    nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    fluentBit,
    runs: envNumber('BENCH_RUNS', 3),
    deadlineMs: envNumber('BENCH_DEADLINE_S', 120) * 1000,
    idleWindowS: process.env.BENCH_IDLE_S ? envNumber('BENCH_IDLE_S') : undefined,
    idleSettleS: process.env.BENCH_IDLE_SETTLE_S ? envNumber('BENCH_IDLE_SETTLE_S') : undefined,
    drivers: makeDrivers({ dataDir: join(ROOT, 'bench', '.data') }),
  };
}

function select(argv) {
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((a) => !WORKLOADS.some((w) => w.name === a));
  if (unknown.length) throw new Error(`unknown workload ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.name).join(', ')}`);
  if (argv.includes('--all')) return WORKLOADS;
  if (names.length) return WORKLOADS.filter((w) => names.includes(w.name));
  return DEFAULT_WORKLOADS.map((name) => WORKLOADS.find((w) => w.name === name));
}

async function main(argv) {
  if (argv.includes('--list')) {
    for (const w of WORKLOADS) process.stdout.write(`${DEFAULT_WORKLOADS.includes(w.name) ? '*' : ' '} ${w.name}${w.fluentBit ? ' [+Fluent Bit]' : ''}\t${w.description}\n`);
    return 0;
  }
  const opts = options();
  const selected = select(argv);
  if (!existsSync(opts.cli)) {
    process.stderr.write(`${opts.cli} is missing: run \`npm run build\` (or \`npm run bench\`)\n`);
    return 2;
  }
  const all = [];
  const groups = [];
  const prepared = [];
  for (const base of selected) {
    // BENCH_EVENTS sizes the workloads that send events; file inputs count theirs (BENCH_TAIL_MIB).
    const w = { ...base, events: base.events === undefined ? undefined : envNumber('BENCH_EVENTS', base.events) };
    const targets = [TARGETS.floki, ...(opts.fluentBit && w.fluentBit ? [TARGETS.fluentBit] : [])];
    if (w.input !== 'none') process.stderr.write(w.events === undefined ? `${w.name}: preparing its input…\n` : `${w.name}: generating ${w.events} events…\n`);
    const input = opts.drivers[w.input].prepare(w);
    // Inputs read from files know their event count only once the files exist.
    if (input.events !== undefined) w.events = input.events;
    const size = w.input === 'none' ? 'no input' : `${(input.bytes / MiB).toFixed(1)} MiB of input`;
    process.stderr.write(`${w.name}: ${size}; ${opts.runs} runs of ${targets.map((t) => t.label).join(' and ')}\n`);
    const runs = Object.fromEntries(targets.map((t) => [t.kind, []]));
    prepared.push({ w, input, targets, runs });
    groups.push({ workload: w, runs });
  }
  // Runs take turns: run 1 of every workload (floki, then Fluent Bit), then run 2 of each, and so on,
  // so that a change in the machine's load touches every workload and both programs alike (a share
  // such as forward-aggregator-ack's of forward-packed-1k-ack's compares runs made side by side).
  for (let i = 1; i <= opts.runs; i++) {
    for (const { w, input, targets, runs } of prepared) {
      for (const target of targets) {
        const r = await runOnce(w, input, target, i, opts);
        runs[target.kind].push(r);
        all.push(r);
        process.stderr.write(`  ${w.name}: ${target.label} run ${i}: ${describeRun(r)}\n`);
        for (const [msg, n] of r.notable ?? []) process.stderr.write(`    ${target.label} logged ${n}× "${msg}"\n`);
      }
    }
  }

  process.stderr.write(`\nindividual runs:\n${runsTable(all)}\n\n`);
  const comparisons = comparisonLines(groups);
  process.stdout.write(
    `${summaryTable(groups)}\n\n${comparisons.length ? `${comparisons.join('\n')}\n\n` : ''}Median of ${opts.runs} runs. MiB/s in: forward protocol bytes as sent, or log file bytes read (tail). ` +
      "CPU s: the process's user+system CPU over the timed window (from its start where the input is there before it, as in w2-tail-cri); CPU s/GiB: per GiB in. Peak RSS: VmHWM. " +
      'Idle: RSS (median of 1 s samples) and CPU as % of one core over the window. ' +
      `${opts.fluentBit ? 'X ÷ FB: floki\'s figure over Fluent Bit\'s (rate above 1 is faster; CPU and RSS below 1 is less). ' : ''}Node ${process.version}.\n`,
  );
  return all.every((r) => r.ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err.message ?? err}\n`);
    process.exitCode = err.message?.startsWith('unknown workload') || err.message?.startsWith('FLUENT_BIT') ? 2 : 1;
  },
);
