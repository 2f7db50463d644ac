/**
 * Which files to follow: the `path` patterns, minus `exclude_path`, each file once even when several
 * patterns (or a symlink and its target) lead to it. Looked up at start, every `refresh_interval`, and
 * when a pattern's folder changes (with inotify_watcher).
 */
import { realpath, stat } from 'node:fs/promises';
import { expandGlob, patternBase, patternToRegExp } from './glob.js';
import { inodeKey } from './file-identity.js';

export interface FoundFile {
  /** The path as the pattern matched it: tag and kubernetes metadata come from it. */
  path: string;
  /** The file itself (symlinks resolved). */
  realPath: string;
  dev: string;
  ino: string;
  size: number;
  mtimeMs: number;
}

export class FileDiscovery {
  private readonly excludes: RegExp[];

  constructor(
    private readonly patterns: readonly string[],
    excludePatterns: readonly string[],
  ) {
    this.excludes = excludePatterns.map((p) => patternToRegExp(p, false));
  }

  /** The folders the patterns start from. */
  baseFolders(): string[] {
    return [...new Set(this.patterns.map(patternBase))];
  }

  excluded(path: string): boolean {
    for (const re of this.excludes) if (re.test(path)) return true;
    return false;
  }

  async scan(): Promise<FoundFile[]> {
    const out: FoundFile[] = [];
    const seen = new Set<string>();
    for (const pattern of this.patterns) {
      for (const path of await expandGlob(pattern)) {
        if (this.excluded(path)) continue;
        try {
          const st = await stat(path, { bigint: true });
          if (!st.isFile()) continue;
          const key = inodeKey(st.dev, st.ino);
          if (seen.has(key)) continue;
          seen.add(key);
          out.push({ path, realPath: await realpath(path), dev: String(st.dev), ino: String(st.ino), size: Number(st.size), mtimeMs: Number(st.mtimeMs) });
        } catch {
          // Gone between listing and stat.
        }
      }
    }
    return out;
  }
}
