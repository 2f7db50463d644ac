/**
 * A classic Fluent Bit config whose forward output names an upstream file (`Upstream upstream.conf`,
 * `[UPSTREAM]` and three `[NODE]`s), run by floki's CLI: the frames are spread over three floki
 * forward receivers, each event delivered once, with acks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlokiProcess } from '../helpers/floki-process.js';
import { arr, cat, entry, eventTime, NS, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { startReceiver } from './forward-output-harness.js';

const SEC = 1_764_064_800;

test('classic config, Upstream upstream.conf: frames go round robin to three floki receivers, every event once', async (t) => {
  const receivers = [await startReceiver(t), await startReceiver(t), await startReceiver(t)];
  const dir = mkdtempSync(join(tmpdir(), 'floki-upstream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'upstream.conf'),
    `[UPSTREAM]\n    name aggregators\n${receivers.map((r, i) => `\n[NODE]\n    name agg-${i}\n    host 127.0.0.1\n    port ${r.port}\n`).join('')}`,
  );
  writeFileSync(
    join(dir, 'floki.conf'),
    `[SERVICE]
    Flush     0.2
    Grace     2

[INPUT]
    Name   forward
    Listen 127.0.0.1
    Port   0

[OUTPUT]
    Name                 forward
    Match                *
    Upstream             upstream.conf
    Require_ack_response on
    Workers              1
`,
  );
  const floki = new FlokiProcess(['-c', join(dir, 'floki.conf')]);
  t.after(() => floki.stop());
  await floki.ready();
  assert.match(floki.stderr, /"upstream":"aggregators"/);

  // Six tags, ten events each, in six messages: six frames for three nodes.
  const tags = ['a', 'b', 'c', 'd', 'e', 'f'];
  const frames = tags.map((tag, t) => cat(arr(2), str(`app.${tag}`), arr(10), ...Array.from({ length: 10 }, (_, i) => entry(eventTime(SEC, t * 10 + i), { n: t * 10 + i }))));
  await new Promise<void>((resolve, reject) => {
    const socket = connect(floki.port('forward.0'), '127.0.0.1', () => socket.end(Buffer.concat(frames)));
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  const all = () => receivers.flatMap((r) => r.events);
  await waitFor(() => all().length >= 60, 'the 60 events at the receivers', 15_000);
  assert.deepEqual(
    all().map((e) => e.time).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    Array.from({ length: 60 }, (_, i) => NS(SEC, i)),
    'each event once, with its time',
  );
  for (const [i, r] of receivers.entries()) {
    assert.ok(r.events.length > 0, `node agg-${i} got frames`);
    assert.equal(await r.metric('floki_input_acks_total'), r.events.length / 10, `node agg-${i} acked each of its frames`);
  }
});
