import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A free TCP port on 127.0.0.1, for a server that must be told its port before it starts (a client
 * already sending there, a port nothing listens on). Prefer port 0 and the port the server reports
 * (FlokiProcess.port, LokiReceiver.port): nothing can take it in between.
 *
 * Binding port 0 and handing that number on raced with the kernel: port 0 picks from the ephemeral
 * range, the one outgoing connections take their source ports from, so another process could take
 * it before the test's server listened (EADDRINUSE, once in three runs). So the port is picked at
 * random below that range, checked free by binding it, and another is tried if it is not.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  // Below the ephemeral range, above the well-known and the usual service ports.
  const from = 20_000;
  const to = Math.max(from + 1000, low);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (await canListen(port)) return port;
  }
  throw new Error(`freePort: no free port found between ${from} and ${to} in 50 tries`);
}

/** The kernel's ephemeral port range (Linux), or the IANA default elsewhere. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux
  }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** floki run as a user runs it: the CLI in its own process, from a config file. `child.pid` is floki's. */
export class FlokiProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  private readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}, private readonly dir?: string) {
    // One process: tsx as a loader in floki's own node, so a signal (SIGKILL included) reaches floki
    // itself, not a wrapper that would leave it running.
    this.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve((this.exitCode = code))));
  }

  /** Writes `config` to a temporary file and starts floki on it. */
  static withConfig(config: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): FlokiProcess {
    const dir = mkdtempSync(join(tmpdir(), 'floki-test-'));
    const file = join(dir, 'floki.yaml');
    writeFileSync(file, config);
    return new FlokiProcess(['-c', file, ...extraArgs], env, dir);
  }

  async waitForLog(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    await waitFor(() => pattern.test(this.stderr) || this.exitCode !== null, `floki log ${pattern}`, timeoutMs);
    if (!pattern.test(this.stderr)) throw new Error(`floki exited (${this.exitCode}) before logging ${pattern}:\n${this.stderr}`);
  }

  /** Waits until floki has started every plugin. */
  ready(): Promise<void> {
    return this.waitForLog(/"msg":"floki started"/);
  }

  /**
   * The TCP port a plugin instance (`forward.0`, `http.0`, an alias) listens on, or the monitoring
   * server's (`service`), as floki logged it when it started: configure port 0 and ask here.
   */
  port(plugin: string): number {
    for (const line of this.stderr.split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: { plugin?: string; msg?: string; port?: number; address?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (plugin === 'service' && entry.msg === 'monitoring server listening' && entry.address !== undefined) {
        return Number(entry.address.slice(entry.address.lastIndexOf(':') + 1));
      }
      if (entry.plugin === plugin && entry.msg?.endsWith(' listening') && typeof entry.port === 'number') return entry.port;
    }
    throw new Error(`floki did not log a listening port for ${plugin}:\n${this.stderr}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (this.exitCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    return code;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}

/** One metric summed over the series whose labels include `labels`, scraped from floki's Prometheus endpoint. */
export async function scrapeMetric(httpPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/metrics/prometheus`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
