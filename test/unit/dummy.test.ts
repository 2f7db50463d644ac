import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { OptionValueError, parseOption, type ResolvedOptions } from '../../src/config/options.js';
import { nowNs, type LogEvent } from '../../src/core/event.js';
import type { InputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { dummyInput } from '../../src/inputs/dummy/index.js';
import { waitFor } from '../helpers/wait.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

/** Options as the config loader resolves them: the table's defaults, overridden. */
function options(overrides: ResolvedOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {};
  for (const spec of dummyInput.options) if (spec.default !== undefined) resolved[spec.name] = parseOption(spec, spec.default);
  return { ...resolved, ...overrides };
}

class Harness {
  readonly batches: LogEvent[][] = [];
  readonly logs: string[] = [];
  paused = false;
  /** How often the input asked whether the pipeline is paused, and tried to emit: its ticks, observed. */
  pausedReads = 0;
  emitCalls = 0;
  failWith: Error | undefined;
  readonly ctx: InputContext;

  constructor() {
    const self = this;
    this.ctx = {
      name: 'x.0',
      log: pino({ level: 'info' }, { write: (s: string) => self.logs.push(s) }),
      metrics: new Metrics(),
      service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(),
      emit: async (events) => {
        self.emitCalls++;
        if (self.failWith) throw self.failWith;
        self.batches.push(events);
      },
      get paused() {
        self.pausedReads++;
        return self.paused;
      },
    };
  }

  get events(): LogEvent[] {
    return this.batches.flat();
  }
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('defaults: {"message":"dummy"} tagged dummy, the first at once, time = now', async () => {
  const h = new Harness();
  const input = dummyInput.create(options(), h.ctx);
  const before = nowNs();
  const t0 = performance.now();
  await input.start();
  await waitFor(() => h.events.length >= 1, 'the first record', 2000, 1);
  const elapsed = performance.now() - t0;
  await input.stop();
  assert.ok(elapsed < 100, `first record after ${elapsed.toFixed(1)} ms`);
  const e = h.events[0]!;
  assert.equal(e.tag, 'dummy');
  assert.deepEqual(e.record, { message: 'dummy' });
  assert.ok(e.time >= before && e.time <= nowNs());
});

test('rate and samples: exactly `samples` records at about `rate` per second, in batches, then the timer stops', async () => {
  const h = new Harness();
  const baseline = timers();
  const input = dummyInput.create(options({ rate: 200, samples: 30, dummy: { log: 'x', n: 1 } }), h.ctx);
  const t0 = performance.now();
  await input.start();
  await waitFor(() => h.events.length >= 30, '30 records', 5000, 1);
  const elapsed = performance.now() - t0;
  // The 30th record is due at 29/200 s = 145 ms.
  assert.ok(elapsed >= 140, `30 records at 200/s took only ${elapsed.toFixed(0)} ms`);
  await waitFor(() => timers() === baseline, 'the interval to be cleared');
  assert.equal(h.events.length, 30);
  assert.ok(h.batches.length < 30, 'several records per batch at this rate');
  const records = h.events.map((e) => e.record);
  assert.equal(new Set(records).size, 30, 'each record its own object');
  for (const r of records) assert.deepEqual(r, { log: 'x', n: 1 });
  for (let i = 1; i < 30; i++) assert.ok(h.events[i]!.time >= h.events[i - 1]!.time, 'times do not go back');
  await input.stop();
});

test('pause stops the timer, resume starts again at once; ctx.paused holds records back', async () => {
  const h = new Harness();
  const baseline = timers();
  const input = dummyInput.create(options({ rate: 1000 }), h.ctx);
  await input.start();
  await waitFor(() => h.events.length >= 5, 'some records');
  input.pause();
  const atPause = h.events.length;
  assert.equal(timers(), baseline, 'no timer while paused');

  input.resume();
  await waitFor(() => h.events.length > atPause, 'records after resume', 2000, 1);

  h.paused = true;
  const atCtxPause = h.batches.length;
  const reads = h.pausedReads;
  await waitFor(() => h.pausedReads >= reads + 3, 'ticks while the pipeline says paused');
  assert.equal(h.batches.length, atCtxPause, 'nothing emitted while ctx.paused');
  h.paused = false;
  await waitFor(() => h.batches.length > atCtxPause, 'records after ctx.paused clears');
  // The backlog of a paused spell is not sent in one burst larger than 100 ms' worth.
  assert.ok(h.batches[atCtxPause]!.length <= 100);

  await input.stop();
  assert.equal(timers(), baseline, 'stop clears the timer');
  const atStop = h.batches.length;
  input.resume();
  assert.equal(timers(), baseline, 'resume after stop does nothing');
  assert.equal(h.batches.length, atStop);
});

test('a JSON string record, a fixed start time', async () => {
  const h = new Harness();
  const input = dummyInput.create(
    options({ dummy: '{"log":"{\\"a\\":1}\\n","stream":"stdout"}', samples: 2, rate: 100, start_time_sec: 1795600800, start_time_nsec: 123456 }),
    h.ctx,
  );
  await input.start();
  await waitFor(() => h.events.length === 2, 'two records');
  await input.stop();
  for (const e of h.events) {
    assert.deepEqual(e.record, { log: '{"a":1}\n', stream: 'stdout' });
    assert.equal(e.time, 1_795_600_800_000_123_456n);
  }
});

test('a failing emit is logged once and generation goes on', async () => {
  const h = new Harness();
  h.failWith = new Error('disk full');
  const input = dummyInput.create(options({ rate: 500 }), h.ctx);
  await input.start();
  await waitFor(() => h.emitCalls >= 3, 'several failing emits');
  assert.equal(h.logs.length, 1);
  assert.match(h.logs[0]!, /disk full/);
  h.failWith = undefined;
  await waitFor(() => h.events.length > 0, 'records once emit works');
  await input.stop();
});

test('bad options are user errors', () => {
  const h = new Harness();
  assert.throws(() => dummyInput.create(options({ dummy: '{"message":' }), h.ctx), OptionValueError);
  assert.throws(() => dummyInput.create(options({ dummy: '[1,2]' }), h.ctx), OptionValueError);
  assert.throws(() => dummyInput.create(options({ dummy: 'plain text' }), h.ctx), /dummy: expected a JSON object/);
  assert.throws(() => dummyInput.create(options({ rate: 0 }), h.ctx), /rate/);
  assert.throws(() => dummyInput.create(options({ samples: -1 }), h.ctx), /samples/);
});
