/**
 * Walks a classic file and the files it `@INCLUDE`s, in order, handing each section and entry to a
 * sink. As in Fluent Bit, an included file's entries never continue the including file's section,
 * and the including file's section goes on after the `@INCLUDE` line. A file is read once: including
 * it again (or itself) is an error.
 */
import type { ConfigProblem } from '../../errors.js';
import { ConfigFileError, folderOf, hasWildcard, resolveAgainst, type ConfigFiles } from '../../files.js';
import { scanClassic } from './lines.js';
import type { NamedAt } from '../front-end.js';
import { isAbsolute, resolve } from 'node:path';

/** Receives one entry of the section it was returned for. */
export type EntrySink = (key: string, value: string, file: string, line: number) => void;

export interface ClassicSink {
  /** A section header; returns where its entries go, or undefined to drop them (the sink reported why). */
  section(name: string, file: string, line: number): EntrySink | undefined;
  variable(name: string, value: string, file: string, line: number): void;
}

export interface ClassicRead {
  files: string[];
  problems: ConfigProblem[];
}

export function readClassic(path: string, files: ConfigFiles, sink: ClassicSink, from?: NamedAt): ClassicRead {
  const read: ClassicRead = { files: [], problems: [] };
  const seen = new Set<string>();
  const root = folderOf(path);
  readOne(resolve(path), from, root, files, sink, seen, read);
  return read;
}

function readOne(path: string, from: NamedAt | undefined, root: string, files: ConfigFiles, sink: ClassicSink, seen: Set<string>, read: ClassicRead): void {
  const at = from ? { file: from.file, line: from.line } : { file: path, line: 0 };
  const identity = files.identity(path);
  if (seen.has(identity)) {
    read.problems.push({ ...at, message: `${from?.what ?? '@INCLUDE'}: ${path} is already included` });
    return;
  }
  let text: string;
  try {
    text = files.read(path);
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    read.problems.push({ ...at, message: from ? `${from.what}: ${err.message}` : `cannot read config: ${err.reason}` });
    return;
  }
  seen.add(identity);
  read.files.push(path);
  const scanned = scanClassic(text, path);
  read.problems.push(...scanned.problems);
  let entries: EntrySink | undefined;
  let inSection = false;
  for (const item of scanned.lines) {
    switch (item.type) {
      case 'section':
        inSection = true;
        entries = sink.section(item.name, path, item.line);
        break;
      case 'entry':
        if (!inSection) read.problems.push({ file: path, line: item.line, message: `key '${item.key}' is outside a section` });
        else entries?.(item.key, item.value, path, item.line);
        break;
      case 'set':
        sink.variable(item.name, item.value, path, item.line);
        break;
      case 'include':
        for (const included of includedFiles(item.path, path, root, files, read, item.line)) {
          readOne(included, { file: path, line: item.line, what: '@INCLUDE' }, root, files, sink, seen, read);
        }
        break;
    }
  }
}

/**
 * An `@INCLUDE` path: relative to the including file's folder, then (as Fluent Bit does) to the main
 * file's folder. A wildcard that matches nothing is an error, as in Fluent Bit.
 */
function includedFiles(path: string, including: string, root: string, files: ConfigFiles, read: ClassicRead, line: number): string[] {
  const folders = [folderOf(including), root];
  if (!hasWildcard(path)) return [resolveAgainst(files, path, folders)];
  const patterns = isAbsolute(path) ? [path] : folders.map((f) => resolve(f, path));
  for (const pattern of patterns) {
    const found = files.glob(pattern);
    if (found.length) return found;
  }
  read.problems.push({ file: including, line, message: `@INCLUDE ${path}: no file matches` });
  return [];
}
