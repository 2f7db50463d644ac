import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCriLine, STDERR, STDOUT, type DecodedCriLine } from '../../src/inputs/tail/cri-format.js';
import { decodeDockerLine, type DecodedDockerLine } from '../../src/inputs/tail/docker-format.js';
import { daysFromCivil, NOT_A_TIME, Rfc3339Parser } from '../../src/inputs/tail/rfc3339.js';
import { PartialLineJoiner, utf8Boundary } from '../../src/inputs/tail/partial-line-joiner.js';
import { kubernetesMetadataOf } from '../../src/inputs/tail/kubernetes-path.js';
import { tagForPath } from '../../src/inputs/tail/tag.js';
import fc from 'fast-check';
import { runs } from '../helpers/fuzz.js';
import { patternToRegExp } from '../../src/inputs/tail/glob.js';

const parse = (s: string) => new Rfc3339Parser().parse(Buffer.from(s), 0, Buffer.byteLength(s));

test('RFC 3339 times become exact nanoseconds: Z, CRI-O offsets, short and over-long fractions', () => {
  assert.equal(parse('2026-11-25T10:00:00.000123456Z'), 1795600800_000123456n);
  assert.equal(parse('2026-11-25T10:00:00Z'), 1795600800_000000000n);
  assert.equal(parse('2026-11-25T10:00:00.5Z'), 1795600800_500000000n);
  // CRI-O writes local offsets; +00:00 is UTC, others shift.
  assert.equal(parse('2026-11-25T10:00:00.000123456+00:00'), 1795600800_000123456n);
  assert.equal(parse('2026-11-25T11:30:00.000000001+01:30'), 1795600800_000000001n);
  assert.equal(parse('2026-11-25T04:00:00.999999999-06:00'), 1795600800_999999999n);
  // Digits past nanoseconds are dropped, not rounded into the next second.
  assert.equal(parse('2026-11-25T10:00:00.9999999999Z'), 1795600800_999999999n);
  // A time a double cannot hold to the nanosecond stays exact.
  assert.equal(parse('2262-04-11T23:47:16.854775807Z'), 9223372036854775807n);
  assert.equal(parse('1970-01-01T00:00:00Z'), 0n);
  // Before 1970 is a time too (negative): the input refuses it as out of Loki's range, not as malformed.
  assert.equal(parse('1969-12-31T23:59:59.999999999Z'), -1n);
  assert.equal(parse('1960-01-01T00:00:00Z'), BigInt(Date.UTC(1960, 0, 1) / 1000) * 1_000_000_000n);
  assert.equal(parse('2024-02-29T00:00:00Z'), BigInt(Date.UTC(2024, 1, 29) / 1000) * 1_000_000_000n);
  for (const bad of ['2026-11-25 10:00:00', '2026-11-25T10:00:00.Z', '2026-13-25T10:00:00Z', '2026-11-25T10:00:00+0100', 'x026-11-25T10:00:00Z', '2026-11-25T10:00:00Zjunk']) {
    assert.equal(parse(bad), NOT_A_TIME, bad);
  }
});

test('daysFromCivil agrees with Date.UTC across centuries and leap years', () => {
  for (const [y, m, d] of [[1970, 1, 1], [1999, 12, 31], [2000, 2, 29], [2100, 3, 1], [1600, 1, 1], [2026, 11, 25]] as const) {
    assert.equal(daysFromCivil(y, m, d), Date.UTC(y, m - 1, d) / 86_400_000, `${y}-${m}-${d}`);
  }
});

function cri(line: string | Buffer): DecodedCriLine | undefined {
  const b = Buffer.isBuffer(line) ? line : Buffer.from(line);
  const out: DecodedCriLine = { time: 0n, stream: STDOUT, partial: false, contentStart: 0, contentEnd: 0 };
  return decodeCriLine(b, 0, b.length, new Rfc3339Parser(), out) ? out : undefined;
}
const content = (line: string, d: DecodedCriLine) => Buffer.from(line).subarray(d.contentStart, d.contentEnd).toString();

test('CRI lines: stream, P/F, extra tags, empty content, CRI-O offsets; other text is not CRI', () => {
  const full = '2026-11-25T10:00:00.000123456Z stdout F hello world';
  const d = cri(full)!;
  assert.deepEqual([d.time, d.stream, d.partial, content(full, d)], [1795600800_000123456n, STDOUT, false, 'hello world']);
  const partial = '2026-11-25T10:00:00.000123456+00:00 stderr P  two spaces kept';
  const p = cri(partial)!;
  assert.deepEqual([p.stream, p.partial, content(partial, p)], [STDERR, true, ' two spaces kept']);
  const tagged = '2026-11-25T10:00:00Z stdout F:x:y tagged';
  assert.equal(content(tagged, cri(tagged)!), 'tagged');
  const empty = '2026-11-25T10:00:00Z stdout F ';
  assert.equal(content(empty, cri(empty)!), '');
  const bare = '2026-11-25T10:00:00Z stdout F';
  assert.equal(content(bare, cri(bare)!), '');
  for (const bad of ['plain text line', '2026-11-25T10:00:00Z stdin F x', '2026-11-25T10:00:00Z stdout X x', '2026-11-25T10:00:00Z stdout FF x', 'notatimeatallreally00 stdout F x', '{"log":"x\\n"}']) {
    assert.equal(cri(bad), undefined, bad);
  }
});

test('docker json-file lines: the newline ending a whole line is dropped; pieces without it are partial', () => {
  const decode = (s: string) => {
    const b = Buffer.from(s);
    const out: DecodedDockerLine = { time: 0n, stream: STDOUT, streamName: 'stdout', partial: false, log: '' };
    return decodeDockerLine(b, 0, b.length, new Rfc3339Parser(), out) ? { ...out } : undefined;
  };
  assert.deepEqual(decode('{"log":"héllo\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}'), {
    time: 1556590361_844351500n,
    stream: STDERR,
    streamName: 'stderr',
    partial: false,
    log: 'héllo',
  });
  assert.equal(decode('{"log":"piece","stream":"stdout","time":"2019-04-30T02:12:41Z"}')!.partial, true);
  assert.equal(decode('{"log":"\\n","stream":"stdout","time":"2019-04-30T02:12:41Z"}')!.log, '');
  assert.equal(decode('{"log":"x\\n","stream":"stdout"}'), undefined, 'no time');
  assert.equal(decode('{"log":"x\\n","stream":"stdout","time":"yesterday"}'), undefined);
  assert.equal(decode('{"log":"torn'), undefined);
});

test('pieces are joined as bytes: a character split between pieces is whole again', () => {
  const j = new PartialLineJoiner(1 << 20, 'truncate');
  const text = 'ab€cd😀e';
  const bytes = Buffer.from(text);
  // Split inside the euro sign (3 bytes) and inside the emoji (4 bytes).
  j.append(bytes.subarray(0, 3), 5n, 100, 0);
  j.append(bytes.subarray(3, 9), 6n, 200, 0);
  assert.equal(j.firstOffset, 100);
  const line = j.finish(bytes.subarray(9), 7n)!;
  assert.deepEqual(line, { text, time: 5n, pieces: 3, truncated: false });
  assert.equal(j.pending, false);
  // A line never split comes back as is.
  assert.deepEqual(j.finish(Buffer.from('solo'), 9n), { text: 'solo', time: 9n, pieces: 1, truncated: false });
});

test('a joined line over the limit is cut on a character boundary, or skipped; memory stays bounded', () => {
  const t = new PartialLineJoiner(10, 'truncate');
  t.append(Buffer.from('12345678'), 1n, 0, 0);
  t.append(Buffer.from('€€€€'), 1n, 50, 0); // only 2 bytes of room: no whole € fits
  t.append(Buffer.alloc(1 << 20, 0x61), 1n, 60, 0);
  assert.deepEqual(t.finish(Buffer.from('tail'), 2n), { text: '12345678', time: 1n, pieces: 4, truncated: true });

  const s = new PartialLineJoiner(10, 'skip');
  s.append(Buffer.from('12345678'), 1n, 0, 0);
  s.append(Buffer.from('90abc'), 1n, 0, 0);
  assert.equal(s.finish(Buffer.from('x'), 2n), undefined);
  assert.equal(s.pending, false);
  assert.deepEqual(s.finish(Buffer.from('next'), 3n), { text: 'next', time: 3n, pieces: 1, truncated: false });
  assert.equal(new PartialLineJoiner(3, 'skip').finish(Buffer.from('long'), 1n), undefined, 'a single long piece is skipped too');

  assert.equal(utf8Boundary(Buffer.from('a€'), 2), 1);
  assert.equal(utf8Boundary(Buffer.from('a€'), 4), 4);
});

test('a P never followed by F is flushed as it is', () => {
  const j = new PartialLineJoiner(100, 'truncate');
  j.append(Buffer.from('no end'), 42n, 7, 1000);
  assert.equal(j.lastAppendMs, 1000);
  assert.deepEqual(j.flush(), { text: 'no end', time: 42n, pieces: 1, truncated: false });
  assert.equal(j.flush(), undefined);
});

test('kubernetes metadata from /var/log/containers and /var/log/pods names', () => {
  const id = 'a'.repeat(64);
  assert.deepEqual(kubernetesMetadataOf(`/var/log/containers/event-exporter-6d5b9c7f4-x2x9q_monitoring_event-exporter-${id}.log`), {
    pod_name: 'event-exporter-6d5b9c7f4-x2x9q',
    namespace_name: 'monitoring',
    container_name: 'event-exporter',
    container_id: id,
  });
  // Container names may hold dashes: the id is the last 64 characters.
  assert.equal(kubernetesMetadataOf(`/x/web-0_shop_istio-proxy-${id}.log`)?.container_name, 'istio-proxy');
  assert.deepEqual(kubernetesMetadataOf('/var/log/pods/shop_web-0_0f9e8d7c-1234/nginx/3.log'), {
    pod_name: 'web-0',
    namespace_name: 'shop',
    container_name: 'nginx',
    pod_id: '0f9e8d7c-1234',
  });
  assert.equal(kubernetesMetadataOf('/var/log/syslog'), undefined);
  assert.equal(kubernetesMetadataOf(`/var/log/containers/no-id_ns_c.log`), undefined);
});

test("tag `*` expands to the path with '/' as '.', as Fluent Bit's in_tail does", () => {
  assert.equal(tagForPath('kube.*', '/var/log/containers/a_b_c-1.log'), 'kube.var.log.containers.a_b_c-1.log');
  assert.equal(tagForPath('fixed', '/var/log/x.log'), 'fixed');
});

test('path patterns match per folder; exclude patterns match the whole path', () => {
  const p = (s: string) => patternToRegExp(s, true);
  assert.ok(p('*.log').test('a.log'));
  assert.ok(!p('*.log').test('a.log.20230810-082034'));
  assert.ok(p('{a,b}?.log').test('b1.log'));
  assert.ok(p('[!x]*.log').test('y.log') && !p('[!x]*.log').test('x.log'));
  assert.ok(p('/var/**/*.log').test('/var/log/pods/x/0.log'));
  assert.ok(!p('/var/*.log').test('/var/log/a.log'));
  const x = (s: string) => patternToRegExp(s, false);
  assert.ok(x('*.gz').test('/var/log/pods/a/0.log.1.gz'));
  assert.ok(x('*_kube-system_*').test('/var/log/containers/coredns-1_kube-system_coredns-abc.log'));
});

test('joined pieces, given as ranges of larger buffers and line after line through one joiner, are the bytes joined then cut', () => {
  // The model: the pieces' bytes in order; the first piece past the limit is cut on a character
  // boundary (truncate: the rest are dropped) or the line is dropped (skip).
  const model = (pieces: Buffer[], max: number, action: 'truncate' | 'skip') => {
    const kept: Buffer[] = [];
    let bytes = 0;
    let over = false;
    for (const p of pieces) {
      if (over) continue;
      if (p.length > max - bytes) {
        over = true;
        if (action === 'skip') return undefined;
        kept.push(p.subarray(0, utf8Boundary(p, max - bytes)));
        continue;
      }
      kept.push(p);
      bytes += p.length;
    }
    return { text: Buffer.concat(kept).toString('utf8'), truncated: over };
  };
  const piece = fc.oneof(fc.string({ maxLength: 30 }).map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.integer({ min: 0, max: 9000 }).map((n) => Buffer.alloc(n, 0x61)));
  fc.assert(
    fc.property(
      fc.array(fc.record({ pieces: fc.array(piece, { minLength: 1, maxLength: 6 }), pad: fc.nat(40) }), { minLength: 1, maxLength: 5 }),
      fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 20000 })),
      fc.constantFrom<'truncate' | 'skip'>('truncate', 'skip'),
      (lines, max, action) => {
        const j = new PartialLineJoiner(max, action);
        for (const { pieces, pad } of lines) {
          // Each piece inside a larger buffer, at an offset: only its range is read.
          const at = (p: Buffer) => {
            const outer = Buffer.concat([Buffer.alloc(pad, 0x7c), p, Buffer.alloc(3, 0x7c)]);
            return { outer, start: pad, end: pad + p.length };
          };
          for (const p of pieces.slice(0, -1)) {
            const r = at(p);
            j.appendRange(r.outer, r.start, r.end, 1n, 0, 0);
          }
          const r = at(pieces.at(-1)!);
          const got = j.finishRange(r.outer, r.start, r.end, 2n);
          const want = model(pieces, max, action);
          if (want === undefined) assert.equal(got, undefined);
          else assert.deepEqual(got, { text: want.text, time: pieces.length > 1 ? 1n : 2n, pieces: pieces.length, truncated: want.truncated });
          assert.equal(j.pending, false);
        }
      },
    ),
    runs(200),
  );
});
