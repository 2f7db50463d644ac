/**
 * The RFC 3339 parser reuses the second of the time before when a time's first 19 bytes are the same:
 * whatever order times come in (same second, next second, back again, other offsets, leap seconds,
 * malformed ones between), one parser reading them all gives what a fresh parser gives each alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCriLine, STDOUT, type DecodedCriLine } from '../../src/inputs/tail/cri-format.js';
import { NOT_A_TIME, Rfc3339Parser } from '../../src/inputs/tail/rfc3339.js';
import { runs } from '../helpers/fuzz.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const fresh = (s: string) => new Rfc3339Parser().parse(bytes(s), 0, s.length);
const utcNs = (iso: string, nanos: bigint) => BigInt(Date.parse(iso) / 1000) * 1_000_000_000n + nanos;

test('a parser reading times in turn: same second, the next, back again, offsets, leap second', () => {
  const p = new Rfc3339Parser();
  const at = (s: string) => p.parse(bytes(s), 0, s.length);
  assert.equal(at('2026-11-25T10:00:00.000000001Z'), utcNs('2026-11-25T10:00:00Z', 1n));
  assert.equal(at('2026-11-25T10:00:00.999999999Z'), utcNs('2026-11-25T10:00:00Z', 999_999_999n));
  assert.equal(at('2026-11-25T10:00:01Z'), utcNs('2026-11-25T10:00:01Z', 0n));
  assert.equal(at('2026-11-25T10:00:00.5Z'), utcNs('2026-11-25T10:00:00Z', 500_000_000n));
  // The same 19 bytes with another offset are another second.
  assert.equal(at('2026-11-25T10:00:00.5+01:00'), utcNs('2026-11-25T09:00:00Z', 500_000_000n));
  assert.equal(at('2026-11-25T10:00:00.5-00:30'), utcNs('2026-11-25T10:30:00Z', 500_000_000n));
  assert.equal(at('2026-11-25T10:00:00.5Z'), utcNs('2026-11-25T10:00:00Z', 500_000_000n));
  // Across a minute, an hour, a day, a year.
  assert.equal(at('2026-11-25T10:00:59.1Z'), utcNs('2026-11-25T10:00:59Z', 100_000_000n));
  assert.equal(at('2026-11-25T10:01:00.1Z'), utcNs('2026-11-25T10:01:00Z', 100_000_000n));
  assert.equal(at('2026-12-31T23:59:59.1Z'), utcNs('2026-12-31T23:59:59Z', 100_000_000n));
  assert.equal(at('2027-01-01T00:00:00.1Z'), utcNs('2027-01-01T00:00:00Z', 100_000_000n));
  // A leap second (:60) is the next minute's first second, as before.
  assert.equal(at('2016-12-31T23:59:60.5Z'), utcNs('2017-01-01T00:00:00Z', 500_000_000n));
  assert.equal(at('2016-12-31T23:59:60.25Z'), utcNs('2017-01-01T00:00:00Z', 250_000_000n));
  // A valid prefix followed by a bad ending is still not a time; the next good one still is.
  assert.equal(at('2016-12-31T23:59:60.25'), NOT_A_TIME);
  assert.equal(at('2016-12-31T23:59:60.Z'), NOT_A_TIME);
  assert.equal(at('2016-12-31T23:59:60.25+0100'), NOT_A_TIME);
  assert.equal(at('2016-12-31T23:59:60.25Z'), utcNs('2017-01-01T00:00:00Z', 250_000_000n));
  // A bad prefix after a good one is not taken for it.
  assert.equal(at('2016-12-31T23:59:61.25Z'), NOT_A_TIME);
  assert.equal(at('2016-13-31T23:59:60.25Z'), NOT_A_TIME);
  assert.equal(at('\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0Z'), NOT_A_TIME);
  // 't' and ' ' for 'T' are the same second.
  assert.equal(at('2016-12-31t23:59:60.25Z'), utcNs('2017-01-01T00:00:00Z', 250_000_000n));
  assert.equal(at('2016-12-31 23:59:60.25Z'), utcNs('2017-01-01T00:00:00Z', 250_000_000n));
});

test('scan reads a time where it starts and says where it ends, never past its limit', () => {
  const p = new Rfc3339Parser();
  const line = bytes('2026-11-25T10:00:00.123Z stdout F x');
  assert.equal(p.scan(line, 0, line.length), utcNs('2026-11-25T10:00:00Z', 123_000_000n));
  assert.equal(p.end, 24);
  // The limit cuts the fraction or the zone: not a time.
  assert.equal(p.scan(line, 0, 23), NOT_A_TIME);
  assert.equal(p.scan(line, 0, 22), NOT_A_TIME);
  const offset = bytes('2026-11-25T10:00:00+01:00 x');
  assert.equal(p.scan(offset, 0, 24), NOT_A_TIME);
  assert.equal(p.scan(offset, 0, 25), utcNs('2026-11-25T09:00:00Z', 0n));
  assert.equal(p.end, 25);
});

test('a CRI time ending at the 40th byte or later is not one (its space must come within 40 bytes)', () => {
  const decode = (s: string) => {
    const out: DecodedCriLine = { time: 0n, stream: STDOUT, partial: false, contentStart: 0, contentEnd: 0 };
    return decodeCriLine(bytes(s), 0, s.length, new Rfc3339Parser(), out) ? out : undefined;
  };
  assert.equal(decode('2026-11-25T10:00:00.1234567890123456789Z stdout F x'), undefined);
  assert.equal(decode('2026-11-25T10:00:00.123456789012345678Z stdout F x')?.time, utcNs('2026-11-25T10:00:00Z', 123_456_789n));
});

test('property: one parser over any sequence of times agrees with a fresh parser for each', () => {
  const prefix = fc.tuple(fc.constantFrom('2016-12-31', '2026-11-25', '1970-01-01', '2024-02-29', '2026-13-01'), fc.constantFrom('T', 't', ' ', 'x'), fc.constantFrom('23:59:59', '23:59:60', '00:00:00', '10:00:0a', '24:00:00'));
  const fraction = fc.oneof(fc.constant(''), fc.constant('.'), fc.stringMatching(/^\.[0-9]{1,12}$/));
  const zone = fc.constantFrom('Z', 'z', '+00:00', '+01:30', '-06:00', '+0100', '', '+24:00');
  const time = fc.tuple(prefix, fraction, zone).map(([[d, t, h], f, z]) => `${d}${t}${h}${f}${z}`);
  fc.assert(
    fc.property(fc.array(time, { minLength: 1, maxLength: 30 }), (times) => {
      const shared = new Rfc3339Parser();
      for (const s of times) assert.equal(shared.parse(bytes(s), 0, s.length), fresh(s), s);
    }),
    runs(500),
  );
});

test('property: a CRI line is told by where its time ends as it was by its first space within 40 bytes', () => {
  // The former reading: the first space from byte 20 to 39, and the bytes before it a whole time.
  const timeBefore = (b: Buffer): bigint => {
    for (let i = 20; i < Math.min(b.length, 40); i++) if (b[i] === 0x20) return fresh(b.toString('latin1', 0, i));
    return NOT_A_TIME;
  };
  const piece = fc.constantFrom('2026-11-25T10:00:00', '2016-12-31T23:59:60', '2026-11-25 10:00:0', '.', '.123456789', '0000000000', 'Z', '+01:00', ' ', 'stdout F x', ' stdout F', '-');
  const shared = new Rfc3339Parser();
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
      const b = bytes(pieces.join(''));
      const out: DecodedCriLine = { time: 0n, stream: STDOUT, partial: false, contentStart: 0, contentEnd: 0 };
      const before = timeBefore(b);
      const ok = decodeCriLine(b, 0, b.length, shared, out);
      if (ok) assert.equal(out.time, before, pieces.join(''));
      else if (before !== NOT_A_TIME) {
        // The time was one: what follows its space is not a stream and a tag.
        const rest = b.toString('latin1', b.indexOf(0x20, 20) + 1);
        assert.doesNotMatch(rest, /^(stdout|stderr) [PF]((:[^ ]*)?( |$)|$)/, pieces.join(''));
      }
    }),
    runs(1000),
  );
});
