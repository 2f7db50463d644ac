import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A free TCP port on 127.0.0.1 (bound and released; good enough for tests on one machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
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
