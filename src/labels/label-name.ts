/**
 * Loki label names must match `[a-zA-Z_][a-zA-Z0-9_]*` (Prometheus rules). Fluent Bit's out_loki
 * replaces every other byte of a name's UTF-8 with `_` (C's isalnum, byte by byte: `é` becomes `__`)
 * and prefixes `_` when the name starts with a digit; so do we, so that Kubernetes label keys such as
 * `app.kubernetes.io/name` become the names Fluent Bit gives them. An empty name becomes `_`.
 */
const VALID = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function sanitizeLabelName(name: string): string {
  if (VALID.test(name)) return name;
  if (name.length === 0) return '_';
  let out = '';
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
    out += ok ? ch : '_'.repeat(Buffer.byteLength(ch));
  }
  return out[0]! >= '0' && out[0]! <= '9' ? `_${out}` : out;
}
