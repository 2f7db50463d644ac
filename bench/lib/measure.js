// What the runner measures of a process, from /proc (Linux), the same way for floki and Fluent Bit:
// user + system CPU of all its threads, and its resident set (now and peak). Plus small timing helpers.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

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

/** User + system CPU seconds of `pid`, all its threads, since it started. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / clkTck();
}

/**
 * CPU seconds of each of `pid`'s threads alive now, busiest first, the main thread (tid = pid)
 * marked: [{ tid, name, main, cpuS }]. A thread that has ended is not listed (its CPU is still in
 * cpuSeconds). Empty where /proc cannot be read.
 */
export function threadCpu(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out = [];
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ tid: Number(tid), name, main: Number(tid) === pid, cpuS: (Number(f[11]) + Number(f[12])) / clkTck() });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out.sort((a, b) => b.cpuS - a.cpuS);
}

/** The machine's CPU time so far, in clock ticks summed over its cores: { busy, idle, steal } (/proc/stat). */
export function machineTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return { busy: f[0] + f[1] + f[2] + f[5] + f[6], idle: f[3] + f[4], steal: f[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** What share of the machine's CPU time between two machineTicks was busy, and stolen by the hypervisor (0..1 each). */
export function machineShare(a, b) {
  if (a === undefined || b === undefined) return undefined;
  const busy = b.busy - a.busy;
  const steal = b.steal - a.steal;
  const all = busy + (b.idle - a.idle) + steal;
  return all > 0 ? { busy: busy / all, steal: steal / all } : undefined;
}

/** { hwm, rss } in bytes from /proc/<pid>/status: the peak resident set and the current one. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function withDeadline(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function tryConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects when `gaveUp` does. */
export async function waitForPort(port, gaveUp) {
  let stop = false;
  gaveUp.catch(() => (stop = true));
  while (!stop) {
    if (await tryConnect(port)) return;
    await sleep(50);
  }
  await gaveUp;
}

/** The median of the finite values; NaN if there are none. */
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
