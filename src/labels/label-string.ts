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

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * The pairs of a label string this module rendered, as an object (the JSON push format wants the
 * stream as a map; the limits look at each pair). Throws on text it did not render. Scans with
 * indexOf, so a long value (a 2 MiB one, before the limits take it out) costs a copy, not a regex walk.
 */
export function parseLabelString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (s[0] !== '{') throw new Error(`label string must start with '{': ${preview(s)}`);
  if (s === '{}') return out;
  let i = 1;
  for (;;) {
    while (s.charCodeAt(i) === 0x20) i++;
    const eq = s.indexOf('="', i);
    const name = eq < 0 ? '' : s.slice(i, eq);
    if (!NAME.test(name)) throw new Error(`bad label string: ${preview(s)}`);
    let close = eq + 2;
    for (;;) {
      close = s.indexOf('"', close);
      if (close < 0) throw new Error(`bad label string: ${preview(s)}`);
      let slashes = 0;
      while (s.charCodeAt(close - 1 - slashes) === 0x5c) slashes++;
      if (slashes % 2 === 0) break;
      close++;
    }
    const raw = s.slice(eq + 2, close);
    out[name] = raw.includes('\\') ? raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : raw;
    i = close + 1;
    while (s.charCodeAt(i) === 0x20) i++;
    if (s[i] === '}' && i === s.length - 1) return out;
    if (s[i] !== ',') throw new Error(`bad label string: ${preview(s)}`);
    i++;
  }
}

function preview(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
