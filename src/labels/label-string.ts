/**
 * The Prometheus-style label string Loki takes as a stream's identity: `{a="b", c="d"}`. Pairs are
 * sorted by name so one label set always renders to one string (the batcher groups streams by it).
 */

const NEEDS_ESCAPE = /[\\"\n]/;

/** Escape a label value the way Loki's (PromQL's) parser reads a double-quoted string. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') out += '\\\\';
    else if (c === '"') out += '\\"';
    else if (c === '\n') out += '\\n';
    else out += c;
  }
  return out;
}

/** Render name/value pairs (names already valid, values non-empty) sorted by name. */
export function renderLabelString(labels: ReadonlyMap<string, string>): string {
  const names = [...labels.keys()].sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (i > 0) out += ', ';
    out += `${name}="${escapeLabelValue(labels.get(name)!)}"`;
  }
  return `${out}}`;
}

const PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|})/y;

/**
 * The pairs of a label string this module rendered, as an object (the JSON push format wants the
 * stream as a map). Throws on text it did not render.
 */
export function parseLabelString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (s[0] !== '{') throw new Error(`label string must start with '{': ${s}`);
  if (s === '{}') return out;
  PAIR.lastIndex = 1;
  for (;;) {
    const m = PAIR.exec(s);
    if (!m) throw new Error(`bad label string: ${s}`);
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (m[3] === '}') return out;
  }
}
