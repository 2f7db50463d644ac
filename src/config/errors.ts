/** One thing wrong in a config file, located by file and line. */
export interface ConfigProblem {
  file: string;
  line: number;
  message: string;
}

/** Every problem found in a config file; the CLI prints them all, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}
