/**
 * Which files an `@include` names, by Fluentd's rules (lib/fluent/config/v1_parser.rb `eval_include`):
 * the argument is read as a URI (spaces allowed); `file://` and plain paths are files, a relative path
 * is relative to the including file's folder, `%XX` and `+` are decoded, and the path is a glob whose
 * matches are included in sorted order; a glob or path that matches nothing includes nothing (that is
 * how fluentd-kubernetes-daemonset's `FLUENTD_SYSTEMD_CONF=disable` turns a file off). Fluentd fetches
 * `http://` includes over the network; floki refuses them.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { hasMagic, patternToRegExp } from '../../../inputs/tail/glob.js';

export class IncludePathError extends Error {}

/** Characters Ruby's URI parser accepts in a path (after spaces became `+`). */
const URI_PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** The absolute glob pattern an `@include` argument stands for, relative to `baseDir`. */
export function includePattern(arg: string, baseDir: string): string {
  const uri = arg.replaceAll(' ', '+');
  const scheme = SCHEME.exec(uri)?.[1];
  let path: string;
  if (scheme === undefined) {
    path = uri;
  } else if (scheme.toLowerCase() === 'file') {
    const rest = uri.slice(scheme.length + 1);
    // file://host/path: the host part is not part of the path.
    path = rest.startsWith('//') ? rest.slice(2 + rest.slice(2).search(/\/|$/)) : rest;
  } else if (scheme.length === 1) {
    throw new IncludePathError(`'${arg}' is a Windows path`);
  } else {
    throw new IncludePathError(`'${arg}' is a ${scheme} URL: floki does not fetch configuration over the network (save the file and include it by path)`);
  }
  if (/[?#]/.test(path)) throw new IncludePathError(`'${arg}' has '?' or '#', which Fluentd reads as a URI query or fragment, not a file`);
  if (!URI_PATH.test(path)) throw new IncludePathError(`'${arg}' is not a valid path for @include: Fluentd reads it as a URI, so characters such as [ ] { } " < > | \\ ^ \` and non-ASCII ones must be %-encoded`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replaceAll('+', ' '));
  } catch {
    throw new IncludePathError(`'${arg}' has an invalid %-encoding`);
  }
  if (decoded === '') throw new IncludePathError('@include needs a path');
  return isAbsolute(decoded) ? decoded : resolve(baseDir, decoded);
}

/**
 * Paths matching an absolute glob pattern (`*`, `?`, `[...]`, `{a,b}`, `**` for any folders), sorted as
 * Ruby sorts strings (by bytes). A wildcard does not match a name starting with `.`, as Dir.glob.
 */
export function expandIncludePattern(pattern: string): string[] {
  const segments = pattern.split(sep).filter((s) => s.length > 0);
  const out: string[] = [];
  walk(sep, segments, out, 0);
  return [...new Set(out)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Folder levels a `**` walks down at most. */
const MAX_RECURSION = 32;

function walk(dir: string, segments: string[], out: string[], level: number): void {
  const [segment, ...rest] = segments;
  if (segment === undefined) {
    if (exists(dir)) out.push(dir);
    return;
  }
  if (segment === '**') {
    walk(dir, rest, out, level);
    if (level < MAX_RECURSION) for (const sub of list(dir).filter((n) => !n.startsWith('.') && isFolder(join(dir, n)))) walk(join(dir, sub), segments, out, level + 1);
    return;
  }
  if (!hasMagic(segment)) {
    walk(join(dir, segment), rest, out, level);
    return;
  }
  let re: RegExp;
  try {
    re = patternToRegExp(segment, true);
  } catch (err) {
    throw new IncludePathError((err as Error).message);
  }
  for (const name of list(dir)) {
    if (name.startsWith('.') && !segment.startsWith('.')) continue;
    if (re.test(name)) walk(join(dir, name), rest, out, level);
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
