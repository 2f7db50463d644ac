/**
 * Issue #11, end to end through floki (the CLI) into the decoding Loki receiver: records an input
 * accepts must reach Loki, whatever other clients send at the same time.
 *
 * - A time of 1e300 or 2^70 seconds (msgpack float, or a JSON number) used to be acked, then made the
 *   PushRequest carry a timestamp varint over 10 bytes: the whole push was answered 400 and every entry
 *   of the batch dropped, a good client's acked events among them.
 * - A record nested 100,000 levels deep (forward JSON, http) used to be acked or answered 201, then
 *   overflowed the stack of the line formatter and was dropped.
 * Now both are refused at the input (counted by reason), the rest of their chunk is delivered and
 * acked, and nobody else loses anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { arr, cat, eventTime, float64, rec, str } from '../helpers/msgpack-wire.js';
import { startFussyPipeline } from '../helpers/fussy-pipeline.js';
import { waitFor } from '../helpers/wait.js';
import { RawClient } from './forward-harness.js';
import { forwardInput, startFloki } from '../interop/floki-forward.js';

const SEC = 1764064800;
const GOOD = 950;

const deepJson = (levels: number): string => '{"a":'.repeat(levels - 1) + '[]' + '}'.repeat(levels - 1);

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/hook', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test("bad times and deep records from some clients: refused and counted at the input; every other acked or 201-answered record reaches Loki", { timeout: 120_000 }, async (t) => {
  const f = await startFloki(
    [forwardInput({ port: 0 }), '    - name: http\n      listen: 127.0.0.1\n      port: 0'].join('\n'),
  );
  t.after(() => f.stop());
  const [forwardPort, httpPort] = [f.port('forward.0'), f.port('http.0')];

  // A good client's chunks, acked one by one, interleaved with the bad ones so they share batches.
  const good = await RawClient.connect(t, forwardPort);
  const bad = await RawClient.connect(t, forwardPort);
  const json = await RawClient.connect(t, forwardPort);
  const deep = deepJson(100_000);
  let acked = 0;
  for (let i = 0; i < GOOD; i++) {
    // Written one after another, not waiting for each ack: the chunks are in flight together.
    await good.write(cat(arr(4), str('good'), eventTime(SEC, i), rec({ id: `good-${i}` }), rec({ chunk: `g${i}` })));
    if (i === 100) {
      // Forward mode, msgpack: two times Loki cannot store beside a good entry, in one acked chunk.
      await bad.write(
        cat(arr(3), str('bad'), arr(3), cat(arr(2), float64(1e300), rec({ id: 'bad-1e300' })), cat(arr(2), float64(2 ** 70), rec({ id: 'bad-2^70' })), cat(arr(2), eventTime(SEC, 1), rec({ id: 'bad-kept' })), rec({ chunk: 'b1' })),
      );
      // JSON mode: a JSON number time of 1e300 and a record 100,000 levels deep, beside a good entry.
      await json.write(Buffer.from(`["json",[[1e300,{"id":"json-1e300"}],[${SEC},${deep}],[${SEC}.5,{"id":"json-kept"}]],{"chunk":"j1"}]`));
    }
    if (i === 200) {
      assert.equal(await post(httpPort, deep), 400, 'a deep record is refused, not answered 201');
      assert.equal(await post(httpPort, `[{"id":"http-kept"},${deep}]`), 400, 'the body is refused whole: the client keeps it all');
      assert.equal(await post(httpPort, '{"id":"http-kept"}'), 201);
    }
  }
  await waitFor(() => good.replies().length === GOOD, 'every good chunk acked', 30_000);
  acked = good.replies().length;
  assert.deepEqual(await bad.waitReplies(1), [{ ack: 'b1' }]);
  await waitFor(() => json.bytes().toString() === '{"ack":"j1"}', 'the JSON chunk acked (in JSON)');

  const expected = new Set([...Array.from({ length: acked }, (_, i) => `good-${i}`), 'bad-kept', 'json-kept', 'http-kept']);
  await f.loki.waitFor(expected.size, 30_000);
  const ids = f.loki.entries.map((e) => String((JSON.parse(e.line) as { id: string }).id));
  assert.deepEqual(new Set(ids), expected, 'every accepted record in Loki, nothing refused');
  assert.equal(ids.length, expected.size, 'each once');
  assert.ok(f.loki.requestLog.every((r) => r.outcome === 204), 'Loki never answered a push with an error');
  assert.equal(await f.metric('floki_output_dropped_records_total'), 0);
  assert.equal(await f.metric('floki_input_skipped_records_total', { reason: 'time_out_of_range' }), 3);
  assert.equal(await f.metric('floki_input_skipped_records_total', { reason: 'too_deep' }), 1);
  assert.equal(await f.metric('floki_input_http_requests_total', { code: '400' }), 2);
});

function postFull(port: number, body: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/app', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('http: a log holding JSON 5,000 levels deep through a parser filter and rewrite_tag keep true is answered 201 and sent on unparsed; the next request gets through', async (t) => {
  const p = await startFussyPipeline(
    t,
    `service:
  parsers_file: parsers.conf
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: 0
  filters:
    - name: parser
      match: app
      key_name: log
      parser: json
    - name: rewrite_tag
      match: app
      rule: $level ^(info)$ copied true
  outputs:
    - name: fussy
      match: '*'
`,
  );
  const deepLog = `{"level":"info","deep":${deepJson(5000).replace('[]', '{}')}}`;
  for (let i = 0; i < 2; i++) assert.equal((await postFull(p.port(), JSON.stringify({ log: deepLog }))).status, 201, 'the deep one, sent twice');
  assert.equal((await postFull(p.port(), JSON.stringify({ log: '{"level":"info","msg":"next"}' }))).status, 201);
  await waitFor(() => p.events.some((e) => e.tag === 'copied' && e.record.msg === 'next'), 'the next record and its copy', 5_000);
  assert.deepEqual(
    p.events.filter((e) => e.record.log === deepLog).map((e) => e.tag),
    ['app', 'app'],
    'the deep one went on unparsed (no level key: not rewritten)',
  );
  assert.equal(await p.metrics.value('floki_filter_parser_too_deep_values_total'), 2);
  assert.equal(await p.metrics.value('floki_filter_parser_unparsed_records_total', { reason: 'no_match' }), 2);
  assert.equal(p.logs.filter((l) => l.includes('nested deeper than 64 levels')).length, 1, 'logged once, not per record');
});

test('http: the pipeline failing on records for another reason than a full output is answered 500 without Retry-After, counted and logged; the next request gets through', async (t) => {
  const p = await startFussyPipeline(
    t,
    `pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: 0
  outputs:
    - name: fussy
      match: '*'
`,
  );
  const failed = await postFull(p.port(), '{"msg":"poison"}');
  assert.equal(failed.status, 500);
  assert.equal(failed.retryAfter, undefined, 'no Retry-After: the same records would fail again');
  assert.match(failed.body, /pipeline failed on them: fussy: cannot take a poisoned record/);
  assert.equal(await p.metrics.value('floki_input_emit_failed_records_total'), 1);
  assert.equal(p.logs.filter((l) => l.includes('the pipeline failed on records')).length, 1);
  assert.equal((await postFull(p.port(), '{"msg":"next"}')).status, 201);
  assert.deepEqual(p.events.map((e) => e.record), [{ msg: 'next' }]);
});
