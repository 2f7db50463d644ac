/**
 * Docker's json-file log line: `{"log":"…\n","stream":"stdout","time":"2019-04-30T02:12:41.8443515Z"}`.
 * A `log` that ends with a newline is a whole line (the newline is not part of it); one without is a
 * piece of a line longer than docker's 16 KiB buffer, continued by the next piece of the same stream.
 */
import { NOT_A_TIME, type Rfc3339Parser } from './rfc3339.js';
import { STDERR, STDOUT, type StreamIndex } from './cri-format.js';

const OPEN_BRACE = 0x7b;

export interface DecodedDockerLine {
  time: bigint;
  stream: StreamIndex;
  /** The stream's name as written (stdout or stderr). */
  streamName: string;
  partial: boolean;
  /** The content, without the newline that ends a whole line. */
  log: string;
}

/** Decodes `b[start, end)`; returns false when it is not a docker json-file line. */
export function decodeDockerLine(b: Buffer, start: number, end: number, times: Rfc3339Parser, out: DecodedDockerLine): boolean {
  if (b[start] !== OPEN_BRACE) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(b.toString('utf8', start, end));
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object') return false;
  const { log, stream, time } = parsed as Record<string, unknown>;
  if (typeof log !== 'string' || typeof time !== 'string') return false;
  const ns = times.parseString(time);
  if (ns === NOT_A_TIME) return false;
  const streamName = typeof stream === 'string' ? stream : 'stdout';
  out.time = ns;
  out.stream = streamName === 'stderr' ? STDERR : STDOUT;
  out.streamName = streamName;
  const whole = log.charCodeAt(log.length - 1) === 0x0a;
  out.partial = !whole;
  out.log = whole ? log.slice(0, -1) : log;
  return true;
}
