import { readFileSync } from 'node:fs';

/**
 * The service account token, read from its file. Kubernetes rotates projected tokens (the kubelet
 * rewrites the file well before expiry), so the file is read again every `ttlMs`, and at once when the
 * API server answers 401.
 */
export class ServiceAccountToken {
  private value: string | undefined;
  private readAt = -Infinity;
  private lastError: string | undefined;

  constructor(
    private readonly file: string,
    private readonly ttlMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  /** The token, or undefined when the file cannot be read (then requests go without one). */
  get(): string | undefined {
    if (performance.now() - this.readAt >= this.ttlMs) this.read();
    return this.value;
  }

  /** Reads the file now; true when the token changed. */
  reload(): boolean {
    const before = this.value;
    this.read();
    return this.value !== before;
  }

  private read(): void {
    this.readAt = performance.now();
    try {
      const token = readFileSync(this.file, 'utf8').trim();
      this.value = token.length > 0 ? token : undefined;
      this.lastError = undefined;
    } catch (err) {
      const message = `cannot read kube_token_file ${this.file}: ${(err as Error).message}`;
      // Keep the last good token: a rotation replaces the file by a rename, never leaves it missing for long.
      if (message !== this.lastError) this.onError(message);
      this.lastError = message;
    }
  }
}
