/**
 * Property-based (fast-check), over real HTTP: whatever one client posts (any bytes, any content type
 * or encoding, bodies nested past the limit), a good client posting at the same time is answered 201
 * with its records queued as sent, and every record the input queued can reach Loki. Scale with FUZZ_RUNS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fc from 'fast-check';
import pino from 'pino';
import { parseOption, type ResolvedOptions } from '../../src/config/options.js';
import type { LogEvent } from '../../src/core/event.js';
import { nestingExceeds } from '../../src/core/limits.js';
import { httpInput, type HttpInput } from '../../src/inputs/http/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { assertDeliverable, record, runs } from '../helpers/fuzz.js';

function post(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('hostile bodies from one client never cost a good client posting at the same time its records', { timeout: 120_000 }, async (t) => {
  const events: LogEvent[] = [];
  const options: ResolvedOptions = {};
  const given: ResolvedOptions = { listen: '127.0.0.1', port: 0, buffer_max_size: '1M' };
  for (const spec of httpInput.options) {
    const value = spec.name in given ? given[spec.name] : spec.default;
    if (value !== undefined) options[spec.name] = parseOption(spec, value);
  }
  const input = httpInput.create(options, {
    name: 'http.0',
    log: pino({ level: 'silent' }),
    metrics: new Metrics(),
    service: { flushMs: 1000, graceMs: 0, logLevel: 'info' },
    parsers: new ParserRegistry(),
    paused: false,
    emit: async (batch) => void events.push(...batch),
  }) as HttpInput;
  await input.start();
  t.after(() => input.stop());
  const port = input.address()!.port;

  const hostileBody = fc.oneof(
    fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
    fc.array(record, { maxLength: 3 }).map((rs) => Buffer.from(JSON.stringify(rs))),
    fc.integer({ min: 60, max: 100_000 }).map((n) => Buffer.from('[{"a":' + '['.repeat(n) + ']'.repeat(n) + '}]')),
  );
  const headers = fc.record({
    'Content-Type': fc.constantFrom('application/json', 'application/x-ndjson', 'application/x-www-form-urlencoded', 'text/plain'),
    'Content-Encoding': fc.constantFrom('identity', 'gzip', 'br'),
  });
  let run = 0;
  await fc.assert(
    fc.asyncProperty(hostileBody, headers, fc.array(record.filter((r) => !('id' in r)), { minLength: 1, maxLength: 5 }), async (bad, badHeaders, goodRecords) => {
      const id = `good-${run++}`;
      const from = events.length;
      const good = goodRecords.map((r, i) => ({ ...r, id, i }));
      const [badStatus, goodStatus] = await Promise.all([
        post(port, '/bad', bad, badHeaders),
        post(port, '/good', Buffer.from(JSON.stringify(good)), { 'Content-Type': 'application/json' }),
      ]);
      assert.ok(badStatus > 0);
      if (good.some((r) => nestingExceeds(r))) {
        // The good client's own record nested too deeply: refused whole, and it is told so.
        assert.equal(goodStatus, 400);
        assert.ok(events.slice(from).every((e) => e.record.id !== id));
        return;
      }
      assert.equal(goodStatus, 201);
      const mine = events.slice(from).filter((e) => e.record.id === id);
      assert.deepEqual(mine.map((e) => e.record), good);
      assertDeliverable(events.slice(from));
    }),
    runs(60),
  );
});
