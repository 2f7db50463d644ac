/**
 * Start-up costs an idle process would keep. Loading floki's modules runs the module loader's own
 * functions hot enough (a few hundred files) for V8 to optimize them, and one optimization brings
 * TurboFan's code into memory: about 3.5 MiB of RSS that stays for the process's life while the idle
 * process never needs it (measured with `node bench/run.js idle`). The objects start-up allocates
 * also make V8 grow the young generation to 16 MiB, which it shrinks back only once its memory
 * reducer runs, seconds later or never on a process with nothing to do.
 *
 * So, from the first line of the CLI until the pipeline runs, TurboFan is off and the young
 * generation does not grow; both come back as they were once start-up is done, before the first
 * event is read, so the hot paths are optimized as before. A user who sets either V8 flag themselves
 * (on the command line or in NODE_OPTIONS) keeps their setting: this module then leaves it alone.
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flags start-up changes, each with the value it gives and the one it restores (V8's defaults). */
const STARTUP_FLAGS: readonly { name: string; during: string; after: string }[] = [
  { name: 'opt', during: '--no-opt', after: '--opt' },
  { name: 'sparkplug', during: '--no-sparkplug', after: '--sparkplug' },
  { name: 'semi-space-growth-factor', during: '--semi-space-growth-factor=1', after: '--semi-space-growth-factor=2' },
];

let changed: typeof STARTUP_FLAGS = [];

/** Whether the user set this V8 flag (any spelling: `--opt`, `--no-opt`, `--semi_space_growth_factor=...`). */
function userSet(name: string, argv: readonly string[]): boolean {
  const words = [name, name.replace(/-/g, '_')];
  return argv.some((a) => words.some((w) => a === `--${w}` || a === `--no-${w}` || a === `--no${w}` || a.startsWith(`--${w}=`)));
}

/** Turns TurboFan and young-generation growth off for start-up (see above). Once only. */
export function beginStartup(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): void {
  if (changed.length > 0 || process.env.FLOKI_STARTUP_TUNING === 'off') return;
  const argv = [...execArgv, ...nodeOptions.split(/\s+/)];
  changed = STARTUP_FLAGS.filter((f) => !userSet(f.name, argv));
  for (const f of changed) setFlagsFromString(f.during);
}

/** Gives back what beginStartup changed. Safe to call more than once. */
export function endStartup(): void {
  for (const f of changed) setFlagsFromString(f.after);
  changed = [];
}
