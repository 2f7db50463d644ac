// Counts the entries of a Loki JSON push, `{"streams":[{"stream":{…},"values":[["<ns>","<line>"],…]},…]}`,
// as Fluent Bit's out_loki sends it (one stream per record) and floki's `compress json_gzip`.
//
// JSON.parse would cost the sink about 5 µs an event on W1's records, CPU taken from the process under
// test on a 2-core machine, so compact bodies are scanned instead: inside a JSON string every `"` is
// escaped, so the two bytes `["` occur only where an entry `["<ns>","<line>"…]` opens, and
// `{"stream":{` only where a stream does. Each opening must be followed by digits and `","`, else the
// body is not laid out as assumed and is parsed after all. Bodies that do not start compact
// (`{"streams":[`, no whitespace) are parsed too.

import { checkSeq, ESCAPED } from './seq-check.js';

const COMPACT_START = Buffer.from('{"streams":[');
const ENTRY_OPEN = Buffer.from('["');
const STREAM_OPEN = Buffer.from('{"stream":{');
const QUOTE = 0x22;
const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Counts streams and entries of `body` into `counter`; with `verify`, checks each line's sequence number. */
export function walkJsonPush(body, counter, verify) {
  if (!body.subarray(0, COMPACT_START.length).equals(COMPACT_START) || !scanCompact(body, counter, verify)) parseJson(body, counter, verify);
}

/** Returns false, having counted nothing, if the body is not laid out as assumed. */
function scanCompact(body, counter, verify) {
  const opens = [];
  const lineStarts = [];
  for (let p = body.indexOf(ENTRY_OPEN); p >= 0; p = body.indexOf(ENTRY_OPEN, p)) {
    opens.push(p);
    let q = p + ENTRY_OPEN.length;
    const digits = q;
    while (q < body.length && body[q] >= DIGIT_0 && body[q] <= DIGIT_9) q++;
    if (q === digits || body[q] !== QUOTE || body[q + 1] !== COMMA || body[q + 2] !== QUOTE) return false;
    lineStarts.push(q + 3);
    p = q + 3;
  }
  let streams = 0;
  for (let p = body.indexOf(STREAM_OPEN); p >= 0; p = body.indexOf(STREAM_OPEN, p + STREAM_OPEN.length)) streams++;
  counter.streams += streams;
  counter.entries += lineStarts.length;
  // A line ends before the next entry opens: a line without its own number must not borrow the next one's.
  if (verify) for (let i = 0; i < lineStarts.length; i++) checkSeq(body, lineStarts[i], opens[i + 1] ?? body.length, counter, ESCAPED);
  return true;
}

function parseJson(body, counter, verify) {
  const json = JSON.parse(body.toString('utf8'));
  for (const s of json.streams ?? []) {
    counter.streams++;
    for (const v of s.values ?? []) {
      counter.entries++;
      if (verify) {
        const line = Buffer.from(String(v[1]));
        counter.lineBytes += line.length;
        checkSeq(line, 0, line.length, counter);
      }
    }
  }
}
