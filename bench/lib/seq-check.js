// Reads the sequence number an entry's line carries and marks it seen in the sink's counter: the
// exporter events' metadata.name suffix (bench/lib/events.js), or `seq=<16 hex>` in the tail
// workloads' application lines (bench/lib/tail-load.js).

/** Exporter events: metadata.name is the line's first "name" key and ends in the sequence number. */
const NAME_MARKER = Buffer.from('"name":"');
/** Lines that are not exporter events (the tail workloads' application lines) carry `seq=<16 hex>`. */
const SEQ_MARKER = Buffer.from('seq=');
const SEQ_DIGITS = 16;
const HEX16 = /^[0-9a-f]{16}$/;

/** Where the sequence number sits in a line as it is, and in a line escaped inside a JSON string. */
export const PLAIN = { name: NAME_MARKER, close: Buffer.from('"') };
export const ESCAPED = { name: Buffer.from('\\"name\\":\\"'), close: Buffer.from('\\"') };
/** How far into a line metadata.name is looked for, and `seq=` first (it usually comes first). */
const HEAD_BYTES = 256;

/**
 * Reads the sequence number of the line at buf[start, end) and marks it seen; `markers` says how
 * quotes look (PLAIN, or ESCAPED for a line still inside a JSON string, whose end is not known).
 */
export function checkSeq(buf, start, end, counter, markers = PLAIN) {
  // metadata.name is the line's first "name" key; look only near the start.
  const head = buf.subarray(start, Math.min(end, start + HEAD_BYTES));
  let seq = -1;
  const at = head.indexOf(markers.name);
  if (at >= 0) {
    const from = start + at + markers.name.length;
    const close = buf.indexOf(markers.close, from);
    if (close > from + SEQ_DIGITS && close <= end) seq = parseInt(buf.toString('latin1', close - SEQ_DIGITS, close), 16);
  } else {
    // Near the start, else anywhere in the line: a Python traceback joined by multiline carries its
    // number in its last line (the exception), past the head.
    let s = head.indexOf(SEQ_MARKER);
    if (s < 0 && end > start + HEAD_BYTES) {
      s = buf.subarray(start, end).indexOf(SEQ_MARKER, HEAD_BYTES - SEQ_MARKER.length);
    }
    if (s >= 0 && start + s + SEQ_MARKER.length + SEQ_DIGITS <= end) {
      const from = start + s + SEQ_MARKER.length;
      const digits = buf.toString('latin1', from, from + SEQ_DIGITS);
      // All 16 digits, or none: a line cut inside its number (the first piece's digits run into what
      // follows the line) must not count as some other number.
      if (HEX16.test(digits)) seq = parseInt(digits, 16);
    }
  }
  if (seq >= 0 && seq < counter.expected) {
    if (counter.seen[seq]) counter.duplicates++;
    else {
      counter.seen[seq] = 1;
      counter.unique = (counter.unique ?? 0) + 1;
    }
    return;
  }
  counter.unknown++;
}
