/**
 * A string as JSON text, exactly as JSON.stringify prints it (LineArena.jsonString writes with these what its word copy leaves: controls written as \u00XX, lone surrogates, very long strings).
 *
 * Node 20's V8 prints a string char by char through a growing builder: about 4 ns a char, the
 * largest cost of a W2 line (issue #12). Most log text needs at most `"` and `\` escaped; native
 * searches find those and the text is pieced from slices of the string, about twice as fast. A string
 * holding a control character or any surrogate (JSON.stringify escapes lone ones) is left to
 * JSON.stringify.
 */

/** What JSON.stringify escapes beyond `"` and `\`, and surrogates (paired ones too: the rare case is not worth telling apart). */
const HARD = /[\u0000-\u001f\ud800-\udfff]/;

/** Anything but printable ASCII and DEL: a string without is its own latin1 bytes, and JSON.stringify escapes only `"` and `\` in it. */
const NOT_PLAIN_ASCII = /[^\u0020-\u007f]/;

/** Whether `s` holds only printable ASCII (and DEL): its UTF-8 bytes are its characters, and only `"` and `\` need escaping. */
export function isPlainAscii(s: string): boolean {
  return !NOT_PLAIN_ASCII.test(s);
}

/** Whether JSON.stringify escapes something in `s` other than `"` and `\` (or `s` holds a surrogate). */
export function needsJsonStringify(s: string): boolean {
  return HARD.test(s);
}

/**
 * JSON.stringify's text of a string that needsJsonStringify found nothing in, given the index of its
 * first `"` (`q`) and of its first `\` (`b`), -1 for none.
 */
export function quoteEscaped(s: string, q: number, b: number): string {
  let out = '"';
  let last = 0;
  while (q >= 0 || b >= 0) {
    let i: number;
    if (b < 0 || (q >= 0 && q < b)) {
      i = q;
      q = s.indexOf('"', i + 1);
    } else {
      i = b;
      b = s.indexOf('\\', i + 1);
    }
    // The piece up to the character, a backslash; the character starts the next piece.
    out += s.slice(last, i) + '\\';
    last = i;
  }
  return out + s.slice(last) + '"';
}
