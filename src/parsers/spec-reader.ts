/**
 * Reads the entries of one ParserSpec: keys are case-insensitive, an empty value counts as unset (as
 * in Fluent Bit), each problem is reported at the line of the key it is about.
 */
import type { ConfigProblem } from '../config/errors.js';
import { OptionValueError, parseBool } from '../config/options.js';
import type { ParserSpec, ParserSpecEntry } from './registry.js';

export class SpecReader {
  readonly problems: ConfigProblem[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly spec: ParserSpec,
    /** What the spec defines, for messages: `parser "apache"`. */
    public what: string,
  ) {}

  entry(key: string): ParserSpecEntry | undefined {
    this.seen.add(key);
    let found: ParserSpecEntry | undefined;
    for (const e of this.spec.entries) if (e.key.toLowerCase() === key && e.value !== '') found ??= e;
    return found;
  }

  all(key: string): ParserSpecEntry[] {
    this.seen.add(key);
    return this.spec.entries.filter((e) => e.key.toLowerCase() === key && e.value !== '');
  }

  string(key: string): string | undefined {
    return this.entry(key)?.value;
  }

  bool(key: string, fallback: boolean): boolean {
    const e = this.entry(key);
    if (e === undefined) return fallback;
    try {
      return parseBool(e.value);
    } catch (err) {
      if (err instanceof OptionValueError) {
        this.problemAt(e, `${this.what}: ${key}: ${err.message}`);
        return fallback;
      }
      throw err;
    }
  }

  problem(key: string, message: string): void {
    const e = this.entry(key);
    this.problems.push({ file: this.spec.file, line: e?.line ?? this.spec.line, message: `${this.what}: ${key}: ${message}` });
  }

  problemAt(e: ParserSpecEntry, message: string): void {
    this.problems.push({ file: this.spec.file, line: e.line, message });
  }

  /** Whole-definition problem, at the section's line. */
  sectionProblem(message: string): void {
    this.problems.push({ file: this.spec.file, line: this.spec.line, message: `${this.what}: ${message}` });
  }

  /** Reports every key no reader asked for. */
  reportUnknown(): void {
    for (const e of this.spec.entries) {
      const k = e.key.toLowerCase();
      if (!this.seen.has(k)) this.problemAt(e, `${this.what}: unknown key ${JSON.stringify(e.key)}`);
    }
  }
}
