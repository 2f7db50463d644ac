/**
 * How Fluent Bit cuts a rule's value into words. Three readers, each used by different filters, and
 * each with its own quoting: a config must mean what it meant in Fluent Bit, so each is kept as is.
 */

/** grep's `KEY REGEX`: the first word, then everything after the space that ends it (flb_utils_split, 1). */
export function firstWordAndRest(value: string): string[] {
  let i = 0;
  while (value[i] === ' ') i++;
  const space = value.indexOf(' ', i);
  if (space < 0) return i < value.length ? [value.slice(i)] : [];
  const rest = value.slice(space + 1);
  return rest.length > 0 ? [value.slice(i, space), rest] : [value.slice(i, space)];
}

/**
 * modify's words (flb_utils_split_quoted with a maximum): words are separated by spaces; a word may be
 * quoted with `"` or `'`, inside which `\"`, `\'` and `\\` stand for the character. After `max` words,
 * the rest of the value is one more word. Returns undefined for an unclosed quote.
 */
export function quotedWords(value: string, max: number): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ') i++;
    const quote = value[i];
    if (quote === '"' || quote === "'") {
      let word = '';
      let j = i + 1;
      for (;;) {
        if (j >= value.length) return undefined;
        const c = value[j]!;
        if (c === '\\' && (value[j + 1] === quote || value[j + 1] === '\\')) {
          word += value[j + 1];
          j += 2;
        } else if (c === quote) break;
        else {
          word += c;
          j++;
        }
      }
      words.push(word);
      i = j;
    } else {
      const space = value.indexOf(' ', i);
      const end = space < 0 ? value.length : space;
      words.push(value.slice(i, end));
      i = end;
    }
    // One character after a word's end (its separator, or a closing quote) is skipped.
    i++;
    if (words.length >= max && i < value.length) {
      words.push(value.slice(i));
      break;
    }
  }
  return words;
}

/**
 * The words of a list option such as record_modifier's `record`, rewrite_tag's `rule` and
 * type_converter's keys (flb_slist_split_tokens with a maximum): separated by spaces; a word may be
 * quoted with `"`, inside which `\"` stands for `"`. After `max` words, the rest (spaces before it
 * skipped) is one more word.
 */
export function listWords(value: string, max: number): string[] {
  const words: string[] = [];
  let p = 0;
  for (;;) {
    while (value[p] === ' ') p++;
    if (p >= value.length) break;
    let start = p;
    let quoted = false;
    if (value[p] === '"') {
      quoted = true;
      start = ++p;
      for (;;) {
        while (p < value.length && value[p] !== '"') p++;
        if (p >= value.length || value[p - 1] !== '\\') break;
        p++;
      }
    } else {
      while (p < value.length && value[p] !== ' ') p++;
    }
    if (p >= value.length) {
      // An unclosed quote keeps the rest as it is.
      words.push(value.slice(start));
      break;
    }
    const word = value.slice(start, p);
    words.push(quoted ? word.replace(/\\"/g, '"') : word);
    p++;
    while (value[p] === ' ') p++;
    if (words.length >= max) {
      if (p < value.length) words.push(value.slice(p));
      break;
    }
  }
  return words;
}
