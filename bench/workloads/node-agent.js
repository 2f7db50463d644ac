// Issue #14's node agent: 20 pods' CRI logs tailed from a containers folder → the kubernetes filter
// (merge_log on) → loki, against an API-server stand-in (bench/lib/kube-apiserver.js, its own process)
// that serves those 20 pods.
//
// floki runs as the DaemonSet runs it: NODE_NAME set (the downward API), so its filter lists and
// watches this node's pods (2 requests); Fluent Bit's filter asks for each pod (20 GETs). Both reach
// the stand-in over plain http with a bearer token file, and take pod, namespace and container from
// the tag (kube_tag_prefix: the run folder's containers path, as kube.var.log.containers. on a node).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forkKubeApiServer, NODE_NAME, podsOfManifest } from '../lib/kube-apiserver.js';

const MiB = 1024 * 1024;
const TOKEN = 'floki-bench-token';

/** The containers folder, its tail tag prefix (`tag kube.*` turns the path's slashes into dots), the token file. */
function layout(dir) {
  const containers = join(dir, 'containers');
  mkdirSync(containers, { recursive: true });
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, TOKEN);
  return { containers, tokenFile, tagPrefix: `kube.${containers.replace(/^\/+/, '').replaceAll('/', '.')}.` };
}

const LABELS = "namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name'], app=$kubernetes['labels']['app']";

/**
 * floki: tail (read_from_head, cri) → kubernetes (merge_log; everything else the defaults but the
 * stand-in's URL and token and the tag prefix) → loki with four labels from the pod's metadata, the
 * default line (the record as JSON).
 */
function nodeAgentFloki({ httpPort, sinkPort, dir, ports }) {
  const { containers, tokenFile, tagPrefix } = layout(dir);
  return `service:
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: tail
      path: ${containers}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
  filters:
    - name: kubernetes
      match: kube.*
      kube_url: http://127.0.0.1:${ports.kubeApi}
      kube_token_file: ${tokenFile}
      kube_tag_prefix: ${tagPrefix}
      merge_log: on
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: ${LABELS}
`;
}

/** Fluent Bit: the same keys (its kubernetes filter GETs each pod: no node-wide watch). */
function nodeAgentFluentBit({ httpPort, sinkPort, dir, ports }) {
  const { containers, tokenFile, tagPrefix } = layout(dir);
  return `service:
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: tail
      path: ${containers}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
  filters:
    - name: kubernetes
      match: kube.*
      kube_url: http://127.0.0.1:${ports.kubeApi}
      kube_token_file: ${tokenFile}
      kube_tag_prefix: ${tagPrefix}
      merge_log: on
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: ${LABELS}
`;
}

/** The stand-in, serving the pods of this run's files, before the process under test starts. */
async function startKubeApi(ctx) {
  const api = await forkKubeApiServer({ pods: podsOfManifest(ctx.prepared), token: TOKEN, nodeName: NODE_NAME, port: ctx.ports.kubeApi });
  return {
    note: async () => {
      const s = await api.stats();
      return `API server: ${s.list} list, ${s.watch} watch, ${s.getPod} pod GETs, ${s.getNamespace} namespace GETs, ${s.unauthorized} unauthorized, ${s.notFound} not found`;
    },
    close: () => api.close(),
  };
}

export const NODE_AGENT_WORKLOADS = [
  {
    name: 'node-agent',
    description:
      "issue #14: 20 pods' CRI files present at start, 300 MiB (W2's lines: half JSON), tail read_from_head, cri → kubernetes filter (merge_log on) against an API-server stand-in → loki with namespace/pod/container/app labels from the metadata; timed from the process start",
    input: 'tail',
    // W2's lines, never cut inside their number: a line Fluent Bit sends in pieces is shown, not fatal.
    tail: { files: 20, totalBytes: 300 * MiB, profile: 'app-350-whole-numbers', present: true },
    sink: { delayMs: 0 },
    ports: ['kubeApi'],
    services: [startKubeApi],
    // The downward API's node name, as the DaemonSet sets it: floki watches this node's pods.
    env: { NODE_NAME },
    // Fluent Bit 5.1.1 cuts a few lines on this backlog (its cri parser sends a P piece on before the
    // F piece is read; in parsing, a stack trace too): those pieces carry no number. floki: none allowed.
    toleratesCutLines: (target) => target === 'fluentBit',
    // Fluent Bit took up to 65 s on the shared 2-core machine.
    deadlineS: 180,
    floki: nodeAgentFloki,
    fluentBit: nodeAgentFluentBit,
    reports: ['events', 'events/s', 'MiB/s in', 'CPU s', 'CPU s/GiB', 'peak RSS MiB'],
    rate: 'MiB/s in',
  },
];
