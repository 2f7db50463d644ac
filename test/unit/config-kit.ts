/** Helpers shared by the config tests: files in a temporary folder, a parser registry that records what it is given. */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ConfigProblem } from '../../src/config/errors.js';
import { loadConfig, type LoadOptions, type LoadResult } from '../../src/config/load.js';
import type { PluginRegistry } from '../../src/core/registry-types.js';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';

/** Writes `files` (relative paths → text) under a new temporary folder, removed after the test; returns the folder. */
export function writeFiles(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'floki-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The real registry, keeping every spec a front-end gave it, so tests can see what the front-ends read. */
export class RecordingParsers extends ParserRegistry {
  readonly defined: ParserSpec[] = [];
  readonly definedMultiline: ParserSpec[] = [];

  override define(spec: ParserSpec): ConfigProblem[] {
    this.defined.push(spec);
    return super.define(spec);
  }

  override defineMultiline(spec: ParserSpec): ConfigProblem[] {
    this.definedMultiline.push(spec);
    return super.defineMultiline(spec);
  }

  /** `name` of each definition, in order. */
  static names(specs: readonly ParserSpec[]): string[] {
    return specs.map((s) => s.entries.find((e) => e.key === 'name')?.value ?? '?');
  }
}

export interface Loaded extends LoadResult {
  parsers: RecordingParsers;
}

export function load(path: string, registry: PluginRegistry, options: LoadOptions = {}): Loaded {
  const parsers = new RecordingParsers();
  const result = loadConfig(path, registry, { environment: {}, stockFiles: new Map(), parsers: () => parsers, ...options });
  return { ...result, parsers };
}

export const lines = (ps: readonly ConfigProblem[]): string[] => ps.map((p) => `${p.file}:${p.line}: ${p.message}`);

/** The problems of a config that must be refused. */
export function refused(path: string, registry: PluginRegistry, options: LoadOptions = {}): string[] {
  const r = load(path, registry, options);
  assert.equal(r.config, undefined, `expected the config to be refused; warnings: ${lines(r.warnings).join('\n')}`);
  return lines(r.problems);
}

/** A config that must load; returns it with its warnings. */
export function loaded(path: string, registry: PluginRegistry, options: LoadOptions = {}): Loaded & { config: NonNullable<LoadResult['config']> } {
  const r = load(path, registry, options);
  assert.ok(r.config, `expected the config to load:\n${lines(r.problems).join('\n')}`);
  return r as Loaded & { config: NonNullable<LoadResult['config']> };
}
