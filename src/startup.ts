/**
 * Start-up costs an idle process would keep. Loading floki's modules runs the module loader's own
 * functions hot enough (a few hundred files) for V8 to optimize them, and one optimization brings
 * TurboFan's code into memory: about 3.5 MiB of RSS that stays for the process's life while an idle
 * process never needs it (Sparkplug's baseline code, about 0.5 MiB more). Measured with
 * `node bench/run.js idle`.
 *
 * So, from the first line of the CLI until its modules are loaded and the config read, V8 neither
 * optimizes nor baseline-compiles; both come back before the pipeline starts, so the hot paths are
 * optimized as before. Turning them back on only once the pipeline had started cost W2 (whose tail
 * input reads from its first moment) 15% more CPU seconds; turned on before it, W1's and W2's CPU
 * seconds are unchanged (`BENCH_CLI` A/B, medians of 3). A user who
 * sets either V8 flag themselves (on the command line or in NODE_OPTIONS) keeps their setting: this
 * module then leaves it alone. FLOKI_STARTUP_TUNING=off turns this off.
 *
 * Not done: keeping the young generation from growing during start-up (`--semi-space-growth-factor`).
 * It kept 9 MiB of new space off the idle process until V8's memory reducer runs (about 8 s after
 * start), but the first events then found a small young generation and W1's CPU seconds rose by 10%.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The V8 flags start-up changes, each with the value it gives and the one it restores (V8's defaults). */
const STARTUP_FLAGS: readonly { names: readonly string[]; during: string; after: string }[] = [
  { names: ['opt', 'turbofan'], during: '--no-opt', after: '--opt' },
  { names: ['sparkplug'], during: '--no-sparkplug', after: '--sparkplug' },
];

let changed: typeof STARTUP_FLAGS = [];

/** Whether the user set one of these V8 flags (`--opt`, `--no-opt`, `--noopt`, `--no_sparkplug`). */
function userSet(names: readonly string[], argv: readonly string[]): boolean {
  // V8 reads `_` and `-` alike in flag names.
  return argv.some((arg) => {
    const a = arg.split('=')[0]!.replace(/_/g, '-');
    return names.some((n) => a === `--${n}` || a === `--no-${n}` || a === `--no${n}`);
  });
}

/** Turns TurboFan and Sparkplug off for start-up (see above). Once only. */
export function beginStartup(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): void {
  if (changed.length > 0 || process.env.FLOKI_STARTUP_TUNING === 'off') return;
  changed = startupFlags(execArgv, nodeOptions);
  for (const f of changed) setFlagsFromString(f.during);
}

/** The flags beginStartup changes for a process started with these node arguments and NODE_OPTIONS. */
export function startupFlags(execArgv: readonly string[], nodeOptions: string): typeof STARTUP_FLAGS {
  const argv = [...execArgv, ...nodeOptions.split(/\s+/)];
  // --jitless has V8 compile nothing: nothing to turn off, and nothing to turn back on.
  if (userSet(['jitless'], argv)) return [];
  return STARTUP_FLAGS.filter((f) => !userSet(f.names, argv));
}

/** Gives back what beginStartup changed. Safe to call more than once. */
export function endStartup(): void {
  for (const f of changed) setFlagsFromString(f.after);
  changed = [];
}

/** Idle young-generation collections after start (see settleAfterStart), and the time between them. */
const SETTLE_COLLECTIONS = 10;
const SETTLE_EVERY_MS = 600;
/** More CPU than this (µs, all threads) between two of them: the process is at work, and settling stops. */
const SETTLE_IDLE_CPU_US = 20_000;

/**
 * After start: a few young-generation collections of the (nearly empty) young generation, a
 * fraction of a millisecond each. V8 gives the memory start-up used back (the young generation
 * grown to 16 MiB, the old generation's free pages: about 8 MiB of RSS) only when its memory reducer
 * runs, 8 s after start-up's full collection, and only if it judges the allocation rate low then.
 * It judges from its last ten samples, taken at collections: without these, all ten were start-up's,
 * and on a busy machine the reducer waited 16 to 24 s or more (an idle process at 63 to 73 MiB, and
 * the reducer's own collections in the middle of what should be quiet). With ten idle samples it
 * runs at the first check. They stop at the first sign of work (more than 20 ms of CPU between two);
 * nothing is done where `gc` cannot be had, or with FLOKI_STARTUP_TUNING=off.
 */
export function settleAfterStart(): void {
  if (process.env.FLOKI_STARTUP_TUNING === 'off') return;
  let gc: ((options: { type: 'minor' }) => void) | undefined;
  try {
    // As the snappy thread does: the flag gives `gc` to contexts made from now on (left on, since
    // that thread may be reading it at the same time).
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as typeof gc;
  } catch {
    return;
  }
  if (typeof gc !== 'function') return;
  let done = 0;
  let cpu = process.cpuUsage();
  const timer = setInterval(() => {
    // Only while idle: a process at work gives V8 samples of its own, and a forced collection of a
    // full young generation would cost the work (W1 starts sending as soon as the input listens).
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const busy = used.user + used.system > SETTLE_IDLE_CPU_US;
    if (!busy) gc?.({ type: 'minor' });
    if (busy || ++done >= SETTLE_COLLECTIONS) {
      clearInterval(timer);
      gc = undefined;
    }
  }, SETTLE_EVERY_MS);
  timer.unref();
}
