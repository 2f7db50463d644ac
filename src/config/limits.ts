/**
 * Bounds on what a config may make floki read or build, so that a wrong `-c` (a device, a FIFO, a
 * huge file) or a runaway `${VAR}` ends with a clear error instead of hanging or exhausting memory.
 * Each is far above any real config: Fluent Bit's DaemonSet configs are a few KiB and a few dozen
 * plugins. Documented in the README ("A config").
 */
export const CONFIG_LIMITS = {
  /** Bytes of one config, include or parsers file. */
  fileBytes: 1024 * 1024,
  /** Bytes of every file of one config together. */
  totalBytes: 8 * 1024 * 1024,
  /** Files one config may read (Fluent Bit stops at 1000 too). */
  files: 1000,
  /** Plugin instances (inputs, filters, outputs and processors together). */
  instances: 10_000,
  /** Characters of one value once its `${VAR}`s are replaced. */
  expandedValueChars: 1024 * 1024,
  /** Characters all `${VAR}` replacements of one config may add together. */
  expandedTotalChars: 8 * 1024 * 1024,
} as const;

export function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
