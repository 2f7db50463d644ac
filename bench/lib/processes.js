// The process under test, as a child process: floki (`node dist/cli.js -c <config>`) or Fluent Bit
// (`$FLUENT_BIT -c <config>`). Both keep the last lines of their log for failure reports and count
// their warnings and errors; `ready` resolves when the process can take input.

import { spawn } from 'node:child_process';
import { waitForPort, withDeadline } from './measure.js';

const LOG_LINES_KEPT = 40;

class ChildUnderTest {
  constructor(label, command, args, { cwd, env = {} }) {
    this.label = label;
    this.lines = [];
    this.notable = new Map(); // warning/error message → count
    this.exit = undefined;
    this.child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal })));
      this.child.once('error', (err) => resolve((this.exit = { code: null, signal: null, error: err.message })));
    });
    // Rejects once the process is gone, for races against what is waited on.
    this.gone = this.exited.then((e) => Promise.reject(new Error(`${label} exited (code ${e.code}, signal ${e.signal}${e.error ? `, ${e.error}` : ''})\n${this.tail()}`)));
    this.gone.catch(() => {});
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (text) => {
        const parts = (partial + text).split('\n');
        partial = parts.pop();
        for (const line of parts) this.addLine(line);
      });
    }
  }

  addLine(line) {
    if (process.env.BENCH_ECHO && line.includes(process.env.BENCH_ECHO)) process.stderr.write(line + '\n');
    this.lines.push(line);
    if (this.lines.length > LOG_LINES_KEPT) this.lines.shift();
    // What a process logs once asked to stop (Fluent Bit warns that it shuts down) is not notable.
    const notable = this.stopping ? undefined : this.notableMessage(line);
    if (notable !== undefined) this.notable.set(notable, (this.notable.get(notable) ?? 0) + 1);
    this.onLine?.(line);
  }

  get pid() {
    return this.child.pid;
  }

  tail(n = 15) {
    return this.lines
      .slice(-n)
      .map((l) => `    ${this.label}: ${l}`)
      .join('\n');
  }

  async stop() {
    if (this.exit) return this.exit;
    this.stopping = true;
    this.child.kill('SIGTERM');
    try {
      return await withDeadline(this.exited, 15_000, `${this.label} did not exit within 15 s of SIGTERM`);
    } catch (err) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw err;
    }
  }
}

export class FlokiProcess extends ChildUnderTest {
  /** `cli`: floki's dist/cli.js; `nodeArgs`: node flags (e.g. --cpu-prof). */
  constructor(configFile, { cli, nodeArgs = [], cwd, env }) {
    super('floki', process.execPath, [...nodeArgs, cli, '-c', configFile], { cwd, env });
    this.metricsPrefix = 'floki_';
    this.ready = new Promise((resolve, reject) => {
      this.onLine = (line) => {
        if (line.includes('"msg":"floki started"')) resolve();
      };
      this.gone.catch(reject);
    });
  }

  notableMessage(line) {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined) return Number(level) >= 40 ? (/"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line.slice(0, 200)) : undefined;
    return line.trim() === '' ? undefined : line.slice(0, 200);
  }
}

/** Fluent Bit's log lines: `[2026/12/02 07:32:58.826] [ warn] [input:tail:tail.0] …`. */
const FLUENT_BIT_LEVEL = /^\[[^\]]*\] \[\s*(warn|error)\] (.*)$/;

export class FluentBitProcess extends ChildUnderTest {
  /** `readyPort`: a port Fluent Bit listens on once its inputs run (its log has no one line for that). */
  constructor(configFile, { binary, cwd, env, readyPort }) {
    super('Fluent Bit', binary, ['-c', configFile], { cwd, env });
    this.metricsPrefix = 'fluentbit_';
    this.ready = readyPort === undefined ? Promise.race([Promise.resolve(), this.gone]) : waitForPort(readyPort, this.gone);
  }

  notableMessage(line) {
    const m = FLUENT_BIT_LEVEL.exec(line);
    return m ? `[${m[1]}] ${m[2].slice(0, 200)}` : undefined;
  }
}

/** Prometheus lines of the process's own metrics that are not zero, or why there are none. */
export async function scrapeMetrics(port, prefix) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/metrics/prometheus`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(prefix) && !/ 0$/.test(l))
      .join('\n');
  } catch (err) {
    return `(metrics unavailable: ${err.message})`;
  }
}
