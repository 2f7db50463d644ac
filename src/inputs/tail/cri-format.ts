/**
 * The CRI container log line (containerd, CRI-O): `<RFC3339Nano time> <stdout|stderr> <P|F>[:tags] <content>`.
 * `P` marks a piece of a longer line (containerd splits at 16 KiB, CRI-O at its buffer size), `F` the
 * last or only piece. The content is left as bytes: pieces are joined before UTF-8 decoding.
 */
import { NOT_A_TIME, type Rfc3339Parser } from './rfc3339.js';

const SPACE = 0x20;
const COLON = 0x3a;

export const STDOUT = 0;
export const STDERR = 1;
export type StreamIndex = typeof STDOUT | typeof STDERR;

/** One decoded line; reused from line to line to keep the hot path allocation-free. */
export interface DecodedCriLine {
  time: bigint;
  stream: StreamIndex;
  partial: boolean;
  contentStart: number;
  contentEnd: number;
}

/**
 * Decodes `b[start, end)` (without its newline) into `out`. Returns false when the line is not a CRI
 * line (no time, no stream, no tag), so the caller can try another format or keep it as is.
 */
export function decodeCriLine(b: Uint8Array, start: number, end: number, times: Rfc3339Parser, out: DecodedCriLine): boolean {
  // The time is at most ~35 bytes, followed by a space: read where it ends, within the first 40 bytes.
  const limit = Math.min(end, start + 40);
  const time = times.scan(b, start, limit);
  if (time === NOT_A_TIME) return false;
  const s1 = times.end;
  if (s1 >= limit || b[s1] !== SPACE) return false;
  // "stdout " or "stderr ": s, t, d, then o/e.
  const p = s1 + 1;
  if (p + 7 > end || b[p] !== 0x73 || b[p + 1] !== 0x74 || b[p + 2] !== 0x64 || b[p + 6] !== SPACE) return false;
  let stream: StreamIndex;
  if (b[p + 3] === 0x6f && b[p + 4] === 0x75 && b[p + 5] === 0x74) stream = STDOUT;
  else if (b[p + 3] === 0x65 && b[p + 4] === 0x72 && b[p + 5] === 0x72) stream = STDERR;
  else return false;
  // The tag field: P or F, optionally followed by ":more" (the field is extensible); then a space
  // and the content. An empty content may come without the space.
  const tag = p + 7;
  if (tag >= end) return false;
  const flag = b[tag];
  if (flag !== 0x50 && flag !== 0x46) return false;
  let q = tag + 1;
  if (q < end && b[q] === COLON) {
    while (q < end && b[q] !== SPACE) q++;
  } else if (q < end && b[q] !== SPACE) {
    return false;
  }
  out.time = time;
  out.stream = stream;
  out.partial = flag === 0x50;
  out.contentStart = q < end ? q + 1 : end;
  out.contentEnd = end;
  return true;
}
