import { writeSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * The process's own log: JSON lines on stderr, so stdout stays free for the stdout output. The lines
 * are pino's (`{"level":30,"time":"<ISO>","app":"floki",<bindings>,<fields>,"msg":"..."}`, numeric
 * levels, `err` as `{type, message, stack}`), written synchronously as pino's `destination({ fd: 2,
 * sync: true })` did; the API is the part of pino's Logger floki uses (the level methods with
 * `(fields, message)` or `(message)`, `child(bindings, { level })`, `level`, `isLevelEnabled`).
 * pino itself and its dependencies were about 1.8 MiB of an idle process's RSS for that (measured
 * with `node bench/run.js idle`). Tests still hand the runtime a pino logger of their own.
 */

const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

type Write = (line: string) => void;

/** Writes a line to stderr whole, waiting out a full pipe (EAGAIN) as pino's synchronous destination does. */
function writeStderr(line: string): void {
  let buf = Buffer.from(line, 'utf8');
  for (let attempt = 0; buf.length > 0; ) {
    try {
      const n = writeSync(2, buf);
      buf = buf.subarray(n);
      attempt = 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++attempt > 1000) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.constructor?.name ?? 'Error', message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) if (!(k in out)) out[k] = v;
  if (err.cause !== undefined) out.cause = err.cause instanceof Error ? serializeError(err.cause) : err.cause;
  return out;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return serializeError(value);
  return value;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value, replacer) ?? 'null';
  } catch {
    return '"[unserializable]"';
  }
}

/** `,"k":v` for each key of an object (a binding or a log call's fields). */
function fields(obj: Record<string, unknown>): string {
  let out = '';
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function') continue;
    out += `,${JSON.stringify(k)}:${json(v)}`;
  }
  return out;
}

class JsonLogger {
  private threshold = LEVELS.info!;
  private levelName = 'info';

  constructor(
    level: string,
    /** `,"app":"floki"` and the bindings of the children on the way here. */
    private readonly bindings: string,
    private readonly write: Write,
  ) {
    this.level = level;
  }

  get level(): string {
    return this.levelName;
  }

  set level(level: string) {
    if (level === 'silent') this.threshold = Infinity;
    else if (LEVELS[level] !== undefined) this.threshold = LEVELS[level]!;
    else throw new Error(`unknown log level '${level}'`);
    this.levelName = level;
  }

  isLevelEnabled(level: string): boolean {
    return (LEVELS[level] ?? Infinity) >= this.threshold;
  }

  child(bindings: Record<string, unknown>, options?: { level?: string }): JsonLogger {
    return new JsonLogger(options?.level ?? this.levelName, this.bindings + fields(bindings), this.write);
  }

  trace(a?: unknown, msg?: string): void {
    this.log(10, a, msg);
  }

  debug(a?: unknown, msg?: string): void {
    this.log(20, a, msg);
  }

  info(a?: unknown, msg?: string): void {
    this.log(30, a, msg);
  }

  warn(a?: unknown, msg?: string): void {
    this.log(40, a, msg);
  }

  error(a?: unknown, msg?: string): void {
    this.log(50, a, msg);
  }

  fatal(a?: unknown, msg?: string): void {
    this.log(60, a, msg);
  }

  private log(level: number, a: unknown, msg: string | undefined): void {
    if (level < this.threshold) return;
    let line = `{"level":${level},"time":"${new Date().toISOString()}"${this.bindings}`;
    if (typeof a === 'string') msg = a;
    else if (a instanceof Error) {
      line += `,"err":${json(a)}`;
      msg ??= a.message;
    } else if (a !== null && typeof a === 'object') line += fields(a as Record<string, unknown>);
    if (msg !== undefined) line += `,"msg":${JSON.stringify(String(msg))}`;
    this.write(`${line}}\n`);
  }
}

/** The process's logger at this level (`silent` for none); `write` is for tests (default: stderr). */
export function createLogger(level = 'info', write: Write = writeStderr): Logger {
  return new JsonLogger(level, ',"app":"floki"', write) as unknown as Logger;
}

/** pino's level for a `log_level` value (`off` silences). */
export function pinoLevel(logLevel: string): string {
  return logLevel === 'off' ? 'silent' : logLevel;
}

export type { Logger };
