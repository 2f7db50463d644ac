// Container log files for the tail workloads, laid out as on a node:
// <root>/pods/<namespace>_<pod>_<uid>/<container>/0.log, to be linked from a containers folder
// (`<pod>_<namespace>_<container>-<64 hex id>.log`, kubelet's symlinks) when the timed run starts.
//
// CRI format (containerd): `<RFC3339Nano> <stdout|stderr> <P|F> <content>`. 10% of the lines are
// written as 2 or 3 pieces (P…F) cut at any byte, inside multi-byte characters too, as CRI-O does
// with its read buffer. The profiles:
// - `mixed` (the `tail` workload): one file holds kubernetes-event-exporter JSON (bench/lib/events.js),
//   the others application lines of 80 B to 4 KiB (mean about 0.9 KiB), text and JSON, some non-ASCII;
// - `app-350` (W2): every file holds application lines of 80 B to 1.5 KiB, about 350 B a record with
//   the CRI prefix (500 MiB is about 1.5M records); `app-350-whole-numbers` (node-agent) the same
//   lines, never cut inside their `seq=<16 hex>`;
// - `traces` (parsing): app-350's lines, with Java, Python and Go stack traces (one entry each once
//   multiline has joined them; 4% of entries) and debug JSON lines without a sequence number (10%),
//   which the parsing workload's grep drops, never cut inside a number. `events` counts the entries
//   with a number, `dropped` the others, `traces` each kind.
// Every line carries a sequence number the counting sink reads back: `seq=<16 hex>` near the start
// of an application line, and the event name's suffix for an event (see loki-sink.js).
//
// Generated once into bench/.data/ (gitignored) and reused while the parameters are unchanged.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvent, mulberry32 as rng, BASE_EPOCH_SECONDS, SEQ_HEX_DIGITS } from './events.js';

const FORMAT_VERSION = 1;
const MiB = 1024 * 1024;
const NAMESPACES = ['shop', 'payments-prod', 'ml-train', 'ingress-nginx', 'monitoring', 'staging-web', 'kube-system'];
const APPS = ['web', 'api', 'worker', 'checkout', 'ledger', 'trainer', 'ingress-controller', 'coredns', 'cart', 'search'];
const WORDS = 'request handled user session cache miss upstream latency retry token order payment invoice shipment queue consumer lag commit offset partition replica leader'.split(' ');
const NON_ASCII = ['café', 'naïve', 'Größe', '€ 12,50', '日本語のログ', 'emoji 🚀', 'Ünïcödé'];

const hex = (n, digits) => n.toString(16).padStart(digits, '0');

function rfc3339Nano(ns) {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** An application line of about `target` bytes carrying `seq`. */
function appLine(r, seq, target, app) {
  const id = hex(seq, SEQ_HEX_DIGITS);
  const level = r() < 0.1 ? 'error' : r() < 0.2 ? 'warn' : 'info';
  let s;
  if (r() < 0.5) {
    s = `seq=${id} level=${level} app=${app} trace_id=${hex(Math.floor(r() * 2 ** 52), 13)} path=/api/v1/items/${Math.floor(r() * 9999)} status=${[200, 201, 204, 404, 500][Math.floor(r() * 5)]} dur_ms=${(r() * 500).toFixed(3)} msg="`;
    while (s.length < target - 1) s += `${WORDS[Math.floor(r() * WORDS.length)]} `;
    s += '"';
  } else {
    s = `{"seq":"seq=${id}","level":"${level}","ts":${(BASE_EPOCH_SECONDS + seq / 1000).toFixed(3)},"caller":"${app}/handler.go:${Math.floor(r() * 900)}","msg":"`;
    while (s.length < target - 2) s += `${WORDS[Math.floor(r() * WORDS.length)]} `;
    s += '"}';
  }
  if (r() < 0.05) s += ` ${NON_ASCII[Math.floor(r() * NON_ASCII.length)]}`;
  return s;
}

function lineSize(r) {
  const x = r();
  if (x < 0.55) return 80 + Math.floor(r() * 320); // short lines
  if (x < 0.9) return 400 + Math.floor(r() * 1600);
  return 2000 + Math.floor(r() * 2096); // a few long ones, up to 4 KiB
}

/** W2's lines: mostly short, a quarter medium, a few long; with the CRI prefix about 350 B on average. */
function lineSize350(r) {
  const x = r();
  if (x < 0.7) return 80 + Math.floor(r() * 190);
  if (x < 0.95) return 280 + Math.floor(r() * 400);
  return 700 + Math.floor(r() * 800);
}

const PKGS = ['com.example.shop.orders', 'com.example.payments.ledger', 'io.acme.search.index', 'org.acme.cart.api'];
const CLASSES = ['OrderService', 'LedgerWriter', 'IndexHandler', 'CartController', 'RetryTemplate', 'ConnectionPool'];
const METHODS = ['process', 'handle', 'write', 'lookup', 'apply', 'execute', 'doFilter'];
const pick = (r, list) => list[Math.floor(r() * list.length)];

/**
 * A Java stack trace as logback prints it after its message line: the exception, `at` frames, a
 * `Caused by:` with its own frames and `... N more`. The first line carries the sequence number.
 */
function javaTrace(r, id) {
  const lines = [`java.lang.IllegalStateException: seq=${id} could not process order ${Math.floor(r() * 99999)}`];
  const frame = () => {
    const cls = pick(r, CLASSES);
    return `\tat ${pick(r, PKGS)}.${cls}.${pick(r, METHODS)}(${cls}.java:${10 + Math.floor(r() * 400)})`;
  };
  for (let i = 4 + Math.floor(r() * 14); i > 0; i--) lines.push(frame());
  lines.push('Caused by: java.net.SocketTimeoutException: Read timed out');
  for (let i = 2 + Math.floor(r() * 6); i > 0; i--) lines.push(frame());
  lines.push(`\t... ${3 + Math.floor(r() * 30)} more`);
  return lines;
}

/** A Python traceback; its last line (the exception) carries the sequence number. */
function pythonTrace(r, id) {
  const lines = ['Traceback (most recent call last):'];
  for (let i = 2 + Math.floor(r() * 5); i > 0; i--) {
    lines.push(`  File "/srv/app/${pick(r, ['worker', 'handlers', 'models', 'client'])}.py", line ${10 + Math.floor(r() * 300)}, in ${pick(r, METHODS)}`);
    lines.push(`    ${pick(r, ['result = handler(payload)', 'return int(payload["count"])', 'self.session.commit()', 'resp.raise_for_status()'])}`);
  }
  lines.push(`ValueError: seq=${id} invalid literal for int() with base 10: 'abc'`);
  return lines;
}

/** A Go panic: the panic line (with the sequence number), a blank line, the goroutine and its frames. */
function goPanic(r, id) {
  const lines = [`panic: seq=${id} runtime error: index out of range [${Math.floor(r() * 9)}] with length 3`, '', `goroutine ${1 + Math.floor(r() * 200)} [running]:`];
  for (let i = 2 + Math.floor(r() * 6); i > 0; i--) {
    const fn = pick(r, ['handler', 'serve', 'decode', 'loop']);
    lines.push(`main.${fn}(0xc000${hex(Math.floor(r() * 0xffffff), 6)}, 0x${Math.floor(r() * 64).toString(16)})`);
    lines.push(`\t/app/${fn}.go:${10 + Math.floor(r() * 300)} +0x${Math.floor(r() * 0xfff).toString(16)}`);
  }
  return lines;
}

/** A debug JSON line without a sequence number: the parsing workload's grep drops it. */
function debugLine(r, seqish, app) {
  let s = `{"level":"debug","ts":${(BASE_EPOCH_SECONDS + seqish / 1000).toFixed(3)},"caller":"${app}/cache.go:${Math.floor(r() * 900)}","msg":"`;
  const target = 80 + Math.floor(r() * 200);
  while (s.length < target - 2) s += `${WORDS[Math.floor(r() * WORDS.length)]} `;
  return `${s}"}`;
}

/**
 * The `traces` profile's next entry: [{ stream, content }] lines and whether it carries a sequence
 * number (`numbered`). Of the entries: 2% Java traces, 1% Python tracebacks, 1% Go panics (each one
 * entry once multiline has joined it, on stderr), 10% debug JSON lines (dropped by grep, no number),
 * the rest W2's application lines. A trace is always followed by an application line, so that it ends
 * (its rules see a line that is not theirs) rather than waiting for the multiline flush.
 */
function tracesEntry(r, seq, app, state) {
  const id = hex(seq, SEQ_HEX_DIGITS);
  const x = state.afterTrace ? 1 : r();
  state.afterTrace = false;
  const trace = x < 0.02 ? javaTrace : x < 0.03 ? pythonTrace : x < 0.04 ? goPanic : undefined;
  if (trace) {
    state.afterTrace = true;
    return { lines: trace(r, id).map((content) => ({ stream: 'stderr', content })), numbered: true, kind: trace.kind };
  }
  if (x < 0.14) return { lines: [{ stream: 'stdout', content: debugLine(r, seq, app) }], numbered: false };
  return { lines: [{ stream: r() < 0.1 ? 'stderr' : 'stdout', content: appLine(r, seq, lineSize350(r), app) }], numbered: true };
}

javaTrace.kind = 'java';
pythonTrace.kind = 'python';
goPanic.kind = 'go';

const SEQ_PREFIX = Buffer.from('seq=');

const PROFILES = {
  mixed: { exporterFile: true, lineSize },
  'app-350': { exporterFile: false, lineSize: lineSize350 },
  // W2's lines, but no P/F cut inside a line's number.
  'app-350-whole-numbers': { exporterFile: false, lineSize: lineSize350, wholeNumbers: true },
  traces: { exporterFile: false, lineSize: lineSize350, entry: tracesEntry, wholeNumbers: true, version: 2 },
};

/** Appends one line as CRI, 10% of lines in 2 or 3 pieces cut at arbitrary bytes. */
function criLines(r, time, stream, content, wholeNumber = false) {
  const body = Buffer.from(content);
  const prefix = `${time} ${stream} `;
  if (r() >= 0.1 || body.length < 4) return Buffer.concat([Buffer.from(`${prefix}F `), body, Buffer.from('\n')]);
  const pieces = r() < 0.5 ? 2 : 3;
  const cuts = [];
  for (let i = 1; i < pieces; i++) cuts.push(1 + Math.floor(r() * (body.length - 2)));
  if (wholeNumber) {
    // Never inside `seq=<16 hex>`: a process that sends a piece on alone then loses only a line's
    // joining (an entry without a number, which the workload may tolerate), never its number.
    const at = body.indexOf(SEQ_PREFIX);
    const end = at + SEQ_PREFIX.length + SEQ_HEX_DIGITS;
    if (at >= 0) for (let i = 0; i < cuts.length; i++) if (cuts[i] > at && cuts[i] < end) cuts[i] = end < body.length ? end : at;
  }
  cuts.sort((a, b) => a - b);
  const parts = [];
  let from = 0;
  for (const cut of [...cuts, body.length]) {
    const last = cut === body.length;
    parts.push(Buffer.from(`${prefix}${last ? 'F' : 'P'} `), body.subarray(from, cut), Buffer.from('\n'));
    from = cut;
  }
  return Buffer.concat(parts);
}

/**
 * Writes the files (once) and returns { root, files: [{ target, link }], bytes, events }.
 * `files` files totalling about `totalBytes`; with the `mixed` profile file 0 holds exporter events.
 */
export function prepareTailFiles({ dataDir, files = 20, totalBytes = 500 * MiB, seed = 7, profile = 'mixed' }) {
  const shape = PROFILES[profile];
  if (!shape) throw new Error(`unknown tail profile '${profile}' (${Object.keys(PROFILES).join(', ')})`);
  // The mixed profile's key leaves the profile out, so files generated before profiles existed still count.
  // A profile's `version` changes its files' key when its content changes.
  const params =
    profile === 'mixed' ? { FORMAT_VERSION, files, totalBytes, seed } : { FORMAT_VERSION, files, totalBytes, seed, profile, ...(shape.version ? { version: shape.version } : {}) };
  const key = createHash('sha1').update(JSON.stringify(params)).digest('hex').slice(0, 10);
  const root = join(dataDir, `tail-${key}`);
  const manifestPath = join(root, 'manifest.json');
  if (existsSync(manifestPath)) return JSON.parse(readFileSync(manifestPath, 'utf8'));

  rmSync(root, { recursive: true, force: true });
  const perFile = Math.floor(totalBytes / files);
  const out = [];
  let seq = 0;
  let unnumbered = 0;
  const traces = { java: 0, python: 0, go: 0 };
  let bytes = 0;
  for (let f = 0; f < files; f++) {
    const r = rng(seed * 1000 + f);
    const exporter = shape.exporterFile && f === 0;
    const namespace = exporter ? 'monitoring' : NAMESPACES[f % NAMESPACES.length];
    const app = exporter ? 'event-exporter' : APPS[f % APPS.length];
    const pod = `${app}-${hex(0x5b9c7f4 + f, 9)}-${hex(f * 7919, 5)}`;
    const container = app;
    const uid = `${hex(f, 8)}-aaaa-4bbb-8ccc-${hex(f, 12)}`;
    const id = createHash('sha256').update(`container ${f}`).digest('hex');
    const dir = join(root, 'pods', `${namespace}_${pod}_${uid}`, container);
    mkdirSync(dir, { recursive: true });
    const target = join(dir, '0.log');
    const fd = openSync(target, 'w');
    let written = 0;
    let ns = BigInt(BASE_EPOCH_SECONDS) * 1_000_000_000n + BigInt(f) * 1_000n;
    const pending = [];
    let pendingBytes = 0;
    const state = { afterTrace: false };
    // A file never ends inside a trace: the last entry is an application line.
    while (written < perFile || state.afterTrace) {
      ns += BigInt(50_000 + Math.floor(r() * 100_000));
      let lines;
      if (exporter) lines = [{ stream: 'stdout', content: JSON.stringify(makeEvent(seq).record) }];
      else if (shape.entry) {
        const entry = shape.entry(r, seq, app, state);
        lines = entry.lines;
        if (entry.kind) traces[entry.kind]++;
        if (!entry.numbered) {
          unnumbered++;
          seq--; // the next entry takes this number
        }
      } else {
        const stream = r() < 0.1 ? 'stderr' : 'stdout';
        lines = [{ stream, content: appLine(r, seq, shape.lineSize(r), app) }];
      }
      seq++;
      for (const { stream, content } of lines) {
        const chunk = criLines(r, rfc3339Nano(ns), stream, content, shape.wholeNumbers);
        pending.push(chunk);
        pendingBytes += chunk.length;
        written += chunk.length;
        if (lines.length > 1) ns += 1000n;
      }
      if (pendingBytes > 4 * MiB) {
        writeSync(fd, Buffer.concat(pending));
        pending.length = 0;
        pendingBytes = 0;
      }
    }
    if (pending.length) writeSync(fd, Buffer.concat(pending));
    closeSync(fd);
    bytes += written;
    out.push({ target, link: `${pod}_${namespace}_${container}-${id}.log` });
  }
  // events: the entries the sink must count (with a number); dropped: those without one (filtered out).
  const manifest = { root, files: out, bytes, events: seq, ...(shape.entry ? { dropped: unnumbered, traces } : {}) };
  writeFileSync(manifestPath, JSON.stringify(manifest));
  return manifest;
}

/** kubelet's symlinks: makes every file appear in `containersDir` at once (the timed run starts here). */
export function linkTailFiles(manifest, containersDir) {
  mkdirSync(containersDir, { recursive: true });
  for (const f of manifest.files) symlinkSync(f.target, join(containersDir, f.link));
}
