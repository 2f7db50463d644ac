/**
 * floki as a user runs it (the CLI from a config file) with one or more forward inputs, shipping to
 * the decoding Loki receiver, for tests that drive it with real third-party clients.
 */
import { LokiReceiver, type ReceivedEntry } from '../helpers/loki-receiver.js';
import { FlokiProcess, freePort, scrapeMetric } from '../helpers/floki-process.js';

export interface RunningFloki {
  floki: FlokiProcess;
  loki: LokiReceiver;
  httpPort: number;
  /** The port an input instance listens on (its alias, or `forward.0`…): give it `port: 0`. */
  port(plugin: string): number;
  /** Sum of a Prometheus metric's samples whose labels include `labels`, read from floki's endpoint. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts floki with the given `inputs` (YAML list items, already indented by 4 spaces) and a Loki
 * output labelling each stream with the tag. `lokiExtra` adds keys to the output. Call `stop()`.
 * Servers listen on port 0 and floki reports the ports it got: nothing can take them in between.
 */
export async function startFloki(inputs: string, lokiExtra = ''): Promise<RunningFloki> {
  const loki = await LokiReceiver.start();
  const config = `service:
  flush: 1
  log_level: info
  http_server: on
  http_listen: 127.0.0.1
  http_port: 0
pipeline:
  inputs:
${inputs}
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${loki.port}
      labels: job=floki, tag=$TAG
      batch_wait: 100ms
${lokiExtra}`;
  const floki = FlokiProcess.withConfig(config);
  const stop = async (): Promise<void> => {
    await floki.stop();
    await loki.close();
  };
  try {
    await floki.ready();
  } catch (err) {
    await stop();
    throw err;
  }
  const httpPort = floki.port('service');
  const metric = (name: string, labels: Record<string, string> = {}): Promise<number> => scrapeMetric(httpPort, name, labels);
  return { floki, loki, httpPort, port: (plugin) => floki.port(plugin), metric, stop };
}

/** A forward input item for the inputs list. */
export function forwardInput(keys: Record<string, string | number | boolean | string[]>): string {
  const lines = ['    - name: forward', '      listen: 127.0.0.1'];
  for (const [k, v] of Object.entries(keys)) {
    if (Array.isArray(v)) lines.push(`      ${k}:`, ...v.map((item) => `        - '${item}'`));
    else lines.push(`      ${k}: ${typeof v === 'string' ? `'${v}'` : String(v)}`);
  }
  return lines.join('\n');
}

/** Entries whose JSON line has `field` equal to `value`, by that line's `id`. */
export function entriesBy(entries: ReceivedEntry[], field: string, value: string): Map<string, ReceivedEntry> {
  const out = new Map<string, ReceivedEntry>();
  for (const e of entries) {
    const record = JSON.parse(e.line) as Record<string, unknown>;
    if (record[field] === value) out.set(String(record.id), e);
  }
  return out;
}

/** Distinct free ports, for servers that must be told their port before they start: see freePort. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}
