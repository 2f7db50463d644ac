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
