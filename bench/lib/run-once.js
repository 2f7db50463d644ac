// One run of one workload on one process under test (floki or Fluent Bit): a counting Loki sink in
// its own process, the process under test with the workload's config, the workload's input.
//
// Throughput runs time from the first byte sent (or the process's start, for input that is there
// before it) until the sink has counted every event, then wait SETTLE_MS for late duplicates.
// Idle runs let the process settle, then sample its RSS each second and its CPU over a window.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkSink } from './loki-sink.js';
import { cpuSeconds, freePort, machineShare, machineTicks, median, memory, sleep, threadCpu, withDeadline } from './measure.js';
import { FlokiProcess, FluentBitProcess, scrapeMetrics } from './processes.js';

/** Time after the last expected event during which a duplicate would still be noticed (floki flushes every 1 s). */
const SETTLE_MS = 1500;
const START_DEADLINE_MS = 30_000;
/** Without a new entry for this long, a process allowed to cut lines has sent all it will (see stalledWithCuts). */
const STALL_MS = 10_000;

export const TARGETS = {
  floki: { kind: 'floki', label: 'floki' },
  fluentBit: { kind: 'fluentBit', label: 'Fluent Bit' },
};

/**
 * `opts`: { drivers, root, cli, nodeArgs, fluentBit (binary), deadlineMs }. Returns a result with
 * `ok`, `problems` and the measurements (see report.js).
 */
export async function runOnce(w, prepared, target, runNo, opts) {
  const expected = w.events ?? 0;
  // Entries this process is known to send twice (Fluent Bit's, in the parsing workload): at most that
  // many may arrive twice (fewer when it cut some of them in pieces).
  const knownDuplicates = w.knownDuplicates?.(target.kind, prepared) ?? 0;
  // Entries without a number this process is known to send (Fluent Bit cutting lines on a backlog):
  // counted and shown, not a failure, as long as every number arrives exactly once.
  const cutLinesTolerated = w.toleratesCutLines?.(target.kind) ?? false;
  const result = { workload: w.name, reports: w.reports, target: target.kind, run: runNo, events: expected, bytesIn: prepared.bytes, ok: false, problems: [] };
  const sink = await forkSink({ delayMs: w.sink.delayMs, expected });
  const dir = mkdtempSync(join(tmpdir(), 'floki-bench-'));
  const services = [];
  let proc;
  let conn;
  let ctx;
  try {
    ctx = { dir, sinkPort: sink.port, httpPort: await freePort(), inputPort: await freePort(), ports: {}, cli: opts.cli, root: opts.root, prepared, target: target.kind };
    for (const name of w.ports ?? []) ctx.ports[name] = await freePort();
    for (const start of w.services ?? []) services.push(await start(ctx));
    const driver = opts.drivers[w.input];
    const config = target.kind === 'floki' ? w.floki(ctx) : w.fluentBit(ctx);
    const configFile = join(dir, target.kind === 'floki' ? 'floki.yaml' : 'fluent-bit.yaml');
    writeFileSync(configFile, config);
    driver.beforeSpawn?.(w, prepared, ctx);

    const timedFrom = driver.timedFrom(w);
    const spawnedAt = process.hrtime.bigint();
    proc = spawnTarget(target, configFile, w, ctx, opts);
    await withDeadline(proc.ready, START_DEADLINE_MS, `${proc.label} was not ready within ${START_DEADLINE_MS / 1000} s\n${proc.tail()}`);
    result.startS = Number(process.hrtime.bigint() - spawnedAt) / 1e9;
    if (w.idle) await measureIdle(w, proc, result, opts);
    else await measureThroughput(w, prepared, proc, sink, result, { driver, ctx, timedFrom, spawnedAt, opts, cutLinesTolerated, onConnected: (c) => (conn = c) });

    const s = await sink.stats();
    Object.assign(result, { requests: s.requests, streams: s.streams, received: s.entries, duplicates: s.duplicates, unknown: s.unknown, sinkBytes: s.bodyBytes });
    if (cutLinesTolerated) result.cutLines = s.unknown;
    const unknownAllowed = cutLinesTolerated ? s.unknown : 0;
    if (s.entries > expected + knownDuplicates + unknownAllowed) result.problems.push(`${s.entries - expected - knownDuplicates - unknownAllowed} more entries than sent`);
    if (s.duplicates > knownDuplicates) result.problems.push(`${s.duplicates} duplicate events${knownDuplicates ? ` (at most ${knownDuplicates} known)` : ''}`);
    if (knownDuplicates) result.knownDuplicates = `${s.duplicates} of at most ${knownDuplicates}`;
    if (s.unique < expected) {
      const missing = await sink.missing(5).catch(() => []);
      // A line cut inside its number leaves both pieces without one: a process allowed to cut lines
      // may miss as many numbers as it sent pieces without one (each missing number has its pieces).
      if (cutLinesTolerated && expected - s.unique <= s.unknown) result.lostInCuts = `${expected - s.unique} (first: ${missing.join(', ')})`;
      else result.problems.push(`${expected - s.unique} events missing (first: ${missing.join(', ')})`);
    }
    if (s.unknown > 0 && !cutLinesTolerated) result.problems.push(`${s.unknown} entries without a known sequence number`);
    if (s.badRequests > 0) result.problems.push(`${s.badRequests} push requests the sink could not read`);
    if (proc.exit) result.problems.push(`${proc.label} exited during the run (code ${proc.exit.code}, signal ${proc.exit.signal})`);
    result.ok = result.problems.length === 0;
    if (!result.ok || process.env.BENCH_METRICS) result.metrics = await scrapeMetrics(ctx.httpPort, proc.metricsPrefix);
    if (process.env.BENCH_METRICS) process.stderr.write(result.metrics + '\n');
  } catch (err) {
    result.problems.push(err.message);
    const s = await sink.stats().catch(() => undefined);
    if (s) {
      result.received = s.entries;
      result.duplicates = s.duplicates;
      const missing = await sink.missing(5).catch(() => []);
      result.problems.push(`sink counted ${s.entries}/${expected} events (${s.unique} distinct, ${s.duplicates} duplicates, ${s.unknown} without a number) in ${s.requests} requests; first missing: ${missing.join(', ')}`);
    }
    if (proc && !proc.exit && ctx) result.metrics = await scrapeMetrics(ctx.httpPort, proc.metricsPrefix);
    if (proc) result.log = proc.tail();
  } finally {
    conn?.close();
    if (proc) {
      try {
        const e = await proc.stop();
        // Fluent Bit's exit code on SIGTERM is not part of what is compared.
        if (target.kind === 'floki' && e.code !== 0 && result.ok) {
          result.problems.push(`floki exited with code ${e.code} (signal ${e.signal}) on SIGTERM`);
          result.ok = false;
        }
      } catch (err) {
        result.problems.push(err.message);
        result.ok = false;
      }
      result.notable = proc.notable;
    }
    for (const s of services) {
      // What a service saw (the API-server stand-in: the requests it answered), for the run's line.
      const note = await s.note?.().catch((err) => `(${err.message})`);
      if (note) (result.notes ??= []).push(note);
      await s.close();
    }
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

function spawnTarget(target, configFile, w, ctx, opts) {
  if (target.kind === 'floki') return new FlokiProcess(configFile, { cli: opts.cli, nodeArgs: opts.nodeArgs, cwd: opts.root, env: w.env });
  const readyPort = w.readyPort ? w.readyPort(ctx) : w.input === 'forward' ? ctx.inputPort : undefined;
  return new FluentBitProcess(configFile, { binary: opts.fluentBit, cwd: ctx.dir, readyPort });
}

/**
 * For a process allowed to cut lines (toleratesCutLines): `finished` resolves like the sink's `done`,
 * with the time of the last push, once nothing arrived for STALL_MS while the numbers still missing
 * are no more than the entries without a number (a line cut inside its number: see runOnce); never
 * otherwise. `cancel()` stops watching.
 */
export function stalledWithCuts(sink, expected, { stallMs = STALL_MS, pollMs = 500 } = {}) {
  let cancelled = false;
  let timer;
  const finished = new Promise((resolve) => {
    let last = -1;
    let since = Date.now();
    timer = setInterval(async () => {
      const s = await sink.stats().catch(() => undefined);
      if (s === undefined || cancelled) return;
      if (s.entries !== last) {
        last = s.entries;
        since = Date.now();
        return;
      }
      if (Date.now() - since >= stallMs && s.unique < expected && s.unique > 0 && expected - s.unique <= s.unknown) {
        clearInterval(timer);
        resolve({ ...s, doneAt: s.lastAt });
      }
    }, pollMs);
  });
  return {
    finished,
    cancel: () => {
      cancelled = true;
      clearInterval(timer);
    },
  };
}

async function measureThroughput(w, prepared, proc, sink, result, { driver, ctx, timedFrom, spawnedAt, opts, cutLinesTolerated, onConnected }) {
  const expected = result.events;
  const conn = await driver.connect(w, prepared, ctx);
  onConnected(conn);
  // From the spawn, the process's CPU since it started counts (the clock's start is before the exec).
  const cpu0 = timedFrom === 'spawn' ? 0 : cpuSeconds(proc.pid);
  const t0 = timedFrom === 'spawn' ? spawnedAt : process.hrtime.bigint();
  const ticks0 = machineTicks();
  const sendStart = process.hrtime.bigint();
  const sent = conn.send().then(() => (result.sentS = Number(process.hrtime.bigint() - sendStart) / 1e9));
  const failed = new Promise((_, reject) => {
    sent.catch(reject);
    proc.gone.catch(reject);
  });
  const progress = setInterval(async () => {
    const s = await sink.stats().catch(() => undefined);
    if (s) process.stderr.write(`  ${w.name} (${proc.label}) run ${result.run}: ${s.entries}/${expected} events at the sink\n`);
  }, 10_000);
  let done;
  const stall = cutLinesTolerated ? stalledWithCuts(sink, expected) : undefined;
  try {
    // A workload's own deadline (a slow twin on a shared machine) unless BENCH_DEADLINE_S says otherwise.
    const deadlineMs = w.deadlineS !== undefined && !process.env.BENCH_DEADLINE_S ? w.deadlineS * 1000 : opts.deadlineMs;
    const finished = stall ? [sink.done, failed, stall.finished] : [sink.done, failed];
    done = await withDeadline(Promise.race(finished), deadlineMs, `not all events arrived within ${deadlineMs / 1000} s`);
  } finally {
    clearInterval(progress);
    stall?.cancel();
  }
  result.elapsedS = Number(BigInt(done.doneAt) - t0) / 1e9;
  result.cpuS = cpuSeconds(proc.pid) - cpu0;
  result.machine = machineShare(ticks0, machineTicks());
  result.threads = threadCpu(proc.pid);
  result.hwm = memory(proc.pid).hwm;
  await sent;
  await sleep(SETTLE_MS); // not timed: lets a late duplicate show up
  result.rssEnd = memory(proc.pid).rss;
}

async function measureIdle(w, proc, result, { idleSettleS, idleWindowS }) {
  const settleS = idleSettleS ?? w.idle.settleS;
  const windowS = idleWindowS ?? w.idle.windowS;
  await Promise.race([sleep(settleS * 1000), proc.gone]);
  const cpu0 = cpuSeconds(proc.pid);
  const t0 = process.hrtime.bigint();
  const samples = [];
  for (let i = 0; i < windowS; i++) {
    await Promise.race([sleep(1000), proc.gone]);
    samples.push(memory(proc.pid).rss);
  }
  const windowUsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  result.idleCpuPct = ((cpuSeconds(proc.pid) - cpu0) / windowUsedS) * 100;
  result.idleRss = median(samples);
  result.idleRssMax = Math.max(...samples);
  result.hwm = memory(proc.pid).hwm;
  result.elapsedS = windowUsedS;
}
