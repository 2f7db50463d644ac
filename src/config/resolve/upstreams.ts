/**
 * The forward output's `upstream`, as Fluent Bit's configs give it, bound to the nodes it names before
 * the plugins' options are checked:
 *
 * - the name of an `upstream_servers` entry of the (YAML) config itself, as Fluent Bit's docs describe
 *   (Fluent Bit 5.1.1 itself looks for a file by that name);
 * - else the path of an upstream file, as Fluent Bit reads it: `[UPSTREAM]` with `[NODE]`s, or YAML
 *   `upstream_servers` for a name ending in .yaml/.yml (the last entry counts). A relative path is
 *   taken from the folder of the file that names it, then the main file's (Fluent Bit: the main file's).
 *
 * The output's `upstream` entry then holds `{name, nodes: [{key: value}]}`, the form the forward output
 * reads, and remembers the upstream it came from, so a mistake the output finds in a node is reported
 * at that node's file and line (see `upstreamProblemAt`).
 */
import type { ConfigFiles } from '../files.js';
import { folderOf, resolveAgainst } from '../files.js';
import { readUpstreamFile } from '../formats/index.js';
import { entriesOf, type ConfigEntry, type ConfigModel, type ConfigValue, type UpstreamSpec } from '../model.js';
import { UpstreamNodeError } from '../upstream-error.js';
import type { Variables } from '../variables.js';
import type { Report } from './report.js';

/** An output's `upstream` entry once bound: its value is the nodes, `upstream` where they were written. */
export interface BoundUpstreamEntry extends ConfigEntry {
  upstream: UpstreamSpec;
}

export function bindUpstreams(model: ConfigModel, variables: Variables, files: ConfigFiles, report: Report): void {
  const own = new Set(model.upstreams);
  const used = new Set<UpstreamSpec>();
  const read = new Map<string, UpstreamSpec | undefined>();
  const main = folderOf(model.file);
  for (const section of model.outputs) {
    const entries = entriesOf(section, 'upstream');
    const entry = entries[entries.length - 1];
    // Nodes written inline (YAML) are the output's to check; a key given twice is the resolver's error.
    if (entry === undefined || entries.length > 1 || typeof entry.value !== 'string') continue;
    const expanded = variables.expand(entry.value);
    if ('error' in expanded) continue;
    const ref = expanded.value.trim();
    if (ref === '') continue;
    let spec = model.upstreams.find((u) => u.name === ref);
    if (spec === undefined) {
      const path = resolveAgainst(files, ref, [folderOf(entry.file), main]);
      if (!read.has(path) && model.format === 'yaml' && !files.exists(path)) {
        report.problem(entry, `upstream: '${ref}' is neither an upstream_servers name of this config nor a file (${path})`);
        read.set(path, undefined);
      }
      if (!read.has(path)) {
        const result = readUpstreamFile(path, files, { file: entry.file, line: entry.line, what: `upstream` });
        for (const p of result.problems) report.problem(p, p.message);
        model.files.push(...result.files.filter((f) => !model.files.includes(f)));
        read.set(path, result.problems.length === 0 ? result.upstream : undefined);
      }
      spec = read.get(path);
      if (spec === undefined) continue;
    }
    used.add(spec);
    const index = section.entries.indexOf(entry);
    if (!nodesExpand(spec, variables, report)) {
      // Reported at the nodes' lines; the output is not checked against half an upstream.
      section.entries.splice(index, 1);
      continue;
    }
    const bound: BoundUpstreamEntry = { ...entry, value: upstreamValue(spec, report), upstream: spec };
    section.entries[index] = bound;
  }
  for (const u of own) if (!used.has(u)) report.warning(u, `upstream_servers: '${u.name}' is not used by any output's 'upstream'`);
}

/**
 * Where a mistake the output found in a bound upstream's node is: the line of the key at fault, else
 * the node's; undefined for any other error.
 */
export function upstreamProblemAt(err: unknown, entry: ConfigEntry | undefined): { file: string; line: number } | undefined {
  if (!(err instanceof UpstreamNodeError) || entry === undefined || !('upstream' in entry)) return undefined;
  const node = (entry as BoundUpstreamEntry).upstream.nodes[err.node];
  if (node === undefined) return undefined;
  const key = err.key === undefined ? undefined : node.entries.find((e) => e.key.toLowerCase() === err.key);
  return key ?? node;
}

/** Reports every node value whose variables cannot be replaced, at its line; true when there is none. */
function nodesExpand(spec: UpstreamSpec, variables: Variables, report: Report): boolean {
  let ok = true;
  for (const node of spec.nodes) {
    for (const e of node.entries) {
      const r = variables.expandDeep(e.value);
      if ('error' in r) {
        report.problem(e, `upstream '${spec.name}': node key '${e.key}': ${r.error}`);
        ok = false;
      }
    }
  }
  return ok;
}

/** The upstream as the forward output's `upstream` option: `{name, nodes}`, each node's keys in a map. */
function upstreamValue(spec: UpstreamSpec, report: Report): ConfigValue {
  const nodes = spec.nodes.map((node) => {
    const keys: { [key: string]: ConfigValue } = {};
    const seen = new Set<string>();
    for (const e of node.entries) {
      const key = e.key.toLowerCase();
      if (seen.has(key)) report.problem(e, `upstream '${spec.name}': node key '${e.key}' is set twice`);
      seen.add(key);
      keys[key] = e.value;
    }
    return keys;
  });
  return { name: spec.name, nodes };
}
