/**
 * For the tail input's tests: container log lines written as a runtime writes them, a node's folder
 * layout under a temporary folder, and a pipeline run in this process whose output either captures
 * events (settling them at once, or holding them to make the output full) or is the real Loki output.
 */
import type { TestContext } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { pino } from 'pino';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import type { Delivery } from '../../src/core/delivery.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { Output, OutputContext } from '../../src/core/plugin.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';
import { ROOT } from './floki-process.js';
import { waitFor } from './wait.js';

export const T0 = 1_795_600_800_000_000_000n; // 2026-11-25T10:00:00Z

export function tempDir(t: TestContext, prefix = 'floki-tail-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** RFC3339Nano with all nine digits, as containerd writes it; `offset` as CRI-O writes it (`+02:00`). */
export function rfc3339(ns: bigint, offset?: string): string {
  let shift = 0n;
  if (offset !== undefined) {
    const m = /^([+-])(\d\d):(\d\d)$/.exec(offset)!;
    shift = (BigInt(m[2]!) * 3600n + BigInt(m[3]!) * 60n) * (m[1] === '+' ? 1n : -1n) * 1_000_000_000n;
  }
  const local = ns + shift;
  const s = new Date(Number(local / 1_000_000n)).toISOString().slice(0, 19);
  return `${s}.${String(local % 1_000_000_000n).padStart(9, '0')}${offset ?? 'Z'}`;
}

export function criLine(ns: bigint, stream: 'stdout' | 'stderr', flag: 'P' | 'F', content: string | Buffer, offset?: string): Buffer {
  return Buffer.concat([Buffer.from(`${rfc3339(ns, offset)} ${stream} ${flag} `), Buffer.from(content), Buffer.from('\n')]);
}

export function dockerLine(ns: bigint, stream: 'stdout' | 'stderr', log: string): Buffer {
  return Buffer.from(JSON.stringify({ log, stream, time: rfc3339(ns) }) + '\n');
}

export const CONTAINER_ID = 'c'.repeat(64);

/**
 * A node's layout: `/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log` and the kubelet's symlink
 * `/var/log/containers/<pod>_<ns>_<container>-<id>.log` pointing at it. Returns both paths.
 */
export function nodeLayout(root: string, pod: string, namespace: string, container: string, id = CONTAINER_ID): { link: string; target: string } {
  const podDir = join(root, 'var', 'log', 'pods', `${namespace}_${pod}_0f9e8d7c-${pod.length}`, container);
  mkdirSync(podDir, { recursive: true });
  const containers = join(root, 'var', 'log', 'containers');
  mkdirSync(containers, { recursive: true });
  const target = join(podDir, '0.log');
  const link = join(containers, `${pod}_${namespace}_${container}-${id}.log`);
  symlinkSync(relative(dirname(link), target), link);
  return { link, target };
}

/** An output that records every event and settles it at once, unless told to hold (and be full). */
export class CaptureOutput implements Output {
  readonly events: LogEvent[] = [];
  private held: { delivery: Delivery; n: number }[] = [];
  private holding = false;
  /** When set, holding starts (without being full) with the write that goes past this many events. */
  private holdFrom: number | undefined;
  /** Events written (and settled) before holdAfter's hold began. */
  settledBeforeHold: number | undefined;

  constructor(private readonly ctx: OutputContext) {}

  /** From the write that goes past `n` events on, events are not settled (as hold(false)), whatever the machine's speed. */
  holdAfter(n: number): void {
    this.holdFrom = n;
  }

  async start(): Promise<void> {}

  write(events: LogEvent[], delivery?: Delivery): void {
    if (this.holdFrom !== undefined && !this.holding && this.events.length + events.length > this.holdFrom) {
      // Settled as a whole or not at all: holding starts with the write that goes past the mark.
      this.settledBeforeHold = this.events.length;
      this.holdFrom = undefined;
      this.holding = true;
    }
    for (const e of events) this.events.push(e);
    if (!delivery) return;
    if (this.holding) this.held.push({ delivery, n: events.length });
    else delivery.settle(events.length);
  }

  /** Written events are not settled until release(); with `full`, the engine also pauses the inputs. */
  hold(full = true): void {
    this.holding = true;
    if (full) this.ctx.setFull(true);
  }

  release(): void {
    this.holding = false;
    for (const h of this.held.splice(0)) h.delivery.settle(h.n);
    this.ctx.setFull(false);
  }

  queuedBytes(): number {
    return 0;
  }

  async stop(): Promise<void> {}
}

export interface Pipeline {
  engine: Engine;
  metrics: Metrics;
  /** The capture output, when the config uses `name: capture`. */
  capture: CaptureOutput;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `config` (Fluent Bit YAML, or the format `file`'s name says, relative paths taken from its
 * folder) in this process; `capture` is available as an output.
 */
export async function startPipeline(t: TestContext, config: string, file = 'floki.yaml', onCapture?: (capture: CaptureOutput) => void): Promise<Pipeline> {
  let capture: CaptureOutput | undefined;
  const plugin: AnyPlugin = {
    kind: 'output',
    name: 'capture',
    description: 'test output',
    options: [],
    create: (_o, ctx) => {
      capture = new CaptureOutput(ctx);
      onCapture?.(capture);
      return capture;
    },
  };
  const registry: PluginRegistry = new Map([...PLUGINS, ['capture', plugin]]);
  const metrics = new Metrics();
  const engine = new Engine(parseConfig(config, file, registry, {}), pino({ level: process.env.FLOKI_TEST_LOG ?? 'silent' }), metrics);
  await engine.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await engine.stop(500);
  };
  t.after(stop);
  return { engine, metrics, capture: capture!, metric: (name, labels) => metrics.value(name, labels), stop };
}

/**
 * floki's CLI in a process of its own, started as `node --import tsx src/cli.ts`: one process, so that
 * SIGKILL kills floki itself (the tsx command runs the program in a child that a SIGKILL to it would
 * leave running).
 */
export class KillableFloki {
  readonly child: ChildProcess;
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(dir: string, config: string) {
    const file = join(dir, `floki-${Date.now()}-${Math.random().toString(16).slice(2)}.yaml`);
    writeFileSync(file, config);
    this.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), '-c', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => ((this.exit = { code, signal }), resolve())));
  }

  async ready(): Promise<void> {
    await waitFor(() => this.stderr.includes('"msg":"floki started"') || this.exit !== undefined, 'floki started', 20_000);
    if (this.exit !== undefined) throw new Error(`floki exited before starting:\n${this.stderr}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exit === undefined) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
    return this.exit!.code;
  }
}
