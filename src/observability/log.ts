import pino, { type Logger } from 'pino';

/** The process's own log: JSON lines on stderr, so stdout stays free for the stdout output. */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { app: 'floki' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
