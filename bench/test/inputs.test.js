// What the node-agent and parsing workloads feed the process under test, checked on small sizes:
// the CRI generator's counts (entries after the runtime's split lines and the stack traces are joined),
// the API-server stand-in's pods, the sink's reading of a number past a line's start, and the summary's
// comparison line. `node --test bench/test/`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NODE_NAME, podsOfManifest, startKubeApiServer } from '../lib/kube-apiserver.js';
import { comparisonLines } from '../lib/report.js';
import { checkSeq, ESCAPED } from '../lib/seq-check.js';
import { prepareTailFiles } from '../lib/tail-load.js';

const dataDir = mkdtempSync(join(tmpdir(), 'floki-bench-inputs-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** A CRI file's lines with the runtime's P…F pieces joined, per stream, as the cri parser joins them. */
function criEntries(file) {
  const out = [];
  const partial = { stdout: [], stderr: [] };
  const text = readFileSync(file);
  let from = 0;
  for (let nl = text.indexOf(10); nl >= 0; from = nl + 1, nl = text.indexOf(10, from)) {
    const line = text.subarray(from, nl);
    const a = line.indexOf(32);
    const b = line.indexOf(32, a + 1);
    const stream = line.toString('latin1', a + 1, b);
    const tag = String.fromCharCode(line[b + 1]);
    partial[stream].push(line.subarray(b + 3));
    if (tag === 'F') {
      const pieces = partial[stream];
      const content = Buffer.concat(pieces);
      // Where the pieces meet, for the check that no cut falls inside a number.
      const cuts = [];
      for (let i = 0, at = 0; i < pieces.length - 1; i++) cuts.push((at += pieces[i].length));
      out.push({ stream, content: content.toString('utf8'), raw: content, cuts });
      partial[stream] = [];
    }
  }
  assert.deepEqual(partial, { stdout: [], stderr: [] }, `${file} ends inside a split line`);
  return out;
}

/**
 * The entries a multiline filter with the java, python and go parsers makes of them: a trace's first
 * line (the exception, `Traceback`, `panic:`) and its following lines are one entry, up to the next
 * line that is not part of it (the generator follows each trace with an application line).
 */
function joinTraces(lines) {
  const entries = [];
  const continues = (kind, content) =>
    kind === 'java' ? /^\t(at |\.\.\. )|^Caused by: / .test(content)
    : kind === 'python' ? /^ {2}|^[A-Za-z]+Error: / .test(content)
    : /^$|^goroutine |^main\.|^\t\/app\//.test(content);
  let current;
  for (const { stream, content } of lines) {
    if (current && stream === 'stderr' && continues(current.kind, content)) {
      current.lines.push(content);
      continue;
    }
    const kind = /^java\.lang\.\w+Exception: /.test(content) ? 'java' : content === 'Traceback (most recent call last):' ? 'python' : /^panic: /.test(content) ? 'go' : undefined;
    current = { kind, lines: [content] };
    entries.push(current);
    if (!kind) current = undefined;
  }
  return entries;
}

const SEQ = /seq=([0-9a-f]{16})/g;

/** No P/F cut falls inside a line's `seq=<16 hex>`. */
function assertNoCutInNumbers(lines) {
  for (const { raw, cuts, content } of lines) {
    const at = raw.indexOf('seq=');
    if (at >= 0) for (const c of cuts) assert.ok(c <= at || c >= at + 20, `a cut at ${c} inside the number at ${at}: ${content.slice(0, 120)}`);
  }
}

test('the traces profile: every entry after joining carries one number, 0..events-1 once each; debug lines none', () => {
  const m = prepareTailFiles({ dataDir, files: 3, totalBytes: 600_000, profile: 'traces' });
  const seen = new Uint8Array(m.events);
  const kinds = { java: 0, python: 0, go: 0 };
  let debug = 0;
  for (const f of m.files) {
    const lines = criEntries(f.target);
    assertNoCutInNumbers(lines);
    for (const entry of joinTraces(lines)) {
      const text = entry.lines.join('\n');
      const numbers = [...text.matchAll(SEQ)].map((x) => parseInt(x[1], 16));
      if (entry.kind) kinds[entry.kind]++;
      if (text.includes('"level":"debug"')) {
        assert.equal(numbers.length, 0, `a debug line has no number: ${text}`);
        debug++;
        continue;
      }
      assert.equal(numbers.length, 1, `one number per entry: ${text.slice(0, 300)}`);
      assert.ok(numbers[0] < m.events && !seen[numbers[0]], `number ${numbers[0]} once, below ${m.events}`);
      seen[numbers[0]] = 1;
    }
  }
  assert.ok(seen.every((x) => x === 1), 'every number is there');
  assert.equal(debug, m.dropped);
  assert.deepEqual(kinds, m.traces);
  assert.ok(m.traces.java > 0 && m.traces.python > 0 && m.traces.go > 0, `traces of each kind: ${JSON.stringify(m.traces)}`);
  assert.ok(m.dropped > m.events / 20, `debug lines: ${m.dropped} of ${m.events}`);
});

test("the node-agent files: one number per joined line, 0..events-1; their pods are the stand-in's", async () => {
  const m = prepareTailFiles({ dataDir, files: 4, totalBytes: 200_000, profile: 'app-350-whole-numbers' });
  let count = 0;
  let split = 0;
  for (const f of m.files) {
    const lines = criEntries(f.target);
    assertNoCutInNumbers(lines);
    for (const { content, cuts } of lines) {
      count += [...content.matchAll(SEQ)].length;
      if (cuts.length) split++;
    }
  }
  assert.equal(count, m.events);
  assert.ok(split > m.events / 20, `about 10% of the lines are cut in pieces: ${split} of ${m.events}`);

  const pods = podsOfManifest(m);
  assert.equal(pods.length, 4);
  const token = 'test-token';
  const api = await startKubeApiServer({ pods, token });
  try {
    const get = (path, auth = token) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${auth}` } });
    assert.equal((await get('/api/v1/pods', 'wrong')).status, 401);
    const list = await (await get(`/api/v1/pods?fieldSelector=spec.nodeName=${NODE_NAME}&limit=3`)).json();
    assert.equal(list.items.length, 3);
    const rest = await (await get(`/api/v1/pods?fieldSelector=spec.nodeName=${NODE_NAME}&limit=3&continue=${list.metadata.continue}`)).json();
    assert.equal(rest.items.length, 1);
    assert.equal((await (await get('/api/v1/pods?fieldSelector=spec.nodeName=elsewhere')).json()).items.length, 0);
    for (const p of pods) {
      const pod = await (await get(`/api/v1/namespaces/${p.namespace}/pods/${p.name}`)).json();
      assert.equal(pod.kind, 'Pod');
      assert.equal(pod.status.containerStatuses[0].containerID, `containerd://${p.id}`, 'the container id is the log file name’s');
      assert.equal(pod.spec.containers[0].name, p.container);
      assert.ok(JSON.stringify(pod).length < 32 * 1024, "within Fluent Bit's default buffer_size");
    }
    assert.equal((await get(`/api/v1/namespaces/${pods[0].namespace}/pods/nope`)).status, 404);
    assert.equal((await get(`/api/v1/namespaces/${pods[0].namespace}`)).status, 200);
    // A watch stays open and silent; closing the stand-in ends it.
    const watch = await get(`/api/v1/pods?fieldSelector=spec.nodeName=${NODE_NAME}&watch=1&resourceVersion=100`);
    assert.equal(watch.status, 200);
    const body = watch.body.getReader().read();
    await api.close();
    await body.then(
      (r) => assert.ok(r.done),
      () => undefined,
    );
    assert.deepEqual(api.stats(), { list: 3, watch: 1, getPod: 5, getNamespace: 1, unauthorized: 1, notFound: 1 });
  } finally {
    await api.close();
  }
});

test("the sink reads a number past a line's first 256 bytes (a joined Python traceback's last line)", () => {
  const counter = { expected: 4, seen: new Uint8Array(4), duplicates: 0, unknown: 0 };
  const trace = `Traceback (most recent call last):\n${'  File "/srv/app/worker.py", line 42, in run\n    result = handler(payload)\n'.repeat(5)}ValueError: seq=0000000000000002 invalid`;
  const line = Buffer.from(JSON.stringify({ stream: 'stderr', log: trace }));
  checkSeq(line, 0, line.length, counter);
  // Inside a JSON push (Fluent Bit): escaped, its end the next entry's start.
  const escaped = Buffer.from(JSON.stringify(JSON.stringify({ log: trace.replace('02', '03') })).slice(1, -1));
  checkSeq(escaped, 0, escaped.length, counter, ESCAPED);
  checkSeq(Buffer.from('no number at all'), 0, 16, counter);
  // A line cut inside its number, read up to the next entry of a JSON push: not another number.
  const cut = Buffer.from('seq=00000000000"],["1795600800000000000","seq=0000000000000001 rest');
  checkSeq(cut, 0, cut.indexOf('"],["'), counter, ESCAPED);
  checkSeq(cut, 0, cut.length, counter, ESCAPED);
  assert.deepEqual([...counter.seen], [0, 0, 1, 1]);
  assert.equal(counter.unknown, 3);
});

test('the summary compares the aggregator tier with direct forward → loki', () => {
  const run = (eventsPerS) => ({ ok: true, reports: ['events/s'], events: eventsPerS * 10, elapsedS: 10 });
  const w = (name, extra = {}) => ({ name, reports: ['events/s'], ...extra });
  const agg = w('forward-aggregator-ack', { compareTo: { workload: 'forward-packed-1k-ack', figure: 'events/s', aim: 0.8 } });
  const lines = comparisonLines([
    { workload: w('forward-packed-1k-ack'), runs: { floki: [run(100_000), run(90_000), run(110_000)] } },
    { workload: agg, runs: { floki: [run(85_000)] } },
  ]);
  assert.deepEqual(lines, ["forward-aggregator-ack: 85,000 events/s = 85% of forward-packed-1k-ack's 100,000 (floki; aim at least 80%: meets)"]);
  assert.match(comparisonLines([{ workload: agg, runs: { floki: [run(1)] } }])[0], /run forward-packed-1k-ack with it/);
});
