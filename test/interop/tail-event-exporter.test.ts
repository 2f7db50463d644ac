/**
 * The samples of a kubernetes-event-exporter pod's container log (test/fixtures/event-exporter), as a node
 * holds them, tailed by floki with the event_exporter filter on `kube.*event-exporter*`: each event
 * reaches Loki with exactly the labels and timestamp listed in expected-cri.jsonl / expected-docker.jsonl,
 * and its line is the exporter's JSON as printed.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { startPipeline, tempDir } from '../helpers/tail-harness.js';
import { expectedEvents, rfc3339ToNs, TESTDATA } from '../helpers/testdata.js';
import { waitFor } from '../helpers/wait.js';

async function tailSample(t: TestContext, sample: string, parser: string) {
  const root = tempDir(t);
  const containers = join(root, 'var', 'log', 'containers');
  mkdirSync(containers, { recursive: true });
  // On a node every container log is `<pod>_<namespace>_<container>-<id>.log`, whatever its format.
  const name = sample.replace(/\.docker\.log$/, '.log');
  copyFileSync(join(TESTDATA, sample), join(containers, name));
  const loki = await LokiReceiver.start();
  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      path: ${containers}/*.log
      tag: kube.*
      read_from_head: true
      multiline.parser: ${parser}
  filters:
    - name: event_exporter
      match: kube.*event-exporter*
  outputs:
    - name: loki
      match: '*'
      port: ${loki.port}
      batch_wait: 20ms
      labels: job=floki, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']
`,
  );
  t.after(async () => {
    await p.stop();
    await loki.close();
  });
  return loki;
}

for (const [format, expectedFile, parser] of [
  ['CRI', 'expected-cri.jsonl', 'cri'],
  ['docker', 'expected-docker.jsonl', 'docker, cri'],
] as const) {
  test(`${format} sample: every exporter event in Loki with its expected labels and exact timestamp`, async (t) => {
    const sample = readdirSync(TESTDATA).find((f) => f.startsWith('event-exporter-') && (format === 'docker') === f.endsWith('.docker.log'))!;
    const expected = expectedEvents(expectedFile);
    const loki = await tailSample(t, sample, parser);
    const isEvent = (labels: Record<string, string>) => 'reason' in labels;
    await loki.waitFor(expected.length, 10_000);
    await waitFor(() => loki.entries.filter((e) => isEvent(e.labels)).length >= expected.length, 'every event', 10_000);

    // Loki receives entries grouped by stream (label set); the events are told apart by their times.
    const events = loki.entries.filter((e) => isEvent(e.labels)).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    assert.equal(events.length, expected.length, 'each event once');
    for (const [i, want] of expected.entries()) {
      const got = events[i]!;
      assert.equal(got.ts, rfc3339ToNs(want.ts), `event ${i}: timestamp`);
      assert.deepEqual(got.labels, { job: 'floki', ...want.labels }, `event ${i}: labels`);
      const parsed = JSON.parse(got.line) as { involvedObject: { kind: string } };
      assert.equal(parsed.involvedObject.kind, want.labels.kind, `event ${i}: the line is the event's JSON`);
    }
    // The exporter's own log lines (stderr) and torn JSON are not events: they keep the pod's labels.
    const others = loki.entries.filter((e) => !isEvent(e.labels));
    assert.ok(others.length > 0);
    for (const e of others) assert.equal(e.labels.namespace, 'monitoring');
  });
}
