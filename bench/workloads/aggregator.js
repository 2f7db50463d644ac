// The aggregator tier on one machine: a node agent (the process under test: forward in, forward out
// with acks) in front of an aggregator (a second floki: forward in → event_exporter → loki), the same
// events and sink as forward-packed-1k-ack. Its events/s, set against forward-packed-1k-ack's (the
// same input straight into floki → loki), is what the extra hop costs; the aim is at least 80% of it.
// CPU and RSS in the table are the node agent's; the aggregator runs beside it on the same cores, with
// the same node flags (BENCH_NODE_ARGS, so --cpu-prof profiles both), and each run's line says its CPU
// (from ready to the end of the run, its start-up not counted) and peak RSS.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlokiProcess } from '../lib/processes.js';
import { cpuSeconds, memory, withDeadline } from '../lib/measure.js';

const THROUGHPUT = { reports: ['events', 'events/s', 'MiB/s in', 'CPU s', 'CPU s/GiB', 'peak RSS MiB'], rate: 'events/s' };

/** The node agent: what it receives goes on to the aggregator, each frame acked by it. */
function nodeAgentConfig({ httpPort, inputPort, ports }) {
  return `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${inputPort}
  outputs:
    - name: forward
      match: '*'
      host: 127.0.0.1
      port: ${ports.aggregator}
      require_ack_response: on
`;
}

/** The aggregator: forward-packed-1k's pipeline, on its own port. */
function aggregatorConfig({ sinkPort, ports }) {
  return `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${ports.aggregatorHttp}
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${ports.aggregator}
  filters:
    - name: event_exporter
      match: '*'
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: job=floki
`;
}

/** Starts the aggregator before the node agent, and stops it after. */
async function startAggregator(ctx) {
  const file = join(ctx.dir, 'aggregator.yaml');
  writeFileSync(file, aggregatorConfig(ctx));
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const aggregator = new FlokiProcess(file, { cli: ctx.cli, nodeArgs, cwd: ctx.root });
  let cpu0;
  try {
    await withDeadline(aggregator.ready, 30_000, `the aggregator was not ready within 30 s\n${aggregator.tail()}`);
    cpu0 = cpuSeconds(aggregator.pid);
  } catch (err) {
    await aggregator.stop().catch(() => undefined);
    throw err;
  }
  return {
    // Read after the run and its settle time: the aggregator is idle by then.
    note: async () => {
      const cpu = cpuSeconds(aggregator.pid) - cpu0;
      const { hwm } = memory(aggregator.pid);
      return `aggregator CPU ${cpu.toFixed(2)} s, peak RSS ${Math.round(hwm / 1048576)} MiB`;
    },
    close: () => aggregator.stop().then(() => undefined),
  };
}

export const AGGREGATOR_WORKLOADS = [
  {
    name: 'forward-aggregator-ack',
    description:
      'node agent → forward → aggregator → loki: forward-packed-1k-ack into a floki whose forward output (acks) sends to a second floki (forward → event_exporter → loki); CPU and RSS are the node agent’s (each run’s line gives the aggregator’s)',
    events: 300_000,
    input: 'forward',
    forward: { mode: 'packed', ack: true, connections: 1, window: 8, chunkSize: 1000, shape: 'exporter' },
    sink: { delayMs: 0 },
    ports: ['aggregator', 'aggregatorHttp'],
    services: [startAggregator],
    floki: nodeAgentConfig,
    // The summary says its events/s as a share of direct forward → loki's (issue #16: at least 80%).
    compareTo: { workload: 'forward-packed-1k-ack', figure: 'events/s', aim: 0.8 },
    ...THROUGHPUT,
  },
];
