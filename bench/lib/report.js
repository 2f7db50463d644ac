// The figures a run yields, and the tables: one row per workload and process under test with the
// median of its runs, and floki's ratios to Fluent Bit on floki's row when Fluent Bit ran too.

import { median } from './measure.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const fmt = {
  int: (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–'),
  f1: (n) => (Number.isFinite(n) ? n.toFixed(1) : '–'),
  f2: (n) => (Number.isFinite(n) ? n.toFixed(2) : '–'),
  ratio: (n) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–'),
};

/**
 * The figures a workload may report (its `reports`), each computed from one run's result, with how
 * it is printed. A new figure is one more entry here.
 */
export const FIGURES = {
  events: { value: (r) => r.events, format: fmt.int },
  'events/s': { value: (r) => r.events / r.elapsedS, format: fmt.int },
  'MiB/s in': { value: (r) => r.bytesIn / MiB / r.elapsedS, format: fmt.f1 },
  'CPU s': { value: (r) => r.cpuS, format: fmt.f2 },
  'CPU s/GiB': { value: (r) => r.cpuS / (r.bytesIn / GiB), format: fmt.f2 },
  'peak RSS MiB': { value: (r) => r.hwm / MiB, format: fmt.int },
  'idle RSS MiB': { value: (r) => r.idleRss / MiB, format: fmt.int },
  'idle CPU %': { value: (r) => r.idleCpuPct, format: fmt.f2 },
};

/** floki ÷ Fluent Bit: the workload's rate, its CPU (seconds, or % of a core at rest), its memory (peak, or at rest). */
const RATIOS = [
  { header: 'rate ÷ FB', figure: (w) => w.rate },
  { header: 'CPU ÷ FB', figure: (w) => (w.reports.includes('CPU s') ? 'CPU s' : w.reports.includes('idle CPU %') ? 'idle CPU %' : undefined) },
  { header: 'RSS ÷ FB', figure: (w) => (w.reports.includes('idle RSS MiB') ? 'idle RSS MiB' : w.reports.includes('peak RSS MiB') ? 'peak RSS MiB' : undefined) },
];

function figureOf(r, name) {
  if (!r.ok || !r.reports.includes(name)) return NaN;
  const v = FIGURES[name].value(r);
  return Number.isFinite(v) ? v : NaN;
}

export function markdownTable(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** One line on stderr per run, as it ends. */
export function describeRun(r) {
  if (!r.ok) return `FAILED\n${r.problems.map((p) => `    ${p}`).join('\n')}\n${r.log ?? ''}\n${r.metrics ? r.metrics.replace(/^/gm, '    ') + '\n' : ''}`;
  const mib = (b) => fmt.int(b / MiB);
  if (r.idleRss !== undefined) {
    return `idle RSS ${mib(r.idleRss)} MiB (at most ${mib(r.idleRssMax)}), idle CPU ${fmt.f2(r.idleCpuPct)}% of a core over ${r.elapsedS.toFixed(1)} s, peak RSS ${mib(r.hwm)} MiB, ready after ${r.startS.toFixed(2)} s`;
  }
  const sending = r.sentS >= 0.01 ? ` (sending ${r.sentS.toFixed(2)} s)` : '';
  const cut = `${r.cutLines ? `; ${r.cutLines} entries without a number (lines cut in pieces, tolerated for this process)` : ''}${r.lostInCuts ? `; numbers lost in lines cut inside them: ${r.lostInCuts} (timed to its last push)` : ''}${r.knownDuplicates ? `; known duplicates: ${r.knownDuplicates}` : ''}`;
  const notes = `${cut}${r.notes?.length ? `; ${r.notes.join('; ')}` : ''}${machineNote(r)}${process.env.BENCH_THREADS ? threadsNote(r) : ''}`;
  return `${fmt.int(figureOf(r, 'events/s'))} events/s, ${fmt.f1(figureOf(r, 'MiB/s in'))} MiB/s, ${r.elapsedS.toFixed(2)} s${sending}, CPU ${r.cpuS.toFixed(2)} s, peak RSS ${mib(r.hwm)} MiB, RSS at end ${mib(r.rssEnd)} MiB, ${r.requests} pushes${notes}`;
}

/** How busy the whole machine was over the run (others' work takes cores from the process under test). */
function machineNote(r) {
  if (r.machine === undefined) return '';
  const steal = r.machine.steal >= 0.005 ? `, ${(r.machine.steal * 100).toFixed(0)}% stolen` : '';
  return `; machine ${(r.machine.busy * 100).toFixed(0)}% busy${steal}`;
}

/** BENCH_THREADS=1: the CPU seconds of the process's busiest threads at the end of the run (from its start). */
function threadsNote(r) {
  if (!r.threads?.length) return '';
  const shown = r.threads.filter((t) => t.cpuS >= 0.05).slice(0, 8);
  return `; threads' CPU s since start: ${shown.map((t) => `${t.main ? 'main ' : `${t.name} `}${t.cpuS.toFixed(2)}`).join(', ')}`;
}

/** The individual runs, for stderr: the figures any of them reports. */
export function runsTable(results) {
  const figures = ['events/s', 'MiB/s in', 'CPU s', 'peak RSS MiB', 'idle RSS MiB', 'idle CPU %'].filter((f) => results.some((r) => r.reports.includes(f)));
  return markdownTable(
    ['workload', 'process', 'run', ...figures, 'elapsed s', 'pushes', 'result'],
    results.map((r) => [
      r.workload,
      r.target === 'floki' ? 'floki' : 'Fluent Bit',
      r.run,
      ...figures.map((f) => FIGURES[f].format(figureOf(r, f))),
      fmt.f2(r.elapsedS),
      r.requests ?? '–',
      r.ok ? 'ok' : 'FAILED',
    ]),
  );
}

/**
 * The summary: `groups` is [{ workload, runs: { floki: [...], fluentBit?: [...] } }]. Columns are the
 * figures any selected workload reports; the process column and ratios only when Fluent Bit ran.
 */
export function summaryTable(groups) {
  const columns = Object.keys(FIGURES).filter((f) => groups.some((g) => g.workload.reports.includes(f)));
  const withFluentBit = groups.some((g) => g.runs.fluentBit);
  const failures = groups.some((g) => Object.values(g.runs).some((runs) => runs.some((r) => !r.ok)));
  const header = ['workload', ...(withFluentBit ? ['process'] : []), ...columns, ...(withFluentBit ? RATIOS.map((r) => r.header) : []), ...(failures ? ['failures'] : [])];
  const rows = [];
  for (const { workload: w, runs } of groups) {
    const med = (list, f) => median(list.map((r) => figureOf(r, f)));
    for (const [target, list] of Object.entries(runs)) {
      const row = [w.name];
      if (withFluentBit) row.push(target === 'floki' ? 'floki' : 'Fluent Bit');
      for (const f of columns) row.push(w.reports.includes(f) ? FIGURES[f].format(med(list, f)) : '–');
      if (withFluentBit) {
        for (const ratio of RATIOS) {
          const f = ratio.figure(w);
          // A ratio to nothing (Fluent Bit at 0.00% CPU at rest) is shown as –.
          row.push(target !== 'floki' || !runs.fluentBit ? '' : f ? fmt.ratio(med(list, f) / med(runs.fluentBit, f)) : '–');
        }
      }
      if (failures) {
        const failed = list.filter((r) => !r.ok).length;
        row.push(failed ? `${failed}/${list.length} runs failed` : '');
      }
      rows.push(row);
    }
  }
  return markdownTable(header, rows);
}

/**
 * Lines comparing a workload with another of the same run (its `compareTo`: { workload, figure, aim }),
 * floki's medians: the aggregator tier's events/s against direct forward → loki's. Empty when either
 * is missing from the run.
 */
export function comparisonLines(groups) {
  const lines = [];
  for (const { workload: w, runs } of groups) {
    const c = w.compareTo;
    if (!c) continue;
    const other = groups.find((g) => g.workload.name === c.workload);
    if (!other) {
      lines.push(`${w.name}: run ${c.workload} with it to see its ${c.figure} against that one's`);
      continue;
    }
    const mine = median(runs.floki.map((r) => figureOf(r, c.figure)));
    const theirs = median(other.runs.floki.map((r) => figureOf(r, c.figure)));
    const ratio = mine / theirs;
    const verdict = Number.isFinite(ratio) ? (ratio >= c.aim ? 'meets' : 'misses') : 'cannot tell';
    lines.push(
      `${w.name}: ${FIGURES[c.figure].format(mine)} ${c.figure} = ${Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)}%` : '–'} of ${c.workload}'s ${FIGURES[c.figure].format(theirs)} (floki; aim at least ${(c.aim * 100).toFixed(0)}%: ${verdict})`,
    );
  }
  return lines;
}
