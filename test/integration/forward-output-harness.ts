/**
 * Shared by the forward output's integration tests: the output built as the engine builds it, floki's
 * forward input as the receiver (real sockets on 127.0.0.1), and a TCP proxy in front of a receiver
 * that can misbehave (drop the connection instead of passing an ack on, hold an ack back).
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { unpackMultiple } from 'msgpackr';
import { pino, type Logger } from 'pino';
import { Delivery } from '../../src/core/delivery.js';
import type { LogEvent } from '../../src/core/event.js';
import type { InputContext, OutputContext } from '../../src/core/plugin.js';
import { forwardInput, ForwardServer } from '../../src/inputs/forward/index.js';
import { registerForwardExtensions } from '../../src/forward/msgpack-extensions.js';
import { Metrics } from '../../src/observability/metrics.js';
import { parseOption } from '../../src/config/options.js';
import { FORWARD_OUTPUT_OPTIONS, ForwardOutput, type ForwardOutputDeps, resolveForwardOutputConfig } from '../../src/outputs/forward/index.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { waitFor } from '../helpers/wait.js';

registerForwardExtensions();

export const OUTPUT = 'forward.out';
export const INPUT = 'forward.in';

export interface Receiver {
  server: ForwardServer;
  port: number;
  events: LogEvent[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** floki's forward input on 127.0.0.1 (a free port), collecting what it emits. */
export async function startReceiver(t: TestContext, options: Record<string, unknown> = {}, emit?: (events: LogEvent[]) => Promise<void>): Promise<Receiver> {
  const events: LogEvent[] = [];
  const metrics = new Metrics();
  const ctx: InputContext = {
    name: INPUT,
    log: pino({ level: 'silent' }),
    metrics,
    service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' },
    parsers: new ParserRegistry(),
    paused: false,
    emit: async (batch) => {
      if (emit) await emit(batch);
      events.push(...batch);
    },
  };
  const server = forwardInput.create({ listen: '127.0.0.1', port: 0, 'security.users': [], threaded: false, ...options }, ctx) as ForwardServer;
  await server.start();
  t.after(() => server.stop());
  return { server, port: server.address()?.port ?? 0, events, metric: (name, labels = {}) => metrics.value(name, { name: INPUT, ...labels }) };
}

export interface Sender {
  output: ForwardOutput;
  metrics: Metrics;
  /** Every setFull the output called, in order. */
  full: boolean[];
  logs: Record<string, unknown>[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Writes the events with a Delivery; `settled()` says whether every one reached its outcome. */
  send(events: LogEvent[]): Promise<{ settled: () => boolean }>;
}

/** The forward output built from options as a config gives them, started; stopped after the test. */
export async function startSender(
  t: TestContext,
  options: Record<string, unknown>,
  service: { flushMs?: number; storagePath?: string; log?: Logger } = {},
  deps: ForwardOutputDeps = {},
): Promise<Sender> {
  const metrics = new Metrics();
  const full: boolean[] = [];
  const logs: Record<string, unknown>[] = [];
  const log = service.log ?? pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const ctx: OutputContext = {
    name: OUTPUT,
    log,
    metrics,
    service: { flushMs: service.flushMs ?? 20, graceMs: 2000, logLevel: 'info', storagePath: service.storagePath },
    parsers: new ParserRegistry(),
    setFull: (f) => void full.push(f),
  };
  const output = new ForwardOutput(resolveForwardOutputConfig(resolve({ host: '127.0.0.1', retry_min_backoff: '20ms', retry_max_backoff: '200ms', ...options })), ctx, deps);
  await output.start();
  t.after(() => output.stop(1000));
  return {
    output,
    metrics,
    full,
    logs,
    metric: (name, labels = {}) => metrics.value(name, { name: OUTPUT, ...labels }),
    async send(events) {
      let done = false;
      const delivery = new Delivery(() => (done = true));
      delivery.add(events.length);
      await output.write(events, delivery);
      delivery.routed();
      return { settled: () => done };
    },
  };
}

/** Options as the config loader hands them over: sizes in bytes, durations in ms, bools parsed. */
export function resolve(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    const spec = FORWARD_OUTPUT_OPTIONS.find((o) => o.name === key);
    assert.ok(spec, `the forward output has a key ${key}`);
    out[key] = parseOption(spec, value);
  }
  return out;
}

/** Events with distinct nanosecond times (not whole seconds) and records. */
export function makeEvents(n: number, tag = 'app.one', from = 0): LogEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    tag,
    time: 1_796_000_000_000_000_000n + BigInt(from + i) * 1_000_003_007n,
    record: { msg: `line ${from + i}`, n: from + i, nested: { ok: true, list: [1, 'two'] } },
  }));
}

/** How Loki would key an entry: same stream (tag), same ns timestamp, same line. */
export function entryKey(e: LogEvent): string {
  return `${e.tag} ${e.time} ${JSON.stringify(e.record)}`;
}

export async function waitForEvents(receivers: Receiver | Receiver[], n: number, what = `${n} events`): Promise<void> {
  const list = Array.isArray(receivers) ? receivers : [receivers];
  await waitFor(() => list.reduce((k, r) => k + r.events.length, 0) >= n, what);
}

/** Every event sent arrived, each possibly more than once but then as exactly the same entry. */
export function assertDeliveredOnceInLokiTerms(sent: LogEvent[], received: LogEvent[]): void {
  const got = new Set(received.map(entryKey));
  assert.deepEqual([...got].sort(), sent.map(entryKey).sort());
}

export type ProxyMode = 'pass' | 'drop-first-ack' | 'hold-first-ack';

/**
 * A TCP proxy to a receiver. `drop-first-ack`: the first reply the receiver sends (an ack) is not
 * passed on; both connections are closed instead. `hold-first-ack`: that reply is kept back and the
 * connection left open. Records the `chunk` of every frame the client sent.
 */
export async function startProxy(t: TestContext, targetPort: number, mode: ProxyMode): Promise<{ port: number; chunks: string[]; connections: number }> {
  const state = { port: 0, chunks: [] as string[], connections: 0 };
  let tripped = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    state.connections++;
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    let sent = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      sent = Buffer.concat([sent, chunk]);
      try {
        for (const frame of unpackMultiple(sent) as unknown[][]) {
          const option = frame[frame.length - 1] as { chunk?: string } | undefined;
          if (option && typeof option === 'object' && typeof option.chunk === 'string') state.chunks.push(option.chunk);
        }
        sent = Buffer.alloc(0);
      } catch {
        // a frame cut in two: the rest comes with the next chunk
      }
      upstream.write(chunk);
    });
    upstream.on('data', (reply: Buffer) => {
      if (!tripped && mode !== 'pass') {
        tripped = true;
        if (mode === 'drop-first-ack') closeBoth();
        return;
      }
      client.write(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return state;
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
