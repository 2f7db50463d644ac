/**
 * Tag matching as Fluent Bit routes: `match` is a pattern where `*` stands for any run of characters
 * (dots included), everything else is literal and case-sensitive; `match_regex` is a regular expression
 * tested against the whole tag.
 */
export class TagMatcher {
  private constructor(
    readonly source: string,
    private readonly test: (tag: string) => boolean,
  ) {}

  static wildcard(pattern: string): TagMatcher {
    if (pattern === '*') return new TagMatcher(pattern, () => true);
    if (!pattern.includes('*')) return new TagMatcher(pattern, (tag) => tag === pattern);
    const parts = pattern.split('*');
    return new TagMatcher(pattern, (tag) => wildcardMatches(parts, tag));
  }

  static regex(pattern: string): TagMatcher {
    const re = new RegExp(pattern);
    return new TagMatcher(pattern, (tag) => re.test(tag));
  }

  matches(tag: string): boolean {
    return this.test(tag);
  }
}

/**
 * Whether `tag` is `parts` joined by runs of any characters: the first part a prefix, the last a
 * suffix, the others found in order, each at its leftmost place (which is never worse for the parts
 * after it). Linear in the tag's length for each part, where a regular expression `^a.*b.*c$`
 * backtracks in a power of it: tags come from the wire, and a 4 KB one took 20 s against `a*a*a*b`.
 */
function wildcardMatches(parts: readonly string[], tag: string): boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (tag.length < first.length + last.length || !tag.startsWith(first) || !tag.endsWith(last)) return false;
  const end = tag.length - last.length;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (part.length === 0) continue;
    const found = tag.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}
