/**
 * avsc, loaded at first use: only an output with a disk buffer (`storage.type filesystem`) encodes
 * Avro, and an idle process that has none should not hold the library (about 1 MiB of heap).
 */
import { createRequire } from 'node:module';
import type avroModule from 'avsc';

let loaded: typeof avroModule | undefined;

export function avsc(): typeof avroModule {
  loaded ??= createRequire(import.meta.url)('avsc') as typeof avroModule;
  return loaded;
}
