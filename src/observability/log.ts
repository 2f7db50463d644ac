import pino, { type Logger } from 'pino';

/** The process's own log: JSON lines on stderr, so stdout stays free for the stdout output. */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { app: 'floki' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

/** pino's level for a `log_level` value (`off` silences). */
export function pinoLevel(logLevel: string): string {
  return logLevel === 'off' ? 'silent' : logLevel;
}

export type { Logger };
