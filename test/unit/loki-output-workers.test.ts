import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { OutputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { LokiOutput, resolveLokiConfig } from '../../src/outputs/loki/index.js';
import type { PushTransport } from '../../src/outputs/loki/batch-sender.js';
import type { PushOutcome } from '../../src/outputs/loki/http-transport.js';
import { decodePushBody } from '../helpers/loki-receiver.js';

/** A transport whose requests stay pending until the test answers them. */
class HeldTransport implements PushTransport {
  readonly pending: { body: Uint8Array; answer: (o: PushOutcome) => void }[] = [];
  closed = false;
  push(body: Uint8Array): Promise<PushOutcome> {
    return new Promise((resolve) => this.pending.push({ body, answer: resolve }));
  }
  close(): void {
    this.closed = true;
    for (const p of this.pending.splice(0)) p.answer({ status: 0, body: '', error: new Error('closed') });
  }
}

function ctx(): OutputContext {
  return { name: 'loki.w', log: pino({ level: 'silent' }), metrics: new Metrics(), service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, setFull: () => {} };
}

test('at most `workers` requests are in flight; the rest wait their turn in order', async () => {
  const transport = new HeldTransport();
  const output = new LokiOutput(resolveLokiConfig({ workers: 2, batch_size: 64, batch_wait: 3_600_000 }), ctx(), { transport });
  // Each event closes a batch on its own (line + overhead > 64 bytes): five batches.
  for (let i = 0; i < 5; i++) output.write([{ tag: 't', time: BigInt(i), record: { log: `${i}`.repeat(60) } }]);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(transport.pending.length, 2);
  transport.pending.shift()!.answer({ status: 204, body: '' });
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(transport.pending.length, 2);
  const order: bigint[] = [];
  while (transport.pending.length > 0) {
    const p = transport.pending.shift()!;
    order.push(decodePushBody(p.body)[0]!.ts);
    p.answer({ status: 204, body: '' });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(order, [1n, 2n, 3n, 4n]);
  await output.stop(1000);
  assert.equal(output.queuedBytes(), 0);
  assert.equal(transport.closed, true);
});
