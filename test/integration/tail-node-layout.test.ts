/**
 * A node's layout built under a temporary folder: kubelet's symlinks in /var/log/containers pointing
 * into /var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log. The symlinks are followed, each file is
 * followed once even when patterns reach it both ways, and metadata comes from either layout's names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, writeFileSync } from 'node:fs';
import { CONTAINER_ID, criLine, nodeLayout, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

test('symlinks from /var/log/containers into /var/log/pods are followed; a file reached twice is read once', async (t) => {
  const root = tempDir(t);
  const web = nodeLayout(root, 'web-0', 'shop', 'nginx');
  const job = nodeLayout(root, 'backup-28999', 'ops', 'restic', 'e'.repeat(64));
  assert.ok(lstatSync(web.link).isSymbolicLink());
  writeFileSync(web.target, Buffer.concat([criLine(T0, 'stdout', 'F', 'web line 1'), criLine(T0 + 1n, 'stderr', 'F', 'web line 2')]));
  writeFileSync(job.target, criLine(T0 + 2n, 'stdout', 'F', 'job line'));
  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      path: ${root}/var/log/containers/*.log, ${root}/var/log/pods/*/*/*.log
      exclude_path: '*_ops_*'
      tag: kube.*
      read_from_head: true
      multiline.parser: cri
  outputs:
    - name: capture
      match: '*'
`,
  );
  await waitFor(() => p.capture.events.length >= 3, 'three lines', 5000);
  const events = p.capture.events;
  // The web file is reached through its symlink first; the job's symlink is excluded, so its file is
  // found through the pods pattern and described by the pods layout.
  assert.deepEqual(
    events.map((e) => [e.record.log, e.tag, e.record.kubernetes]),
    [
      ['web line 1', `kube.${web.link.slice(1).replace(/\//g, '.')}`, { pod_name: 'web-0', namespace_name: 'shop', container_name: 'nginx', container_id: CONTAINER_ID }],
      ['web line 2', `kube.${web.link.slice(1).replace(/\//g, '.')}`, { pod_name: 'web-0', namespace_name: 'shop', container_name: 'nginx', container_id: CONTAINER_ID }],
      ['job line', `kube.${job.target.slice(1).replace(/\//g, '.')}`, { pod_name: 'backup-28999', namespace_name: 'ops', container_name: 'restic', pod_id: '0f9e8d7c-12' }],
    ],
  );
  assert.equal(await p.metric('floki_input_tail_files_open'), 2, 'two files, whatever the number of paths to them');
});
