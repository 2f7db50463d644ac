/**
 * Reading YAML nodes into the config model: values, lines, and the map of one plugin (with its
 * `processors`).
 */
import type { Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import { isMap, isScalar, isSeq } from './lib.js';
import type { ConfigProblem } from '../../errors.js';
import type { ConfigEntry, ConfigValue, PluginKind, PluginSection, RefusedSection } from '../../model.js';

export class YamlFile {
  constructor(
    readonly path: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly problems: ConfigProblem[],
    readonly refused: RefusedSection[],
  ) {}

  lineOf(node: Node | null | undefined): number {
    return node?.range ? this.lines.linePos(node.range[0]).line : 0;
  }

  problem(node: Node | null | undefined, message: string): void {
    this.problems.push({ file: this.path, line: this.lineOf(node), message });
  }

  /** A node as a plain value, aliases resolved; a YAML alias bomb ends here as a problem, not an exception. */
  value(node: Node | null | undefined): ConfigValue {
    if (node === null || node === undefined) return null;
    if (isScalar(node)) return node.value as ConfigValue;
    try {
      return node.toJS(this.doc, { maxAliasCount: 100 }) as ConfigValue;
    } catch (err) {
      this.problem(node, `cannot read this value: ${(err as Error).message}`);
      return null;
    }
  }

  /** The entries of a map, keys as written, lines of the keys. */
  entries(map: YAMLMap, skip: (key: string) => boolean = () => false): ConfigEntry[] {
    const out: ConfigEntry[] = [];
    for (const pair of map.items) {
      const key = keyOf(pair);
      if (skip(key.toLowerCase())) continue;
      out.push({ key, value: this.value(pair.value as Node | null), file: this.path, line: this.lineOf((pair.key as Node) ?? map) });
    }
    return out;
  }

  /** One item of `pipeline.inputs`/`filters`/`outputs`, or a processor (`kind` filter). */
  plugin(node: Node, kind: PluginKind, where: string, processorsAllowed: boolean): PluginSection | undefined {
    if (!isMap(node)) {
      this.problem(node, `${where}: expected a map with 'name' and the plugin's keys`);
      return undefined;
    }
    const section: PluginSection = {
      kind,
      file: this.path,
      line: this.lineOf(node),
      entries: this.entries(node, (k) => processorsAllowed && k === 'processors'),
      processors: [],
    };
    if (processorsAllowed) {
      const processors = pairOf(node, 'processors');
      if (processors) section.processors = this.processors(processors, where);
    }
    return section;
  }

  /** `processors:` of an input or output: `logs:` lists filters; other signals floki does not carry. */
  private processors(pair: Pair, where: string): PluginSection[] {
    const node = pair.value as Node | null;
    if (!isMap(node)) {
      this.problem(node ?? (pair.key as Node), `${where}: 'processors' must be a map of signals (logs) to lists of processors`);
      return [];
    }
    const out: PluginSection[] = [];
    for (const signalPair of node.items) {
      const signal = keyOf(signalPair).toLowerCase();
      const list = signalPair.value as Node | null;
      if (signal !== 'logs') {
        this.refused.push({
          name: `${where}: processors.${signal}`,
          file: this.path,
          line: this.lineOf(signalPair.key as Node),
          reason: 'floki carries logs only',
        });
        continue;
      }
      if (!isSeq(list)) {
        this.problem(list ?? (signalPair.key as Node), `${where}: 'processors.logs' must be a list of processors, each a map with 'name'`);
        continue;
      }
      list.items.forEach((item, i) => {
        const p = this.plugin(item as Node, 'filter', `${where}.processors.logs[${i}]`, false);
        if (p) out.push(p);
      });
    }
    return out;
  }
}

export function keyOf(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  for (const p of map.items) if (keyOf(p).toLowerCase() === key) return p as Pair;
  return undefined;
}

/** A scalar as the string a classic file would hold (`on`, `1000`). */
export function scalarText(value: ConfigValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
