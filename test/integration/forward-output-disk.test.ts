/** The forward output's disk buffer (the Loki output's segment queue): entries survive a stop while the receiver is down. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { assertDeliveredOnceInLokiTerms, closedPort, makeEvents, OUTPUT, startReceiver, startSender } from './forward-output-harness.js';

test('storage.type filesystem: settled once on disk, kept across a stop while the receiver is down, sent on the next start with records and metadata intact', async (t) => {
  const storagePath = mkdtempSync(join(tmpdir(), 'floki-fwd-disk-'));
  t.after(() => rmSync(storagePath, { recursive: true, force: true }));
  const port = await closedPort();
  const options = { port, 'storage.type': 'filesystem', require_ack_response: true, tag: 'agg.$TAG' };

  const first = await startSender(t, options, { storagePath });
  const events = makeEvents(25);
  events[0]!.metadata = { otel: { span: 'x' } };
  events[1]!.record = { bin: Buffer.from([0, 0xff, 0x80]), text: 'é ✓', big: 2 ** 40, neg: -7, f: 1.25, nil: null };
  const { settled } = await first.send(events);
  assert.equal(settled(), true, 'settled as soon as it is on disk');
  await waitFor(async () => (await first.metric('floki_output_errors_total')) >= 1, 'an attempt failed');
  await first.output.stop(100);
  assert.ok(readdirSync(join(storagePath, OUTPUT)).some((f) => f.endsWith('.avro')), 'a segment file is left');

  const receiver = await startReceiver(t, { port });
  const second = await startSender(t, options, { storagePath });
  await waitFor(() => receiver.events.length >= 25, 'the stored entries delivered');
  assertDeliveredOnceInLokiTerms(
    events.map((e) => ({ ...e, tag: `agg.${e.tag}` })),
    receiver.events,
  );
  assert.deepEqual(receiver.events.find((e) => e.time === events[0]!.time)!.metadata, { otel: { span: 'x' } });
  assert.deepEqual(receiver.events.find((e) => e.time === events[1]!.time)!.record, events[1]!.record);
  await waitFor(async () => (await second.metric('floki_output_proc_records_total')) === 25, 'counted');
  await second.output.stop(1000);
  assert.deepEqual(
    readdirSync(join(storagePath, OUTPUT)).filter((f) => f.endsWith('.avro')),
    [],
    'delivered segments are deleted',
  );
});
