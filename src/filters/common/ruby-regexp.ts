/** Ruby regular expressions (Fluentd config values) read by JavaScript's engine. */

/**
 * A Ruby regexp written as a string, as JavaScript reads it. Ruby allows one group name twice (the
 * default tag regexp does, once per alternative) and `md[name]` gives the one that took part in the
 * match: each repeat is renamed here and read back under its name.
 */
export class RubyRegexp {
  private readonly regexp: RegExp;
  private readonly names = new Map<string, string[]>();

  constructor(source: string, key: string) {
    // Ruby: \A \z \Z anchor the string, ^ $ any line (JavaScript's m flag), \h a hex digit.
    let js = source.replace(/\\A/g, '(?<![\\s\\S])').replace(/\\[zZ]/g, '(?![\\s\\S])').replace(/\\h/g, '[0-9a-fA-F]');
    let n = 0;
    js = js.replace(/\(\?<([a-zA-Z_][a-zA-Z0-9_]*)>/g, (_m, name: string) => {
      const alias = `${name}__${n++}`;
      const list = this.names.get(name) ?? [];
      list.push(alias);
      this.names.set(name, list);
      return `(?<${alias}>`;
    });
    try {
      this.regexp = new RegExp(js, 'm');
    } catch (err) {
      throw new Error(`${key}: not a regular expression floki can read: ${(err as Error).message}`);
    }
  }

  /** The named groups of a match (each name: the repeat that matched), or undefined without a match. */
  groups(text: string): Record<string, string | undefined> | undefined {
    const m = this.regexp.exec(text);
    if (m === null) return undefined;
    const out: Record<string, string | undefined> = {};
    for (const [name, aliases] of this.names) {
      let value: string | undefined;
      for (const alias of aliases) value = m.groups![alias] ?? value;
      out[name] = value;
    }
    return out;
  }

  test(text: string): boolean {
    return this.regexp.test(text);
  }
}
