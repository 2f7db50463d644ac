/**
 * floki's kubernetes filter gives the records Fluent Bit 5.1.1 gave for the same config, pods and logs
 * (test/fixtures/kubernetes: scenarios.ts, and fluent-bit/*.jsonl as the real binary printed them):
 * same keys, same order, same value types. The filter starts from the records Fluent Bit's tail input
 * made (fluent-bit/input.jsonl), so only the filter is compared. Two differences are on purpose and
 * asserted as such: a pod the API server does not know gets its tag's metadata (Fluent Bit: none), and a
 * record parsed by a parser without a time keeps its own time (Fluent Bit: the time of processing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from '../../src/core/event.js';
import { rfc3339ToNs } from '../../src/inputs/kubernetes_events/index.js';
import { ROOT } from '../helpers/floki-process.js';
import { waitFor } from '../helpers/wait.js';
import { kubeFilterHarness, regexParser, run } from '../helpers/kube-filter.js';
import { NAMESPACES, NODE, PARSERS, podObjects, SCENARIOS, TOKEN, type Scenario } from '../fixtures/kubernetes/scenarios.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'kubernetes', 'fluent-bit');
const PREFIX = 'kube.var.log.containers.';

type Rec = Record<string, unknown>;

function jsonl(name: string): Rec[] {
  return readFileSync(join(FIXTURES, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Rec);
}

/** Fluent Bit's `date` (ISO 8601, microseconds) in ns. */
const dateNs = (r: Rec) => rfc3339ToNs(r.date as string)!;
const micros = (ns: bigint) => ns / 1000n;

/** The tail input's records, grouped by file in the order Fluent Bit read them. */
function inputBatches(): Map<string, Rec[]> {
  const byFile = new Map<string, Rec[]>();
  for (const r of jsonl('input')) {
    const list = byFile.get(r.file as string) ?? [];
    list.push(r);
    byFile.set(r.file as string, list);
  }
  return byFile;
}

function eventOf(r: Rec): LogEvent {
  const { date, ...record } = r;
  return { tag: PREFIX + (r.file as string), time: rfc3339ToNs(record.time as string)!, record };
}

/** What floki is expected to print for a Fluent Bit record, with the two deliberate differences applied. */
function expected(fb: Rec, scenario: Scenario, input: Rec): Rec {
  const { date, ...record } = fb;
  const usesApi = scenario.filter.use_kubelet !== 'on' && scenario.filter.use_tag_for_meta !== 'on';
  if (usesApi && record.kubernetes === undefined && scenario.filter.namespace_metadata_only !== 'on') {
    // A pod the API server answers 404 for: floki gives what the tag says, where `kubernetes` goes.
    const m = /^(.+)_([^_]+)_(.+)-([a-z0-9]{64})\.log$/.exec(input.file as string)!;
    const out: Rec = {};
    for (const [k, v] of Object.entries(record)) {
      if (k === 'kubernetes_namespace') out.kubernetes = { pod_name: m[1], namespace_name: m[2], container_name: m[3], docker_id: m[4] };
      out[k] = v;
    }
    out.kubernetes ??= { pod_name: m[1], namespace_name: m[2], container_name: m[3], docker_id: m[4] };
    return out;
  }
  return record;
}

for (const scenario of SCENARIOS) {
  for (const mode of scenario.filter.use_kubelet === 'on' || scenario.filter.use_tag_for_meta === 'on' ? ['as configured'] : ['watching the node', 'one GET per pod']) {
    test(`the ${scenario.name} scenario (${mode}) gives Fluent Bit's records`, async (t) => {
      const h = await kubeFilterHarness(t, TOKEN);
      h.api.kubeletNode = NODE;
      for (const ns of NAMESPACES) h.api.putNamespace(ns);
      for (const pod of podObjects()) h.api.putPod(pod);
      const overrides: Record<string, unknown> = { ...scenario.filter };
      if (scenario.filter.use_kubelet === 'on') overrides.kubelet_port = h.api.port;
      if (mode === 'watching the node') Object.assign(overrides, { kube_node_name: NODE, kube_meta_wait_time: '300ms' });
      const filter = h.filter(overrides, {}, PARSERS.map((p) => regexParser(p.name, p.regex)));
      // The watch opens once the list is done: however slow the machine, no record waits past kube_meta_wait_time for it.
      if (mode === 'watching the node') await waitFor(() => h.api.openWatches === 1, 'the node listed and watched');

      const fluentBit = jsonl(scenario.name);
      const byFile = new Map<string, Rec[]>();
      for (const r of fluentBit) byFile.set(r.file as string, [...(byFile.get(r.file as string) ?? []), r]);
      for (const [file, inputs] of inputBatches()) {
        const out = await run(filter, inputs.map(eventOf));
        const want = byFile.get(file) ?? [];
        assert.equal(out.length, want.length, `${file}: as many records as Fluent Bit kept`);
        out.forEach((event, i) => {
          const input = inputs.find((r) => r.time === want[i]!.time)!;
          assert.equal(JSON.stringify(event.record), JSON.stringify(expected(want[i]!, scenario, input)), `${file} record ${i}: keys, order and values`);
          const original = rfc3339ToNs(input.time as string)!;
          if (micros(dateNs(want[i]!)) === micros(original)) assert.equal(event.time, original, 'the time is the log line\'s');
          else assert.equal(event.time, original, "a parser without a time keeps the line's time (Fluent Bit takes the time of processing)");
        });
      }
      if (mode === 'watching the node') {
        const gets = h.api.requestsTo(/^\/api\/v1\/namespaces\/[^/]+\/pods\//);
        assert.deepEqual(gets.map((r) => r.path), ['/api/v1/namespaces/shop/pods/gone-7c8d9e0f1-aa1bb'], 'one GET, for the pod the watch never reported');
      }
    });
  }
}
