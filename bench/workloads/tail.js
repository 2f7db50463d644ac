// Workloads that tail CRI container log files (bench/lib/tail-load.js), as a node agent does.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/** A node agent: container logs tailed from a containers folder, as configs/kubernetes/base/node-agent.floki.yaml. */
function tailToLokiConfig({ httpPort, sinkPort, dir }) {
  // The folder the files appear in when the timed run starts (see the tail driver).
  mkdirSync(join(dir, 'containers'), { recursive: true });
  return `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: tail
      path: ${join(dir, 'containers')}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
      refresh_interval: 1s
      db: ${join(dir, 'tail.db')}
  filters:
    - name: event_exporter
      match: kube.*event-exporter*
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: job=floki, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']
      label_keys: $stream
      remove_keys: $kubernetes
      drop_single_key: raw
`;
}

/**
 * W2 in floki: tail's defaults but read_from_head and the cri parser; the loki output's defaults but
 * the three labels, which the tail input's kubernetes metadata (from the file name) gives.
 */
function w2Floki({ httpPort, sinkPort, dir }) {
  return `service:
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: tail
      path: ${join(dir, 'containers')}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']
`;
}

/**
 * W2 in Fluent Bit, whose tail input sets no kubernetes fields (its kubernetes filter would ask an API
 * server): tag_regex takes pod, namespace and container from kubelet's file name into the tag, as
 * Fluent Bit's documentation shows, and the labels read the tag's parts ($TAG[n]). The line is the
 * record as JSON: Fluent Bit's keeps the cri parser's `time` and `_p`, floki's the container id under
 * `kubernetes` (the keys the labels used are taken out of it).
 */
function w2FluentBit({ httpPort, sinkPort, dir }) {
  return `service:
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: tail
      path: ${join(dir, 'containers')}/*.log
      tag: kube.<namespace_name>.<pod_name>.<container_name>
      tag_regex: '(?<pod_name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<namespace_name>[^_]+)_(?<container_name>.+)-(?<container_id>[a-z0-9]{64})\\.log$'
      read_from_head: true
      multiline.parser: cri
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: namespace=$TAG[1], pod=$TAG[2], container=$TAG[3]
`;
}

const THROUGHPUT = { reports: ['events', 'events/s', 'MiB/s in', 'CPU s', 'CPU s/GiB', 'peak RSS MiB'], rate: 'MiB/s in' };

export const TAIL_WORKLOADS = [
  {
    name: 'w2-tail-cri',
    description:
      'W2 (issue #12): 20 CRI files present at start, 500 MiB, about 1.5M records of ~350 B (10% split P/F), tail read_from_head, cri → loki with namespace/pod/container labels; input and output defaults; timed from the process start',
    input: 'tail',
    tail: { files: 20, totalBytes: 500 * MiB, profile: 'app-350', present: true },
    sink: { delayMs: 0 },
    // Fluent Bit 5.1.1 sends a few P pieces on before their F piece is read (seen on a quiet machine
    // too): those pieces carry no number. Every number must still arrive once. floki: none allowed.
    toleratesCutLines: (target) => target === 'fluentBit',
    floki: w2Floki,
    fluentBit: w2FluentBit,
    ...THROUGHPUT,
  },
  {
    name: 'tail',
    description: '20 CRI files, 500 MiB (one of kubernetes-event-exporter JSON; 10% of lines split in P pieces), read from head → event_exporter → loki with kubernetes labels',
    input: 'tail',
    tail: { files: 20, totalBytes: 500 * MiB },
    sink: { delayMs: 0 },
    floki: (ctx) => tailToLokiConfig(ctx),
    ...THROUGHPUT,
  },
  {
    name: 'tail-snappyjs',
    description: 'tail with the pure-JS snappy (FLOKI_SNAPPY=js: snappyjs on a worker thread) instead of the native binding',
    input: 'tail',
    tail: { files: 20, totalBytes: 500 * MiB },
    sink: { delayMs: 0 },
    env: { FLOKI_SNAPPY: 'js' },
    floki: (ctx) => tailToLokiConfig(ctx),
    ...THROUGHPUT,
  },
];
