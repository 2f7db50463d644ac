/**
 * floki's own tail input and kubernetes filter in the engine, on the CRI and docker log files of the
 * Fluent Bit fixtures: each record gets the `kubernetes` and `kubernetes_namespace` maps Fluent Bit
 * 5.1.1 gave, key for key, and the merged JSON. (floki's tail keeps neither the runtime's `time` nor
 * Fluent Bit's `_p`: the tail input's business, left out of the comparison.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';
import { LOG_FILES, NAMESPACES, NODE, podObjects, SCENARIOS, TOKEN } from '../fixtures/kubernetes/scenarios.js';
import { ROOT } from '../helpers/floki-process.js';
import { KubeApiServer } from '../helpers/kube-apiserver.js';
import { waitFor } from '../helpers/wait.js';

type Rec = Record<string, unknown>;

test("tail → kubernetes on CRI and docker logs of several pods: Fluent Bit's maps and merged keys", async (t) => {
  const scenario = SCENARIOS.find((s) => s.name === 'merge-log')!;
  const api = await KubeApiServer.start([TOKEN]);
  const dir = mkdtempSync(join(tmpdir(), 'floki-kube-pipeline-'));
  const logs = join(dir, 'containers');
  mkdirSync(logs);
  writeFileSync(join(dir, 'token'), TOKEN);
  for (const ns of NAMESPACES) api.putNamespace(ns);
  for (const pod of podObjects()) api.putPod(pod);
  for (const f of LOG_FILES) writeFileSync(join(logs, f.file), f.lines.join('\n') + '\n');

  const collected: LogEvent[] = [];
  const collect: AnyPlugin = {
    kind: 'output',
    name: 'collect',
    description: 'test output',
    options: [],
    create: () => ({ start: async () => {}, stop: async () => {}, queuedBytes: () => 0, write: (events) => void collected.push(...events) }),
  };
  const registry: PluginRegistry = new Map([...PLUGINS, ['collect', collect]]);
  const filterKeys = Object.entries(scenario.filter).map(([k, v]) => `      ${k}: ${v}\n`).join('');
  const config = `pipeline:
  inputs:
    - name: tail
      path: ${logs}/*.log
      tag: kube.*
      read_from_head: on
      multiline.parser: cri, docker
  filters:
    - name: kubernetes
      match: kube.*
      kube_url: ${api.url}
      kube_ca_file: ${api.caFile}
      kube_token_file: ${join(dir, 'token')}
      kube_tag_prefix: kube.${logs.slice(1).replace(/\//g, '.')}.
      kube_node_name: ${NODE}
      kube_meta_wait_time: 300ms
${filterKeys}  outputs:
    - name: collect
      match: '*'
`;
  const engine = new Engine(parseConfig(config, 'floki.yaml', registry, {}), pino({ level: 'silent' }), new Metrics());
  await engine.start();
  t.after(async () => {
    await engine.stop(100);
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fluentBit = readFileSync(join(ROOT, 'test', 'fixtures', 'kubernetes', 'fluent-bit', 'merge-log.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Rec);
  await waitFor(() => collected.length === fluentBit.length, `${fluentBit.length} records`);
  for (const f of LOG_FILES) {
    const ours = collected.filter((e) => e.tag.endsWith(f.file));
    const theirs = fluentBit.filter((r) => r.file === f.file);
    assert.equal(ours.length, theirs.length, f.file);
    ours.forEach((e, i) => {
      const { date, time, _p, file, kubernetes, kubernetes_namespace, ...rest } = theirs[i]!;
      const { kubernetes: k, kubernetes_namespace: ns, ...ourRest } = e.record;
      const expectedKube = kubernetes ?? { pod_name: f.file.split('_')[0], namespace_name: 'shop', container_name: 'gone', docker_id: /-([a-z0-9]{64})\.log$/.exec(f.file)![1] };
      assert.equal(JSON.stringify(k), JSON.stringify(expectedKube), `${f.file} #${i}: kubernetes`);
      assert.equal(JSON.stringify(ns), JSON.stringify(kubernetes_namespace), `${f.file} #${i}: kubernetes_namespace`);
      assert.deepEqual(ourRest, rest, `${f.file} #${i}: the record's own and merged keys`);
      assert.deepEqual(Object.keys(e.record).slice(-2), ['kubernetes', 'kubernetes_namespace']);
    });
  }
});
