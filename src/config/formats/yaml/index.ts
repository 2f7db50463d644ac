/**
 * Fluent Bit's YAML format into the config model: `env` (a map, or a list of `name` with `value` or a
 * `file://` `uri`), `includes` (relative to the including file), `service`, `pipeline` (inputs,
 * filters, outputs; `processors: logs:` on inputs and outputs), `parsers`, `multiline_parsers` and
 * `upstream_servers`. `plugins` and `customs` are kept as refused sections, `extensions` ignored,
 * as Fluent Bit does. Sections of included files, and sections given twice, add up.
 */
import type { Node, YAMLMap } from 'yaml';
import { isMap, isScalar, isSeq, newLineCounter, parseDocument, withYaml } from './lib.js';
import { resolve } from 'node:path';
import type { ConfigProblem } from '../../errors.js';
import { ConfigFileError, folderOf, resolveAgainst, type ConfigFiles } from '../../files.js';
import { emptyModel, type ConfigModel, type ConfigSection, type UpstreamSpec } from '../../model.js';
import type { MultilineRuleSpec, ParserSpec, ParserSpecEntry } from '../../../parsers/registry.js';
import type { FrontEndResult, NamedAt, ParsersFileResult } from '../front-end.js';
import { keyOf, pairOf, scalarText, YamlFile } from './nodes.js';

const SECTIONS = 'env, includes, service, pipeline, parsers, multiline_parsers, upstream_servers';
const ROOT_SHAPE = {
  main: 'the config must be a map with service and pipeline',
  parsers: 'a parsers file must be a map with parsers and multiline_parsers',
  upstream: 'an upstream file must be a map with upstream_servers',
} as const;
const REFUSED: Record<string, string> = {
  plugins: 'external plugins (.so) cannot be loaded by floki',
  customs: 'custom plugins are not supported by floki',
};
const IGNORED: Record<string, string> = {
  extensions: 'settings for other tools; Fluent Bit ignores them too',
};

interface Walk {
  files: ConfigFiles;
  seen: Set<string>;
  problems: ConfigProblem[];
}

export function readYamlConfig(path: string, files: ConfigFiles): FrontEndResult {
  const model = emptyModel(path, 'yaml');
  const walk: Walk = { files, seen: new Set(), problems: [] };
  withYaml(() => readFile(resolve(path), undefined, model, walk, 'main'));
  return { model, problems: walk.problems };
}

/** A parsers file (`parsers_file`) in the YAML format: its `parsers` and `multiline_parsers`. */
export function readYamlParsersFile(path: string, files: ConfigFiles, from?: NamedAt): ParsersFileResult {
  const model = emptyModel(path, 'yaml');
  const walk: Walk = { files, seen: new Set(), problems: [] };
  withYaml(() => readFile(resolve(path), from, model, walk, 'parsers'));
  return { parsers: model.parsers, multilineParsers: model.multilineParsers, files: model.files, problems: walk.problems };
}

/**
 * An upstream file in the YAML format (the forward output's `upstream`, a path ending in .yaml): its
 * `upstream_servers`. With several, the last one counts, as in Fluent Bit 5.1.1.
 */
export function readYamlUpstreamFile(path: string, files: ConfigFiles, from?: NamedAt): { upstream?: UpstreamSpec; files: string[]; problems: ConfigProblem[] } {
  const model = emptyModel(path, 'yaml');
  const walk: Walk = { files, seen: new Set(), problems: [] };
  withYaml(() => readFile(resolve(path), from, model, walk, 'upstream'));
  const upstream = model.upstreams[model.upstreams.length - 1];
  if (upstream === undefined && walk.problems.length === 0 && model.files.length > 0) {
    walk.problems.push({ file: resolve(path), line: 1, message: "the upstream file has no 'upstream_servers'" });
  }
  return { upstream, files: model.files, problems: walk.problems };
}

type FileMode = 'main' | 'parsers' | 'upstream';

function readFile(path: string, from: NamedAt | undefined, model: ConfigModel, walk: Walk, mode: FileMode): void {
  const at = from ? { file: from.file, line: from.line } : { file: path, line: 0 };
  const identity = walk.files.identity(path);
  if (walk.seen.has(identity)) {
    walk.problems.push({ ...at, message: `${from?.what ?? 'includes'}: ${path} is already included` });
    return;
  }
  let text: string;
  try {
    text = walk.files.read(path);
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    walk.problems.push({ ...at, message: from ? `${from.what}: ${err.message}` : `cannot read config: ${err.reason}` });
    return;
  }
  walk.seen.add(identity);
  model.files.push(path);

  const lines = newLineCounter();
  // Keys may repeat, as Fluent Bit's YAML reader allows: two `pipeline` sections add up, and a key
  // given twice in one plugin is the resolver's error ("set 2 times"), as in the classic format.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const y = new YamlFile(path, doc, lines, walk.problems, model.refused);
  if (doc.errors.length) {
    for (const e of doc.errors) walk.problems.push({ file: path, line: e.linePos?.[0]?.line ?? 0, message: e.message.split('\n')[0]! });
    return;
  }
  const root = doc.contents as Node | null;
  if (root === null || root === undefined) {
    if (mode === 'main' && !from) walk.problems.push({ file: path, line: 1, message: 'the config is empty: it needs a pipeline' });
    return;
  }
  if (!isMap(root)) {
    y.problem(root, ROOT_SHAPE[mode]);
    return;
  }

  for (const pair of root.items) {
    const key = keyOf(pair).toLowerCase();
    const keyNode = pair.key as Node;
    const value = pair.value as Node | null;
    if (mode === 'upstream') {
      if (key === 'upstream_servers') upstreams(y, value, keyNode, model);
      else y.problem(keyNode, `an upstream file holds upstream_servers, not '${keyOf(pair)}'`);
    } else if (key === 'parsers') parsers(y, value, keyNode, model.parsers);
    else if (key === 'multiline_parsers') multilineParsers(y, value, keyNode, model.multilineParsers);
    else if (mode === 'parsers') y.problem(keyNode, `a parsers file holds parsers and multiline_parsers, not '${key}'`);
    else if (key === 'env') env(y, value, keyNode, model, walk);
    else if (key === 'includes') includes(y, value, keyNode, model, walk);
    else if (key === 'service') {
      if (!isMap(value)) y.problem(value ?? keyNode, "'service' must be a map");
      else model.service.push({ file: path, line: y.lineOf(value), entries: y.entries(value) });
    } else if (key === 'pipeline') pipeline(y, value, keyNode, model);
    else if (key === 'upstream_servers') upstreams(y, value, keyNode, model);
    else if (REFUSED[key]) model.refused.push({ name: key, file: path, line: y.lineOf(keyNode), reason: REFUSED[key]! });
    else if (IGNORED[key]) model.ignored.push({ name: key, file: path, line: y.lineOf(keyNode), reason: IGNORED[key]! });
    else y.problem(keyNode, `unknown section '${keyOf(pair)}' (expected ${SECTIONS})`);
  }
}

function env(y: YamlFile, node: Node | null, keyNode: Node, model: ConfigModel, walk: Walk): void {
  if (isMap(node)) {
    for (const p of node.items) {
      const value = scalarText(y.value(p.value as Node | null));
      if (value === undefined) y.problem((p.value as Node) ?? (p.key as Node), `env: '${keyOf(p)}' must be a string or number`);
      else model.variables.push({ name: keyOf(p), value, file: y.path, line: y.lineOf(p.key as Node) });
    }
    return;
  }
  if (!isSeq(node)) {
    y.problem(node ?? keyNode, "'env' must be a map of names to values, or a list of {name, value} or {name, uri}");
    return;
  }
  for (const item of node.items as Node[]) {
    if (!isMap(item)) {
      y.problem(item, 'env: each item is a map with name and value (or uri)');
      continue;
    }
    const name = scalarText(y.value(pairOf(item, 'name')?.value as Node | null));
    const value = pairOf(item, 'value');
    const uri = pairOf(item, 'uri');
    if (!name) y.problem(item, "env: an item needs a 'name'");
    else if (value && uri) y.problem(item, `env: '${name}' has both value and uri; give one`);
    else if (value) {
      const text = scalarText(y.value(value.value as Node | null));
      if (text === undefined) y.problem(value.value as Node, `env: '${name}': value must be a string or number`);
      else model.variables.push({ name, value: text, file: y.path, line: y.lineOf(item) });
    } else if (uri) {
      const text = fromUri(y, scalarText(y.value(uri.value as Node | null)) ?? '', uri.value as Node, walk);
      if (text !== undefined) model.variables.push({ name, value: text, file: y.path, line: y.lineOf(item) });
    } else y.problem(item, `env: '${name}' needs a value or a uri`);
    for (const p of item.items) {
      const k = keyOf(p).toLowerCase();
      if (k !== 'name' && k !== 'value' && k !== 'uri' && k !== 'refresh_interval') y.problem(p.key as Node, `env: unknown key '${keyOf(p)}' (expected name, value, uri, refresh_interval)`);
    }
  }
}

/** `uri: file:///run/secrets/x`: the file's content, without a final newline; read once (refresh_interval is not followed). */
function fromUri(y: YamlFile, uri: string, node: Node, walk: Walk): string | undefined {
  if (!uri.startsWith('file://')) {
    y.problem(node, `env: uri '${uri}': only file:// URIs are supported`);
    return undefined;
  }
  try {
    return walk.files.read(uri.slice('file://'.length)).replace(/\r?\n$/, '');
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    y.problem(node, `env: uri: ${err.message}`);
    return undefined;
  }
}

function includes(y: YamlFile, node: Node | null, keyNode: Node, model: ConfigModel, walk: Walk): void {
  const items = isSeq(node) ? (node.items as Node[]) : isScalar(node) ? [node] : undefined;
  if (!items) {
    y.problem(node ?? keyNode, "'includes' must be a list of files");
    return;
  }
  for (const item of items) {
    const path = isScalar(item) ? scalarText(item.value as string) : undefined;
    if (!path) {
      y.problem(item, 'includes: each item is a file path');
      continue;
    }
    const full = resolveAgainst(walk.files, path, [folderOf(y.path)]);
    readFile(full, { file: y.path, line: y.lineOf(item), what: 'includes' }, model, walk, 'main');
  }
}

function pipeline(y: YamlFile, node: Node | null, keyNode: Node, model: ConfigModel): void {
  if (!isMap(node)) {
    y.problem(node ?? keyNode, "'pipeline' must be a map with inputs, filters and outputs");
    return;
  }
  for (const pair of node.items) {
    const key = keyOf(pair).toLowerCase();
    const list = pair.value as Node | null;
    if (key !== 'inputs' && key !== 'filters' && key !== 'outputs') {
      y.problem(pair.key as Node, `unknown key 'pipeline.${keyOf(pair)}' (expected inputs, filters or outputs)`);
      continue;
    }
    if (!isSeq(list)) {
      y.problem(list ?? (pair.key as Node), `'${key}' must be a list of plugins, each a map with 'name'`);
      continue;
    }
    const kind = key === 'inputs' ? 'input' : key === 'filters' ? 'filter' : 'output';
    const target = model[key];
    list.items.forEach((item) => {
      const section = y.plugin(item as Node, kind, `${key}[${target.length}]`, kind !== 'filter');
      if (section) target.push(section);
    });
  }
}

function parserList(y: YamlFile, node: Node | null, keyNode: Node, what: string): YAMLMap[] {
  if (!isSeq(node)) {
    y.problem(node ?? keyNode, `'${what}' must be a list of parsers, each a map with 'name'`);
    return [];
  }
  const maps: YAMLMap[] = [];
  for (const item of node.items as Node[]) {
    if (isMap(item)) maps.push(item);
    else y.problem(item, `${what}: each parser is a map with 'name'`);
  }
  return maps;
}

/** A parser's keys as the classic format would hold them: scalars as text, a list as one entry per item. */
function parserEntries(y: YamlFile, map: YAMLMap, skip: string): ParserSpecEntry[] {
  const out: ParserSpecEntry[] = [];
  for (const entry of y.entries(map, (k) => k === skip)) {
    const values = Array.isArray(entry.value) ? entry.value : [entry.value];
    for (const v of values) {
      const text = scalarText(v);
      if (text === undefined) y.problems.push({ file: y.path, line: entry.line, message: `parser key '${entry.key}': expected a string, a number or a list of them` });
      else out.push({ key: entry.key.toLowerCase(), value: text, line: entry.line });
    }
  }
  return out;
}

function parsers(y: YamlFile, node: Node | null, keyNode: Node, out: ParserSpec[]): void {
  for (const map of parserList(y, node, keyNode, 'parsers')) out.push({ file: y.path, line: y.lineOf(map), entries: parserEntries(y, map, '') });
}

function multilineParsers(y: YamlFile, node: Node | null, keyNode: Node, out: ParserSpec[]): void {
  for (const map of parserList(y, node, keyNode, 'multiline_parsers')) {
    const rules: MultilineRuleSpec[] = [];
    const rulesPair = pairOf(map, 'rules');
    if (rulesPair) {
      const list = rulesPair.value as Node | null;
      if (!isSeq(list)) y.problem(list ?? (rulesPair.key as Node), "multiline_parsers: 'rules' must be a list of {state, regex, next_state}");
      else {
        for (const item of list.items as Node[]) {
          const rule = isMap(item) ? ruleOf(y, item) : undefined;
          if (rule) rules.push(rule);
          else if (!isMap(item)) y.problem(item, 'multiline_parsers: each rule is a map with state, regex and next_state');
        }
      }
    }
    out.push({ file: y.path, line: y.lineOf(map), entries: parserEntries(y, map, 'rules'), rules });
  }
}

function ruleOf(y: YamlFile, map: YAMLMap): MultilineRuleSpec | undefined {
  const text = (key: string) => scalarText(y.value(pairOf(map, key)?.value as Node | null));
  const state = text('state');
  const regex = text('regex');
  const next = text('next_state');
  if (state === undefined || regex === undefined) {
    y.problem(map, `multiline_parsers: a rule needs '${state === undefined ? 'state' : 'regex'}'`);
    return undefined;
  }
  return { state, regex, nextState: next ?? '', line: y.lineOf(map) };
}

function upstreams(y: YamlFile, node: Node | null, keyNode: Node, model: ConfigModel): void {
  if (!isSeq(node)) {
    y.problem(node ?? keyNode, "'upstream_servers' must be a list of {name, nodes}");
    return;
  }
  for (const item of node.items as Node[]) {
    if (!isMap(item)) {
      y.problem(item, 'upstream_servers: each item is a map with name and nodes');
      continue;
    }
    const name = scalarText(y.value(pairOf(item, 'name')?.value as Node | null));
    const nodesPair = pairOf(item, 'nodes');
    const nodes: ConfigSection[] = [];
    if (!name) y.problem(item, "upstream_servers: an item needs a 'name'");
    if (!nodesPair || !isSeq(nodesPair.value)) y.problem(item, "upstream_servers: an item needs 'nodes', a list of {name, host, port}");
    else for (const n of nodesPair.value.items as Node[]) {
      if (isMap(n)) nodes.push({ file: y.path, line: y.lineOf(n), entries: y.entries(n) });
      else y.problem(n, 'upstream_servers: each node is a map with name, host and port');
    }
    model.upstreams.push({ name: name ?? '', file: y.path, line: y.lineOf(item), nodes });
  }
}
