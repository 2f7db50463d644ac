/** A pattern in a config that floki cannot run safely or at all; the message says which and why. */
export class RegexConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexConfigError';
  }
}
