import type { ConfigProblem } from '../errors.js';

/** Where the resolver puts what it finds: problems (the config is refused) and warnings (it runs). */
export class Report {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  problem(at: { file: string; line: number }, message: string): void {
    this.problems.push({ file: at.file, line: at.line, message });
  }

  warning(at: { file: string; line: number }, message: string): void {
    this.warnings.push({ file: at.file, line: at.line, message });
  }
}
