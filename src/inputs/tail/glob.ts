/**
 * Shell patterns for `path` and `exclude_path`: `*`, `?`, `[abc]`/`[!abc]`, `{a,b}`, and `**` for any
 * number of folders. `path` patterns are matched folder by folder, as glob(3) does (`*` stops at `/`
 * and does not match a leading dot); `exclude_path` patterns are matched against the whole path as
 * fnmatch(3) without FNM_PATHNAME does, so `*.gz` excludes every gzip file whatever its folder.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

const MAGIC = /[*?[{]/;

export function hasMagic(segment: string): boolean {
  return MAGIC.test(segment);
}

/** A regular expression for one pattern; `pathname`: wildcards do not cross `/`. */
export function patternToRegExp(pattern: string, pathname: boolean): RegExp {
  const any = pathname ? '[^/]' : '.';
  let re = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      re += escape(pattern[++i]!);
    } else if (c === '*') {
      if (pattern[i + 1] === '*' && pathname) {
        // `**/` matches zero or more folders; a lone `**` anything below.
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:[^/]*/)*';
        } else re += '.*';
      } else re += `${any}*`;
    } else if (c === '?') {
      re += any;
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) {
      re += '|';
    } else {
      re += escape(c);
    }
  }
  if (braces > 0) throw new Error(`unbalanced '{' in pattern '${pattern}'`);
  return new RegExp(`^${re}$`);
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/**
 * Files (regular files, or symlinks to them) matching `pattern`, an absolute or relative path pattern.
 * Unreadable folders are skipped: a pod's folder may vanish while it is walked.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  const segments = abs.split(sep).filter((s) => s.length > 0);
  // The longest prefix without wildcards is where the walk starts.
  let i = 0;
  let base: string = sep;
  while (i < segments.length - 1 && !hasMagic(segments[i]!)) base = join(base, segments[i++]!);
  const rest = segments.slice(i);
  const out: string[] = [];
  await walk(base, rest, out);
  return out;
}

async function walk(dir: string, segments: string[], out: string[]): Promise<void> {
  const [segment, ...rest] = segments;
  if (segment === undefined) return;
  const last = rest.length === 0;
  if (segment === '**') {
    // Zero folders here, then each subfolder with the same `**` still to match.
    await walk(dir, rest, out);
    for (const sub of await subfolders(dir)) await walk(join(dir, sub), segments, out);
    return;
  }
  if (!hasMagic(segment)) {
    const path = join(dir, segment);
    if (last) {
      if (await isFile(path)) out.push(path);
    } else await walk(path, rest, out);
    return;
  }
  const re = patternToRegExp(segment, true);
  const dotOk = segment.startsWith('.');
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch {
    return;
  }
  for (const name of entries) {
    if (!dotOk && name.startsWith('.')) continue;
    if (!re.test(name)) continue;
    const path = join(dir, name);
    if (last) {
      if (await isFile(path)) out.push(path);
    } else await walk(path, rest, out);
  }
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The folder a pattern's walk starts from: watched for new files appearing in it. */
export function patternBase(pattern: string): string {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  const segments = abs.split(sep).filter((s) => s.length > 0);
  let base: string = sep;
  for (let i = 0; i < segments.length - 1 && !hasMagic(segments[i]!); i++) base = join(base, segments[i]!);
  return base;
}
