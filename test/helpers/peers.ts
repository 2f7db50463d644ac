/**
 * The third-party programs the tests run (from Debian's packages; `npm test` runs
 * scripts/test-peers.sh first, which installs them as root). A test that needs one that is missing
 * fails saying what to install: it never passes by skipping what it checks.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';

/** Debian package of each program. */
const PACKAGES: Record<string, string> = { openssl: 'openssl', kubectl: 'kubernetes-client', '/usr/bin/python3': 'python3 and python3-fluent-logger' };

/** Runs a peer program; a missing one is an error naming the package to install. */
export function runPeer(program: string, args: string[], options: ExecFileSyncOptions = {}): Buffer | string {
  try {
    return execFileSync(program, args, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${program} not found: this test needs it; install ${PACKAGES[program] ?? program} (apt-get install ${PACKAGES[program] ?? program}, or run scripts/test-peers.sh as root)`);
    }
    throw err;
  }
}
