// The idle workload: a forward input and a loki output, nothing sent. The process starts, settles,
// and its resident set and CPU are sampled over a window.

/** The same minimal pipeline in floki's and Fluent Bit's YAML: both read Fluent Bit's schema. */
function idleConfig({ inputPort, sinkPort }) {
  return `pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${inputPort}
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
`;
}

export const IDLE_WORKLOADS = [
  {
    name: 'idle',
    description: 'issue #12: forward input, loki output, nothing sent; RSS and CPU over 20 s after 10 s of settling (BENCH_IDLE_S, BENCH_IDLE_SETTLE_S)',
    input: 'none',
    idle: { settleS: 10, windowS: 20 },
    readyPort: (ctx) => ctx.inputPort,
    sink: { delayMs: 0 },
    floki: idleConfig,
    fluentBit: idleConfig,
    reports: ['idle RSS MiB', 'idle CPU %', 'peak RSS MiB'],
    rate: undefined,
  },
];
