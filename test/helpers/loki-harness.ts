/**
 * A Loki output instance wired to a scripted receiver, with its metrics and (optionally) its log
 * captured; both are cleaned up when the test ends. Options are given as the config validator
 * resolves them (durations in ms, sizes in bytes).
 */
import type { TestContext } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { Output, OutputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { lokiOutput } from '../../src/outputs/loki/index.js';
import { LokiReceiver, type LokiReceiverOptions } from './loki-receiver.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

export const T0 = 1_764_064_800_123_456_789n;

export interface LokiHarness {
  receiver: LokiReceiver;
  output: Output;
  metrics: Metrics;
  fullCalls: boolean[];
  logLines: string[];
  value(metric: string, labels?: Record<string, string>): Promise<number>;
}

export interface HarnessOptions {
  receiver?: LokiReceiverOptions;
  /** Capture the output's log at info level in `logLines`. */
  capture?: boolean;
  storagePath?: string;
  name?: string;
}

export async function lokiHarness(t: TestContext, options: Record<string, unknown> = {}, h: HarnessOptions = {}): Promise<LokiHarness> {
  const receiver = await LokiReceiver.start(h.receiver);
  const metrics = new Metrics();
  const fullCalls: boolean[] = [];
  const logLines: string[] = [];
  const log = h.capture
    ? pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) }))
    : pino({ level: 'silent' });
  const name = h.name ?? 'loki.0';
  const ctx: OutputContext = {
    name,
    log,
    metrics,
    service: { flushMs: 1000, graceMs: 5000, logLevel: 'info', storagePath: h.storagePath }, parsers: new ParserRegistry(),
    setFull: (full) => fullCalls.push(full),
  };
  const output = lokiOutput.create(
    { port: receiver.port, batch_wait: 20, retry_min_backoff: 5, retry_max_backoff: 50, ...(h.receiver?.grpc ? { transport: 'grpc' } : {}), ...options },
    ctx,
  );
  await output.start();
  t.after(async () => {
    await output.stop(200);
    await receiver.close();
  });
  return { receiver, output, metrics, fullCalls, logLines, value: (m, l = {}) => metrics.value(m, { name, ...l }) };
}

export function events(n: number, make: (i: number) => Partial<LogEvent> = () => ({})): LogEvent[] {
  return Array.from({ length: n }, (_, i) => ({ tag: 'kube.app', time: T0 + BigInt(i), record: { log: `line ${i}` }, ...make(i) }));
}

/** { a: { a: … { a: 'bottom' } } }, `depth` maps deep, built without recursion. */
export function deepRecord(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { a: 'bottom' };
  for (let i = 1; i < depth; i++) inner = { a: inner };
  return inner;
}
