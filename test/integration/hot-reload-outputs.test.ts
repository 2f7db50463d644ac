/**
 * The Loki output at a reload that changes it while Loki is down: nothing it held is lost or sent
 * twice. A disk buffer is closed by the old instance and replayed by the new one; a memory queue is
 * sent by the old instance in the background once Loki is back.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineHarness, event, type EngineHarness } from '../unit/engine-harness.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

async function setup(t: TestContext, render: (label: string) => string): Promise<{ h: EngineHarness; loki: LokiReceiver }> {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  await loki.down();
  const h = engineHarness(render('one').replaceAll('@URL@', loki.url));
  await h.engine.start();
  t.after(() => h.engine.stop(500));
  return { h, loki };
}

function lokiConfig(storage: string, label: string): string {
  return `
service:
  grace: 1
${storage ? `  storage.path: ${storage}\n` : ''}pipeline:
  inputs:
    - name: probe
  outputs:
    - name: loki
      match: '*'
      url: @URL@
      labels: job=floki, generation=${label}
      batch_wait: 20ms
      retry_min_backoff: 20ms
      retry_max_backoff: 100ms
      retry_limit: no_limits
${storage ? '      storage.type: filesystem\n' : ''}`;
}

async function emitLines(h: EngineHarness, from: number, n: number): Promise<void> {
  const ctx = h.probes.get('probe.0')!.ctx;
  for (let i = from; i < from + n; i++) await ctx.emit([event('app', { line: `l${i}` })]);
}

function linesOnce(loki: LokiReceiver): { lines: string[]; generations: Set<string> } {
  const lines = loki.entries.map((e) => (JSON.parse(e.line) as { line: string }).line).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  return { lines, generations: new Set(loki.entries.map((e) => e.labels.generation!)) };
}

test('a disk-buffered Loki output changed while Loki is down: the new instance sends what the old one kept on disk, once', async (t) => {
  const storage = mkdtempSync(join(tmpdir(), 'floki-reload-disk-'));
  t.after(() => rmSync(storage, { recursive: true, force: true }));
  const render = (label: string) => lokiConfig(storage, label);
  const { h, loki } = await setup(t, render);
  await emitLines(h, 0, 40);
  assert.ok(readdirSync(join(storage, 'loki.0')).length > 0, 'the entries are on disk');
  await h.engine.reload(h.config(render('two').replaceAll('@URL@', loki.url)));
  await emitLines(h, 40, 10);
  await loki.up();
  await loki.waitFor(50, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { lines, generations } = linesOnce(loki);
  assert.deepEqual(lines, Array.from({ length: 50 }, (_, i) => `l${i}`));
  assert.deepEqual([...generations].sort(), ['one', 'two'], 'entries keep the labels they were written with');
});

test('a Loki output with a memory queue changed while Loki is down: the old instance sends what it holds once Loki is back', async (t) => {
  const render = (label: string) => lokiConfig('', label);
  const { h, loki } = await setup(t, render);
  let settled = 0;
  const ctx = h.probes.get('probe.0')!.ctx;
  for (let i = 0; i < 30; i++) await ctx.emit([event('app', { line: `l${i}` })], () => settled++);
  await h.engine.reload(h.config(render('two').replaceAll('@URL@', loki.url)));
  await emitLines(h, 30, 10);
  // Loki stays down for longer than the grace period (1 s): the replaced output keeps trying.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await loki.up();
  await loki.waitFor(40, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { lines, generations } = linesOnce(loki);
  assert.deepEqual(lines, Array.from({ length: 40 }, (_, i) => `l${i}`));
  assert.deepEqual([...generations].sort(), ['one', 'two']);
  assert.equal(settled, 30, 'what the replaced output held settled when it was delivered');
});
