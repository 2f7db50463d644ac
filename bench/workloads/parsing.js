// Issue #15's parsing pipeline: container logs → cri → multiline (java, python, go) → parser (json) →
// grep → loki, on CRI files (bench/lib/tail-load.js, profile `traces`) that mix W2's application lines
// with Java, Python and Go stack traces (each one entry once joined) and debug JSON lines that grep
// drops. The sink counts entries after joining and filtering: each carries one sequence number, and
// every one must arrive exactly once (the debug lines carry none: one that got through is counted as
// unknown).
//
// Fluent Bit 5.1.1 sends a Python traceback's last line (the exception, the rule that goes back to
// start_state) twice: inside the joined entry and again as an entry of its own. That is its
// behaviour, not floki's: its runs accept at most one duplicate per traceback (none for a traceback it
// cut in pieces), and no other.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

function containersDir(dir) {
  const containers = join(dir, 'containers');
  mkdirSync(containers, { recursive: true });
  return containers;
}

/** The json parser, declared as Fluent Bit needs it (it loads no parsers file by default); floki the same. */
const PARSERS = `parsers:
  - name: json
    format: json
`;

/** The filters, the same keys for both: the stack traces folded, JSON lines parsed, debug lines dropped. */
const filters = (multilineExtra = '') => `  filters:
    - name: multiline
      match: kube.*
      multiline.key_content: log
      multiline.parser: java, python, go
${multilineExtra}    - name: parser
      match: kube.*
      key_name: log
      parser: json
      reserve_data: on
    - name: grep
      match: kube.*
      exclude: level ^debug$
`;

/**
 * floki: W2's tail and loki output (labels from the tail input's kubernetes metadata) with the three
 * filters between them.
 */
function parsingFloki({ httpPort, sinkPort, dir }) {
  return `service:
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
${PARSERS}pipeline:
  inputs:
    - name: tail
      path: ${containersDir(dir)}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
${filters()}  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']
`;
}

/**
 * Fluent Bit: W2's twin (pod, namespace and container in the tag by tag_regex, labels from $TAG[n])
 * with the same parser and filters.
 */
function parsingFluentBit({ httpPort, sinkPort, dir }) {
  return `service:
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
${PARSERS}pipeline:
  inputs:
    - name: tail
      path: ${containersDir(dir)}/*.log
      tag: kube.<namespace_name>.<pod_name>.<container_name>
      tag_regex: '(?<pod_name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<namespace_name>[^_]+)_(?<container_name>.+)-(?<container_id>[a-z0-9]{64})\\.log$'
      read_from_head: true
      multiline.parser: cri
${filters('      emitter_mem_buf_limit: 0\n')}  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: namespace=$TAG[1], pod=$TAG[2], container=$TAG[3]
`;
}

export const PARSING_WORKLOADS = [
  {
    name: 'parsing',
    description:
      'issue #15: 20 CRI files present at start, 300 MiB: W2-like lines with Java/Python/Go stack traces (4% of entries, on stderr) and 10% debug JSON lines; tail read_from_head, cri → multiline (java, python, go) → parser json (reserve_data) → grep (exclude level debug) → loki; timed from the process start',
    input: 'tail',
    tail: { files: 20, totalBytes: 300 * MiB, profile: 'traces', present: true },
    sink: { delayMs: 0 },
    floki: parsingFloki,
    fluentBit: parsingFluentBit,
    // Fluent Bit 5.1.1 sends each Python traceback's last line a second time (see above).
    knownDuplicates: (target, prepared) => (target === 'fluentBit' ? prepared.traces.python : 0),
    // On this backlog both programs send a few stack traces in pieces (the multiline filter's flush_ms
    // passes before the trace's next line is read: both time it on the wall clock), and Fluent Bit
    // 5.1.1 a few lines (its cri parser sends a P piece on before the F piece is read). The pieces
    // after the numbered one carry no number: shown on the run's line, not a failure; every number
    // must still arrive exactly once.
    toleratesCutLines: () => true,
    // Fluent Bit took 87 to 98 s on the shared 2-core machine: the default 120 s is too close.
    deadlineS: 240,
    reports: ['events', 'events/s', 'MiB/s in', 'CPU s', 'CPU s/GiB', 'peak RSS MiB'],
    rate: 'MiB/s in',
  },
];
