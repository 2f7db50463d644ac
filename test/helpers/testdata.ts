/**
 * The sample inputs in test/fixtures/event-exporter (copied from the project's shared testdata): the kubernetes-event-exporter container log (CRI) and
 * the labels each event must get. CRI partial lines are joined as bytes, per stream, as a node's log
 * reader would, so every event is whole.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './floki-process.js';

export const TESTDATA = join(ROOT, 'test', 'fixtures', 'event-exporter');
export const CRI_LOG = join(TESTDATA, 'event-exporter-6d5b9c7f4-x2x9q_monitoring_event-exporter-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.log');

export interface CriLine {
  time: string;
  stream: string;
  content: string;
}

/** Whole CRI lines (partials joined per stream as bytes, then decoded), in file order of their last piece. */
export function criLines(path = CRI_LOG): CriLine[] {
  const raw = readFileSync(path);
  const out: CriLine[] = [];
  const pending = new Map<string, Buffer[]>();
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0x0a, start);
    if (end < 0) end = raw.length;
    const line = raw.subarray(start, end);
    start = end + 1;
    const s1 = line.indexOf(0x20);
    const s2 = line.indexOf(0x20, s1 + 1);
    const s3 = line.indexOf(0x20, s2 + 1);
    const time = line.subarray(0, s1).toString();
    const stream = line.subarray(s1 + 1, s2).toString();
    const flag = line.subarray(s2 + 1, s3).toString();
    const parts = pending.get(stream) ?? [];
    parts.push(line.subarray(s3 + 1));
    if (flag === 'P') {
      pending.set(stream, parts);
      continue;
    }
    pending.delete(stream);
    out.push({ time, stream, content: Buffer.concat(parts).toString('utf8') });
  }
  return out;
}

export interface ExpectedEvent {
  ts: string;
  labels: Record<string, string>;
}

export function expectedEvents(name = 'expected-cri.jsonl'): ExpectedEvent[] {
  return readFileSync(join(TESTDATA, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ExpectedEvent);
}

/** RFC3339 with up to nine fractional digits and `Z` to nanoseconds since the epoch, exactly. */
export function rfc3339ToNs(ts: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts);
  if (!m) throw new Error(`not an RFC3339 UTC time: ${ts}`);
  const seconds = BigInt(Date.parse(m[1]! + 'Z') / 1000);
  return seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
