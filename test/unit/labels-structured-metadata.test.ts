import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelRuleError } from '../../src/labels/label-rules.js';
import { parseLabelString, renderLabelString } from '../../src/labels/label-string.js';
import { StructuredMetadataExtractor } from '../../src/labels/structured-metadata.js';

const event = (record: Record<string, unknown>) => ({ tag: 'kube.events.default', time: 1n, record });

test('structured metadata: fixed values, accessors, bare accessors (named after their path), maps of keys; an explicit pair wins', () => {
  const x = new StructuredMetadataExtractor(
    ['source=exporter', "object=$involvedObject['name']", "$involvedObject['uid']", 'node=$TAG[2]', '$labels', 'owner=$owner'],
    ["$metadata['annotations']"],
  );
  const record = {
    involvedObject: { name: 'web-1', uid: 'f1e2', kind: 'Pod' },
    labels: { app: 'web' },
    owner: 'explicit',
    metadata: { annotations: { 'deployment.kubernetes.io/revision': 7, owner: 'team-a', empty: '', nil: null } },
  };
  assert.deepEqual(x.extract(event(record)), {
    deployment_kubernetes_io_revision: '7',
    owner: 'explicit',
    nil: 'null',
    source: 'exporter',
    object: 'web-1',
    involvedObject_uid: 'f1e2',
    node: 'default',
    labels: '{"app":"web"}',
  });
  assert.deepEqual(x.consumedPaths, [['involvedObject', 'name'], ['involvedObject', 'uid'], ['labels'], ['owner'], ['metadata', 'annotations']]);
});

test('structured metadata: missing and empty values are left out; nothing gives undefined', () => {
  const x = new StructuredMetadataExtractor(["$involvedObject['uid']", 'reason=$reason']);
  assert.equal(x.extract(event({ reason: '' })), undefined);
  assert.equal(new StructuredMetadataExtractor([]).empty, true);
  assert.throws(() => new StructuredMetadataExtractor(['=x']), (err: unknown) => err instanceof LabelRuleError && /^structured_metadata: /.test(err.message));
  assert.throws(() => new StructuredMetadataExtractor([], ["$a['"]), /structured_metadata_map_keys/);
});

test('parseLabelString reads back what renderLabelString wrote', () => {
  const labels = new Map([
    ['job', 'floki'],
    ['msg', 'say "hi"\\n\nnow'],
  ]);
  assert.deepEqual(parseLabelString(renderLabelString(labels)), Object.fromEntries(labels));
  assert.deepEqual(parseLabelString('{}'), {});
  assert.throws(() => parseLabelString('job="x"'));
});
