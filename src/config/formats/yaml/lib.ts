/**
 * The `yaml` package, required for the reading of a config and let go after it. Its 70-odd modules
 * are needed only while a YAML file is read (at start and at a reload); imported as a module they
 * stayed in an idle process's heap for good. Each read requires it (from Node's module cache if a
 * read is under way) and, once the outermost read is done, removes it from that cache: nothing else
 * holds it, and the next full collection frees it. The config model keeps no yaml object.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;
let reads = 0;

function yaml(): typeof Yaml {
  // A new require each time: the module it makes as the parent of `yaml` is let go with it.
  return (lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}

export const isMap = (node: unknown): node is Yaml.YAMLMap => yaml().isMap(node);
export const isSeq = (node: unknown): node is Yaml.YAMLSeq => yaml().isSeq(node);
export const isScalar = (node: unknown): node is Yaml.Scalar => yaml().isScalar(node);

export function parseDocument(text: string, options: Yaml.ParseOptions & Yaml.DocumentOptions & Yaml.SchemaOptions): Yaml.Document.Parsed {
  return yaml().parseDocument(text, options);
}

export function newLineCounter(): Yaml.LineCounter {
  return new (yaml().LineCounter)();
}

/** Runs a read (which may read included files: reads nest) and lets the package go after the outermost one. */
export function withYaml<T>(read: () => T): T {
  reads++;
  try {
    return read();
  } finally {
    if (--reads === 0) release();
  }
}

function release(): void {
  if (lib === undefined) return;
  lib = undefined;
  const cache = createRequire(import.meta.url).cache;
  for (const key of Object.keys(cache)) if (/[\\/]node_modules[\\/]yaml[\\/]/.test(key)) delete cache[key];
}
