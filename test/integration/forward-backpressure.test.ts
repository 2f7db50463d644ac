/**
 * Backpressure end to end: Loki stalls, a client sends as fast as TCP lets it. floki must stop
 * reading (the client's writes block), keep the connection, hold its memory near the output's
 * mem_buf_limit, and deliver every event once Loki recovers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { arr, bin, cat, eventTime, NS, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { RawClient } from './forward-harness.js';
import { forwardInput, startFloki } from '../interop/floki-forward.js';

const SEC = 1764064800;
const MiB = 1024 * 1024;
const MEM_BUF_LIMIT = 8 * MiB;
/**
 * What floki may use above its idle RSS beyond mem_buf_limit: the frame being decoded, the batch being
 * encoded and compressed, socket buffers, and garbage the collector has not reclaimed yet (measured
 * from a warmed-up baseline: 43 to 47 MiB). Reading without bound would take all FRAMES MiB in,
 * several times that decoded.
 */
const MARGIN = 96 * MiB;
const FRAMES = 100;
const PER_FRAME = 1000;
const FILLER = 'k8s event '.repeat(90); // ~1 KB records

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** One PackedForward frame of PER_FRAME ~1 KB records with distinct nanosecond times. */
function frame(n: number): Buffer {
  const entries: Buffer[] = [];
  for (let i = 0; i < PER_FRAME; i++) {
    const seq = n * PER_FRAME + i;
    entries.push(cat(arr(2), eventTime(SEC + n, i), rec({ seq, run: 'bp', message: FILLER })));
  }
  return cat(arr(3), str('bp'), bin(cat(...entries)), rec({ size: PER_FRAME }));
}

test('Loki stalled: floki stops reading, its memory stays near mem_buf_limit, and every event arrives after', { timeout: 120_000 }, async (t) => {
  const f = await startFloki(forwardInput({ port: 0 }), `      mem_buf_limit: ${MEM_BUF_LIMIT}\n      batch_size: 512K\n      timeout: 120s\n`);
  t.after(() => f.stop());
  const port = f.port('forward.0');
  // Warm up while Loki answers: the threads floki starts on first use (printing JSON, compressing)
  // and their fixed memory belong to the baseline, not to what backpressure makes floki hold.
  const warm = await RawClient.connect(t, port);
  await warm.write(frame(FRAMES));
  await f.loki.waitFor(PER_FRAME, 30_000);
  f.loki.respond('stall');
  const pid = f.floki.child.pid!;
  const idle = memory(pid).rss;

  const client = await RawClient.connect(t, port);
  let written = 0;
  let blockedSince = 0;
  const sending = (async () => {
    for (let n = 0; n < FRAMES; n++) {
      if (!client.socket.write(frame(n))) {
        blockedSince = Date.now();
        await once(client.socket, 'drain');
        blockedSince = 0;
      }
      written = n + 1;
    }
  })();

  // The client ends up blocked: floki stopped reading, TCP flow control holds the client back.
  await waitFor(() => blockedSince !== 0 && Date.now() - blockedSince > 1500, 'the client blocked for 1.5 s', 30_000);
  assert.ok(written < FRAMES, `the client could not write everything (${written} of ${FRAMES} frames)`);
  assert.equal(await f.metric('floki_input_ingestion_paused', { name: 'forward.0' }), 1, 'the input is paused');
  const held = { ...memory(pid) };
  assert.equal(client.closed, false, 'backpressure does not close the connection');
  const grew = held.hwm - idle;
  t.diagnostic(`warmed-up idle RSS ${(idle / MiB).toFixed(0)} MiB, peak ${(held.hwm / MiB).toFixed(0)} MiB (+${(grew / MiB).toFixed(0)} MiB) with ${written} of ${FRAMES} MiB written`);
  assert.ok(grew < MEM_BUF_LIMIT + MARGIN, `peak RSS grew by ${(grew / MiB).toFixed(0)} MiB, over mem_buf_limit + ${MARGIN / MiB} MiB`);

  f.loki.release();
  await sending;
  const total = (FRAMES + 1) * PER_FRAME; // with the warm-up frame
  await f.loki.waitFor(total, 60_000);
  assert.equal(f.loki.entries.length, total, 'every event once');
  const seen = new Set<number>();
  for (const e of f.loki.entries) {
    const { seq } = JSON.parse(e.line) as { seq: number };
    assert.equal(e.ts, NS(SEC + Math.floor(seq / PER_FRAME), seq % PER_FRAME));
    seen.add(seq);
  }
  assert.equal(seen.size, total);
  await waitFor(async () => (await f.metric('floki_input_ingestion_paused', { name: 'forward.0' })) === 0, 'the input resumed');
});
