/**
 * Loki label names must match `[a-zA-Z_][a-zA-Z0-9_]*` (Prometheus rules). Fluent Bit's out_loki
 * replaces every other character with `_` and prefixes `_` when the name starts with a digit; so do we,
 * so that Kubernetes label keys such as `app.kubernetes.io/name` become usable names.
 */
const VALID = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const INVALID_CHARS = /[^a-zA-Z0-9_]/g;

export function sanitizeLabelName(name: string): string {
  if (VALID.test(name)) return name;
  if (name.length === 0) return '_';
  const replaced = name.replace(INVALID_CHARS, '_');
  return replaced[0]! >= '0' && replaced[0]! <= '9' ? `_${replaced}` : replaced;
}
