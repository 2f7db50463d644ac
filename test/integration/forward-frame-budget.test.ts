/**
 * Issue #11's reproduction, with default settings: 150 connections each send half of a 5.5 MiB
 * PackedForward frame and stop. floki used to hold every one (RSS from ~90 to ~540 MiB); now the bytes
 * held in unfinished frames stay under buffer_total_limit_size (64 MiB), the oldest are closed, and
 * a real client meanwhile is acked and reaches Loki.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { arr, bin, cat, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { RawClient } from './forward-harness.js';
import { forwardInput, startFloki } from '../interop/floki-forward.js';

const MiB = 1024 * 1024;
const SEC = 1764064800;
const HOARDERS = 150;
/** buffer_total_limit_size's default. */
const BUDGET = 64 * MiB;
/**
 * Above the budget: buffers of closed connections not collected yet (V8 frees them at its next
 * collection, which the external memory it tracks brings about), socket buffers, the real client's
 * chunks. Holding every partial frame would grow RSS by HOARDERS × 2.75 MiB = 412 MiB.
 */
const MARGIN = 96 * MiB;

/** VmHWM: the kernel's peak resident size of the process since it started, so no peak between samples is missed. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

test('150 connections each holding half of a 5.5 MiB frame: floki holds at most buffer_total_limit_size of them, and a real client gets through', { timeout: 120_000 }, async (t) => {
  const f = await startFloki(forwardInput({ port: 0 }));
  t.after(() => f.stop());
  const port = f.port('forward.0');
  const pid = f.floki.child.pid!;

  const real = await RawClient.connect(t, port);
  let sent = 0;
  const send = async (): Promise<void> => {
    const id = `r${sent++}`;
    await real.write(cat(arr(4), str('real'), eventTime(SEC, sent), rec({ id }), rec({ chunk: id })));
    await real.waitReplies(sent, 10_000);
  };
  await send();
  await f.loki.waitFor(1, 20_000);
  // The baseline: floki warmed up (threads started, one chunk through), before any hoarder.
  const before = memory(pid);

  const entry = cat(arr(2), eventTime(SEC, 0), rec({ pad: 'x'.repeat(5.5 * MiB) }));
  const frame = cat(arr(3), str('hoard'), bin(entry), rec({ chunk: 'never' }));
  const half = frame.subarray(0, Math.floor(frame.length / 2));
  const hoarders: RawClient[] = [];
  for (let i = 0; i < HOARDERS; i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(t, port)));
    hoarders.push(...batch);
    // Written whole, or cut off by floki closing the connection.
    const written = (c: RawClient): Promise<void> =>
      new Promise((resolve) => {
        c.socket.write(half, () => resolve());
        c.socket.once('close', () => resolve());
      });
    await Promise.all(batch.map(written));
    // The real client keeps being served throughout.
    await send();
  }
  // Each buffer is sized to its frame on the header (5.5 MiB and a read more): at most BUDGET of them stay.
  const kept = Math.floor(BUDGET / frame.length);
  // Every hoarder's half read, or (what must happen) the oldest hoarders closed.
  await waitFor(
    async () =>
      (await f.metric('floki_input_bytes_total')) >= HOARDERS * half.length ||
      (await f.metric('floki_input_connections_evicted_total', { reason: 'buffer_total_limit_size' })) >= HOARDERS - kept,
    'the hoarders read or closed',
    60_000,
  );
  await send();
  await f.loki.waitFor(sent, 20_000);

  const after = memory(pid);
  const grew = after.hwm - before.rss;
  t.diagnostic(`RSS ${(before.rss / MiB).toFixed(0)} MiB before, peak ${(after.hwm / MiB).toFixed(0)} MiB (+${(grew / MiB).toFixed(0)} MiB) with ${HOARDERS} half frames sent`);
  assert.ok(grew < BUDGET + MARGIN, `peak RSS grew by ${(grew / MiB).toFixed(0)} MiB, over buffer_total_limit_size + ${MARGIN / MiB} MiB`);
  const held = await f.metric('floki_input_frame_buffer_bytes', { name: 'forward.0' });
  assert.ok(held <= BUDGET, `${held} bytes held in unfinished frames`);
  const evicted = await f.metric('floki_input_connections_evicted_total', { reason: 'buffer_total_limit_size' });
  await waitFor(() => hoarders.filter((c) => c.closed).length === evicted, 'the clients saw their connections closed');
  assert.equal(real.closed, false);
  assert.deepEqual(new Set(f.loki.entries.map((e) => JSON.parse(e.line).id)).size, sent, 'every acked chunk of the real client in Loki');
});
