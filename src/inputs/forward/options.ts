import { OptionValueError, type OptionSpec, type ResolvedOptions } from '../../config/options.js';

/** The forward input's options, named as Fluent Bit's in_forward names them. */
export const forwardOptions: readonly OptionSpec[] = [
  { name: 'listen', type: 'string', default: '0.0.0.0', description: 'Address to listen on.' },
  { name: 'port', type: 'int', default: 24224, description: 'TCP port to listen on; 0 picks a free port.' },
  { name: 'tag', type: 'string', description: 'Replaces the tag of every incoming record.' },
  {
    name: 'tag_prefix',
    type: 'string',
    description: 'Prepended to the tag of every incoming record, as is (add the dot yourself); ignored when tag is set.',
  },
  {
    name: 'buffer_chunk_size',
    type: 'size',
    default: 1024000,
    description: 'Growth step of the buffer of a large frame arriving in pieces, up to buffer_max_size.',
  },
  {
    name: 'buffer_max_size',
    type: 'size',
    default: 6144000,
    description:
      'Largest frame accepted, and the limit on decompressed entries of a gzip chunk; a larger one closes its connection.',
  },
];

export interface ForwardServerOptions {
  listen: string;
  port: number;
  tag?: string;
  tagPrefix?: string;
  bufferChunkSize: number;
  bufferMaxSize: number;
}

/** Validated options, with the table's defaults for anything missing. */
export function resolveForwardOptions(options: ResolvedOptions): ForwardServerOptions {
  const listen = stringOption(options.listen) ?? '0.0.0.0';
  const port = numberOption(options.port, 24224);
  const bufferChunkSize = numberOption(options.buffer_chunk_size, 1024000);
  const bufferMaxSize = numberOption(options.buffer_max_size, 6144000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new OptionValueError(`port: expected 0 to 65535, got ${port}`);
  if (bufferMaxSize < 1) throw new OptionValueError(`buffer_max_size: expected at least 1 byte, got ${bufferMaxSize}`);
  if (bufferChunkSize < 1) throw new OptionValueError(`buffer_chunk_size: expected at least 1 byte, got ${bufferChunkSize}`);
  return {
    listen,
    port,
    tag: stringOption(options.tag),
    tagPrefix: stringOption(options.tag_prefix),
    // Fluent Bit lets buffer_max_size alone be lowered under the default chunk size: clamp, not fail.
    bufferChunkSize: Math.min(bufferChunkSize, bufferMaxSize),
    bufferMaxSize,
  };
}

function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function numberOption(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
