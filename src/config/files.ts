/**
 * How the config loader reads files: only regular files (a FIFO would block forever, /dev/zero never
 * ends), each and all together within CONFIG_LIMITS, and wildcard includes. Front-ends read through
 * a `ConfigFiles`, so the loader stays a function of the files it is given (tests give them from
 * memory) and can be called again for a reload.
 */
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { CONFIG_LIMITS, formatBytes } from './limits.js';

/** Something wrong with a file the config names; the caller says where it was named. */
export class ConfigFileError extends Error {
  constructor(
    readonly path: string,
    /** What is wrong, without the path: `ENOENT: no such file`. */
    readonly reason: string,
  ) {
    super(`cannot read ${path}: ${reason}`);
    this.name = 'ConfigFileError';
  }
}

export interface ConfigFiles {
  /** The text of a file; throws ConfigFileError (missing, not a regular file, too large, too many files). */
  read(path: string): string;
  /** Whether a regular file exists at `path`. */
  exists(path: string): boolean;
  /** The text of a file, not counted against the limits of the files read (to look at its format first). */
  peek?(path: string): string;
  /** The files a pattern with `*`, `?` or `[...]` names, sorted; absolute patterns only. */
  glob(pattern: string): string[];
  /** An identity for a path, the same for every name of one file (to refuse including a file twice). */
  identity(path: string): string;
}

export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * Resolves a path the config names: absolute as is; relative against each folder in turn, the first
 * that holds the file winning (the first folder when none does, for the error message).
 */
export function resolveAgainst(files: ConfigFiles, path: string, folders: readonly string[]): string {
  if (isAbsolute(path)) return path;
  for (const folder of folders) {
    const candidate = resolve(folder, path);
    if (files.exists(candidate)) return candidate;
  }
  return resolve(folders[0] ?? '.', path);
}

const TOO_LARGE = `it is larger than ${formatBytes(CONFIG_LIMITS.fileBytes)}, the limit for one config file`;
const NOT_REGULAR = 'it is not a regular file (a FIFO, socket or device): floki reads configs from regular files only';

/** Reads from the disk, counting files and bytes against CONFIG_LIMITS. `preloaded` texts are used as they are (parseConfig). */
export class DiskFiles implements ConfigFiles {
  private files = 0;
  private bytes = 0;

  constructor(private readonly preloaded: ReadonlyMap<string, string> = new Map()) {}

  read(path: string): string {
    if (++this.files > CONFIG_LIMITS.files) throw new ConfigFileError(path, `more than ${CONFIG_LIMITS.files} config files`);
    const given = this.preloaded.get(path);
    const text = given ?? readRegularFile(path);
    const size = given === undefined ? Buffer.byteLength(text) : Buffer.byteLength(given);
    if (size > CONFIG_LIMITS.fileBytes) throw new ConfigFileError(path, TOO_LARGE);
    this.bytes += size;
    if (this.bytes > CONFIG_LIMITS.totalBytes) throw new ConfigFileError(path, `the config's files together are larger than ${formatBytes(CONFIG_LIMITS.totalBytes)}`);
    return text;
  }

  peek(path: string): string {
    return this.preloaded.get(path) ?? readRegularFile(path);
  }

  exists(path: string): boolean {
    if (this.preloaded.has(path)) return true;
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  }

  glob(pattern: string): string[] {
    return globFiles(pattern);
  }

  identity(path: string): string {
    if (this.preloaded.has(path)) return path;
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  }
}

/**
 * Reads a regular file of at most CONFIG_LIMITS.fileBytes. Checked with stat before opening (opening
 * a FIFO for reading blocks until a writer comes) and again on the open descriptor.
 */
function readRegularFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ConfigFileError(path, describe(err));
  }
  if (st.isDirectory()) throw new ConfigFileError(path, 'it is a directory, not a file');
  if (!st.isFile()) throw new ConfigFileError(path, NOT_REGULAR);
  if (st.size > CONFIG_LIMITS.fileBytes) throw new ConfigFileError(path, TOO_LARGE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new ConfigFileError(path, describe(err));
  }
  try {
    if (!fstatSync(fd).isFile()) throw new ConfigFileError(path, NOT_REGULAR);
    // One byte more than the limit: a file that grew since stat is caught here.
    const buffer = Buffer.alloc(CONFIG_LIMITS.fileBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > CONFIG_LIMITS.fileBytes) throw new ConfigFileError(path, TOO_LARGE);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'ENOENT: no such file';
  if (e.code === 'EACCES') return 'EACCES: permission denied';
  return e.message ?? String(err);
}

/** glob(3) for `@INCLUDE`: wildcards in any segment, `*` not matching `/` nor a leading dot; regular files only. */
export function globFiles(pattern: string): string[] {
  const absolute = resolve(pattern);
  const segments = absolute.split(sep).filter((s) => s.length > 0);
  let found: string[] = [sep];
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    const next: string[] = [];
    if (!hasWildcard(segment)) {
      for (const base of found) next.push(join(base, segment));
    } else {
      const re = segmentRegExp(segment);
      for (const base of found) {
        let names: string[];
        try {
          names = readdirSync(base);
        } catch {
          continue;
        }
        for (const name of names) if (re.test(name)) next.push(join(base, name));
      }
    }
    found = last ? next : next.filter(isDirectory);
  }
  return found.filter(isFile).sort();
}

function segmentRegExp(segment: string): RegExp {
  let re = segment.startsWith('.') ? '' : '(?!\\.)';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = segment.slice(i + 1, close);
        const negate = body[0] === '!' || body[0] === '^';
        if (negate) body = body.slice(1);
        re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function folderOf(path: string): string {
  return dirname(resolve(path));
}
