/**
 * The secure forward handshake's digests, for both sides (src/forward/handshake-client.ts, the
 * forward input's handshake.ts): hex(sha512(part1 + part2 + ...)), as text.
 */
import { createHash } from 'node:crypto';

export function handshakeDigest(...parts: (Buffer | string)[]): string {
  const hash = createHash('sha512');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}
