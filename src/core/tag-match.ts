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
    const re = new RegExp('^' + pattern.split('*').map(escapeRegex).join('.*') + '$', 's');
    return new TagMatcher(pattern, (tag) => re.test(tag));
  }

  static regex(pattern: string): TagMatcher {
    const re = new RegExp(pattern);
    return new TagMatcher(pattern, (tag) => re.test(tag));
  }

  matches(tag: string): boolean {
    return this.test(tag);
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
