/**
 * Mixed log lines for volume tests of the parsers, made on the fly (nothing is written to disk): JSON
 * objects, nginx access lines, logfmt, plain text no parser matches, long lines, lone surrogates (what
 * invalid UTF-8 becomes upstream), and lines crafted to make a backtracking regex explode. Deterministic
 * for a given seed.
 */
import type { LogEvent } from '../../src/core/event.js';

/** Parsers for the lines: the stock nginx regex, JSON and logfmt (a YAML `parsers` list). */
export const MIXED_LINE_PARSERS = [
  { name: 'json', format: 'json' },
  {
    name: 'nginx',
    format: 'regex',
    regex: '^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] "(?<method>\\S+)(?: +(?<path>[^\\"]*?)(?: +\\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\\"]*)" "(?<agent>[^\\"]*)")',
    time_key: 'time',
    time_format: '%d/%b/%Y:%H:%M:%S %z',
  },
  // Catastrophic on a long run of word characters without the final `;` (the hostile lines below).
  { name: 'words', format: 'regex', regex: '^(?<words>(\\w+\\s?)+);$' },
  { name: 'logfmt', format: 'logfmt', logfmt_no_bare_keys: true },
];

/** A small, fast deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ['/', '/api/v1/orders', '/healthz', '/static/app.js', '/login?next=%2F'];
const LONG = 'L'.repeat(70 * 1024);
const HOSTILE = 'a'.repeat(20_000) + '!';

export class MixedLines {
  private readonly rand: ReturnType<typeof random>;
  private n = 0;
  /** Bytes of `log` text made so far (UTF-16 units; the lines are ASCII but for the surrogates). */
  bytes = 0;

  constructor(seed = 1) {
    this.rand = random(seed);
  }

  line(): string {
    const r = this.rand();
    const i = this.n++;
    if (r < 0.38) return JSON.stringify({ level: r < 0.1 ? 'error' : 'info', msg: `request ${i} done`, duration_ms: Math.round(r * 1000), user: { id: i % 977 } });
    if (r < 0.76) return `10.0.${i % 256}.${(i >> 8) % 256} - - [30/Nov/2026:09:00:${String(i % 60).padStart(2, '0')} +0000] "GET ${PATHS[i % PATHS.length]} HTTP/1.1" ${r < 0.7 ? 200 : 503} ${i % 5000} "-" "curl/8.4.0"`;
    if (r < 0.96) return `ts=2026-11-30T09:00:00Z level=info component=worker n=${i} msg="processed batch"`;
    if (r < 0.975) return `${'x'.repeat(i % 200)} plain text ${i} no parser takes (ends with no semicolon)`;
    if (r < 0.985) return `\ud800 lone surrogates ${i} \udfff "unterminated`;
    if (r < 0.99996) return `{"truncated": "json ${i}`;
    return r < 0.99998 ? LONG : HOSTILE;
  }

  /** `count` records `{log, stream}` under `tag`, times increasing from `time`. */
  batch(tag: string, count: number, time: bigint): LogEvent[] {
    const out: LogEvent[] = new Array(count);
    for (let k = 0; k < count; k++) {
      const log = this.line();
      this.bytes += log.length;
      out[k] = { tag, time: time + BigInt(k), record: { log, stream: 'stdout' } };
    }
    return out;
  }
}
