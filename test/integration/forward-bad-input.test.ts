/**
 * Bad input against floki as a user runs it (the CLI), each case on its own connection while good
 * clients keep sending: garbage, a truncated frame, a frame over buffer_max_size, a gzip bomb, a
 * wrong shared key, a size mismatch, a non-string tag. The good clients lose nothing, floki stays up,
 * and each case is counted in a metric read from floki's Prometheus endpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { arr, be32, bin, cat, entry, eventTime, NS, rec, str, uint32 } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';
import { handshake, RawClient } from './forward-harness.js';
import { entriesBy, forwardInput, startFloki } from '../interop/floki-forward.js';

const SEC = 1764064800;
const MAX = 64 * 1024;

/** A good client: Forward frames of 10 entries with a chunk id, each sent once the previous was acked. */
class GoodSender {
  sent = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly client: RawClient,
    readonly name: string,
    /** Replies the client had before its first frame (HELO and PONG). */
    private readonly repliesBefore = 0,
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let chunk = 0;
    while (!this.stopped) {
      const entries: Buffer[] = [];
      for (let i = 0; i < 10; i++, this.sent++) entries.push(entry(eventTime(SEC + chunk, this.sent), { id: `${this.name}-${this.sent}`, run: this.name }));
      const id = `${this.name}-chunk-${chunk++}`;
      await this.client.write(cat(arr(3), str(`good.${this.name}`), arr(10), ...entries, rec({ size: 10, chunk: id })));
      const replies = await this.client.waitReplies(this.repliesBefore + chunk);
      assert.deepEqual(replies[replies.length - 1], { ack: id }, `${this.name}: acked in order`);
      assert.equal(this.client.closed, false, `${this.name}: still connected`);
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }
}

test('bad input on other connections: good clients lose nothing, floki stays up, every case is counted', async (t) => {
  const f = await startFloki(
    [forwardInput({ alias: 'open', port: 0, buffer_max_size: MAX, buffer_chunk_size: 16 * 1024 }), forwardInput({ alias: 'keyed', port: 0, shared_key: 'right-key', self_hostname: 'floki' })].join('\n'),
  );
  t.after(() => f.stop());
  const [open, keyed] = [f.port('open'), f.port('keyed')];
  const malformed = (): Promise<number> => f.metric('floki_input_malformed_frames_total', { name: 'open' });

  const goodOpen = new GoodSender(await RawClient.connect(t, open), 'open');
  const keyedClient = await RawClient.connect(t, keyed);
  assert.equal((await handshake(keyedClient, { sharedKey: 'right-key' })).pong[1], true);
  const goodKeyed = new GoodSender(keyedClient, 'keyed', 2);

  // A 50 MiB gzip bomb packs into ~50 KiB: under buffer_max_size on the wire, far over it inflated.
  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x90));
  assert.ok(bomb.length < MAX);
  const cases: [string, Buffer | ((c: RawClient) => Promise<void>), RegExp][] = [
    ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\nHost: floki\r\n\r\n'), /a frame must be an array/],
    [
      'a truncated frame (the client closes mid-frame)',
      async (c) => {
        const frame = cat(arr(3), str('bad'), uint32(SEC), rec({ log: 'cut short' }));
        c.socket.end(frame.subarray(0, frame.length - 4));
      },
      /in the middle of a frame/,
    ],
    ['a frame over buffer_max_size', cat(arr(3), str('bad'), uint32(SEC), rec({ log: 'x'.repeat(MAX + 1) })), /larger than buffer_max_size/],
    ['a gzip bomb', cat(arr(3), str('bad'), bin(bomb), rec({ compressed: 'gzip' })), /decompress to more than buffer_max_size/],
    ['a size mismatch', cat(arr(3), str('bad'), arr(1), entry(uint32(SEC), { log: 'one' }), rec({ size: 3 })), /size says 3 entries/],
    ['a non-string tag', cat(arr(3), Buffer.from([0xcd, 0x12, 0x34]), uint32(SEC), rec({ log: 'numeric tag' })), /tag .* must be a string/],
    ['a bin announcing 2 GiB', cat(arr(2), str('bad'), Buffer.from([0xc6, ...be32(0x7fffffff)])), /larger than buffer_max_size/],
  ];
  let expected = 0;
  for (const [what, bad, reason] of cases) {
    const c = await RawClient.connect(t, open);
    if (typeof bad === 'function') await bad(c);
    else await c.write(bad).catch(() => {});
    await c.waitClosed(10_000);
    expected += 1;
    await waitFor(async () => (await malformed()) === expected, `${what}: counted as malformed (${expected})`, 10_000);
    const logged = f.floki.stderr.trim().split('\n').filter((l) => l.includes('"plugin":"open"') && l.includes('"level":40'));
    assert.match(logged[logged.length - 1] ?? '', reason, `${what}: logged with its reason`);
    assert.equal(f.floki.exitCode, null, `floki is up after ${what}`);
  }

  // A wrong shared key on the keyed input, while its good client keeps going.
  const intruder = await RawClient.connect(t, keyed);
  assert.deepEqual((await handshake(intruder, { sharedKey: 'wrong-key' })).pong, ['PONG', false, 'shared_key mismatch', '', '']);
  await intruder.waitClosed();
  await waitFor(async () => (await f.metric('floki_input_auth_failures_total', { name: 'keyed' })) === 1, 'the wrong key counted');

  await Promise.all([goodOpen.stop(), goodKeyed.stop()]);
  assert.ok(goodOpen.sent >= 10 && goodKeyed.sent >= 10, 'the good clients sent during the bad cases');
  for (const good of [goodOpen, goodKeyed]) {
    await waitFor(() => entriesBy(f.loki.entries, 'run', good.name).size === good.sent, `all ${good.sent} ${good.name} records in Loki`, 15_000);
    const got = entriesBy(f.loki.entries, 'run', good.name);
    for (let i = 0; i < good.sent; i++) assert.equal(got.get(`${good.name}-${i}`)?.ts, NS(SEC + Math.floor(i / 10), i));
  }
  assert.equal(f.loki.entries.filter((e) => e.labels.tag === 'bad').length, 0, 'nothing from the bad connections');
  assert.equal(await malformed(), cases.length);
  assert.equal(await f.metric('floki_input_malformed_frames_total', { name: 'keyed' }), 0);
  const health = await fetch(`http://127.0.0.1:${f.httpPort}/api/v1/health`);
  assert.equal(health.status, 200);
});
