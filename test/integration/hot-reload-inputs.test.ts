/**
 * Each input at a reload: it stops at a clean point and hands what it knows to the input replacing it,
 * so that no record is lost or sent twice. Real inputs, real sockets and files; the engine's reload.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineHarness, type EngineHarness } from '../unit/engine-harness.js';
import { freePort } from '../helpers/floki-process.js';
import { KubeApiServer, kubeEvent } from '../helpers/kube-apiserver.js';
import { waitFor } from '../helpers/wait.js';
import { AckingForwardClient } from './hot-reload-client.js';

async function started(t: TestContext, text: string): Promise<EngineHarness> {
  const h = engineHarness(text);
  await h.engine.start();
  t.after(() => h.engine.stop(500));
  return h;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'floki-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every value once, none missing: the values that are not. */
function notOnce(got: unknown[], want: string[]): { missing: string[]; twice: string[] } {
  const counts = new Map<string, number>();
  for (const v of got) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return { missing: want.filter((w) => !counts.has(w)), twice: [...counts].filter(([, n]) => n > 1).map(([v]) => v) };
}

test('forward: a reload acks every chunk it took before closing; the client sends the rest to the new listener; each line once', async (t) => {
  const port = await freePort();
  const text = (tag: string) => `
service:
  grace: 4
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${port}
      tag_prefix: ${tag}.
  outputs:
    - name: collect
      match: '*'
      delay: 3
`;
  const h = await started(t, text('one'));
  const client = new AckingForwardClient(port, 'app', 8);
  t.after(() => client.close());
  const want: string[] = [];
  const send = (chunks: number) => {
    for (let c = 0; c < chunks; c++) {
      const lines = Array.from({ length: 5 }, (_, i) => `line-${want.length + i}`);
      want.push(...lines);
      client.send(lines);
    }
  };
  send(150);
  await waitFor(() => client.acked >= 30, 'the first acks');
  await h.engine.reload(h.config(text('two')));
  send(150);
  await waitFor(() => client.acked >= 180, 'acks from the second listener', 20_000);
  await h.engine.reload(h.config(text('three')));
  await waitFor(() => client.outstanding === 0, 'every chunk acked', 20_000);
  const out = h.outputs.get('collect.0')!;
  const { missing, twice } = notOnce(
    out.events.map((e) => e.record.msg),
    want,
  );
  assert.deepEqual({ missing: missing.slice(0, 5), twice: twice.slice(0, 5) }, { missing: [], twice: [] });
  assert.equal(out.events.length, want.length);
  assert.ok(client.connections >= 3, `${client.connections} connections`);
  assert.ok(client.resent > 0, 'chunks written to a stopping input were sent again');
  assert.equal(client.resets, 0, 'connections were ended after their last ack, not reset');
  const tags = new Set(out.events.map((e) => e.tag));
  assert.ok(tags.has('one.app') && tags.has('two.app') && tags.has('three.app'), [...tags].join(', '));
});

test('http: requests under way at a reload are answered; those refused are posted again; each record once', async (t) => {
  const port = await freePort();
  const text = (tag: string) => `
service:
  grace: 4
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: ${port}
      tag: ${tag}
  outputs:
    - name: collect
      match: '*'
      delay: 2
`;
  const h = await started(t, text('one'));
  let posted = 0;
  let retried = 0;
  let stop = false;
  // Four clients posting one record at a time, each posted again until it is answered 2xx.
  const client = async () => {
    while (!stop) {
      const n = posted++;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        retried++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  const clients = [client(), client(), client(), client()];
  const out = () => h.outputs.get('collect.0')!;
  for (const tag of ['two', 'three']) {
    const seen = out().events.length;
    await waitFor(() => out().events.length > seen + 50, 'records before the reload', 20_000);
    await h.engine.reload(h.config(text(tag)));
  }
  const seen = out().events.length;
  await waitFor(() => out().events.length > seen + 50, 'records after the reloads', 20_000);
  stop = true;
  await Promise.all(clients);
  const { missing, twice } = notOnce(
    out().events.map((e) => e.record.n),
    Array.from({ length: posted }, (_, i) => String(i)),
  );
  assert.deepEqual({ missing, twice }, { missing: [], twice: [] });
  assert.ok(retried > 0, 'some posts met the reload and were posted again');
});

test('tail without a db: each reload continues where the input before it stopped; every line once, none twice', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  let next = 0;
  const write = (n: number) => {
    let text = '';
    for (let i = 0; i < n; i++) text += `line-${next++}\n`;
    appendFileSync(file, text);
  };
  write(500);
  // read_from_head: an input that did not take over the positions would read the file again.
  const text = (tag: string) => `
service:
  grace: 4
pipeline:
  inputs:
    - name: tail
      path: ${join(dir, '*.log')}
      read_from_head: true
      tag: ${tag}
  outputs:
    - name: collect
      match: '*'
      delay: 2
      settle: on
`;
  const h = await started(t, text('one'));
  const writer = setInterval(() => write(20), 10);
  t.after(() => clearInterval(writer));
  const out = () => h.outputs.get('collect.0')!;
  for (const tag of ['two', 'three', 'four']) {
    const seen = out().events.length;
    await waitFor(() => out().events.length > seen + 200, 'lines read before the reload', 20_000);
    await h.engine.reload(h.config(text(tag)));
  }
  clearInterval(writer);
  write(10);
  await waitFor(() => out().events.length >= next, `all ${next} lines`, 20_000);
  // Anything sent twice would come in now.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const want = Array.from({ length: next }, (_, i) => `line-${i}`);
  const { missing, twice } = notOnce(
    out().events.map((e) => e.record.log),
    want,
  );
  assert.deepEqual({ missing: missing.slice(0, 5), twice: twice.slice(0, 5) }, { missing: [], twice: [] });
  assert.equal(out().events.length, next);
  assert.deepEqual([...new Set(out().events.map((e) => e.tag))], ['one', 'two', 'three', 'four']);
});

test('tail: positions are not handed to an input with other path patterns', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.log'), 'a1\na2\n');
  writeFileSync(join(dir, 'b.log'), 'b1\n');
  const text = (pattern: string) => `
pipeline:
  inputs:
    - name: tail
      path: ${join(dir, pattern)}
      read_from_head: true
  outputs:
    - name: collect
      match: '*'
`;
  const h = await started(t, text('a.log'));
  const out = () => h.outputs.get('collect.0')!;
  await waitFor(() => out().events.length === 2, 'a.log');
  await h.engine.reload(h.config(text('*.log')));
  // A new set of patterns starts as a new input does (read_from_head): a.log again, b.log.
  await waitFor(() => out().events.length === 5, 'both files from their heads');
  assert.deepEqual(out().events.map((e) => e.record.log).sort(), ['a1', 'a1', 'a2', 'a2', 'b1']);
});

test('dummy: samples counts the records of the inputs it replaced', async (t) => {
  const text = (rate: number) => `
pipeline:
  inputs:
    - name: dummy
      rate: ${rate}
      samples: 30
  outputs:
    - name: collect
      match: '*'
`;
  const h = await started(t, text(100));
  const out = () => h.outputs.get('collect.0')!;
  await waitFor(() => out().events.length >= 10, 'some samples');
  await h.engine.reload(h.config(text(200)));
  await waitFor(() => out().events.length >= 30, 'the samples');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(out().events.length, 30);
});

test('kubernetes_events without a db: the input after a reload watches on from where the last one stopped', async (t) => {
  const api = await KubeApiServer.start(['token-a']);
  const dir = tempDir(t);
  t.after(() => api.close());
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'token-a');
  const text = (tag: string) => `
service:
  grace: 2
pipeline:
  inputs:
    - name: kubernetes_events
      kube_url: ${api.url}
      kube_ca_file: ${api.caFile}
      kube_token_file: ${tokenFile}
      tag: ${tag}
  outputs:
    - name: collect
      match: '*'
`;
  api.add(kubeEvent(1));
  api.add(kubeEvent(2));
  const h = await started(t, text('one'));
  const out = () => h.outputs.get('collect.0')!;
  await waitFor(() => out().events.length === 2, 'the listed events');
  api.add(kubeEvent(3));
  await waitFor(() => out().events.length === 3, 'a watched event');
  const lists = api.requests.filter((r) => !r.watch).length;
  await h.engine.reload(h.config(text('two')));
  api.add(kubeEvent(4));
  await waitFor(() => out().events.length >= 4, 'the event after the reload');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const names = out().events.map((e) => (e.record.metadata as { name: string }).name);
  assert.equal(names.length, 4, names.join(', '));
  assert.equal(new Set(names).size, 4, 'no event twice');
  assert.equal(out().events[3]!.tag, 'two');
  assert.equal(api.requests.filter((r) => !r.watch).length, lists, 'the new input watched on without listing again');
});
