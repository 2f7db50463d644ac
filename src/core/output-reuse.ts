/**
 * Which running outputs a reload keeps. An output whose definition the new config leaves as it was
 * goes on running: its queue, its connections and its disk buffer carry over untouched, and nothing it
 * holds is sent twice. Its `match` and `processors` may change (they belong to the pipeline, not to
 * the instance). Anything else that reaches the instance (its keys, the service settings it reads, the
 * storage type its inputs ask for) replaces it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FlokiConfig, PluginInstanceConfig } from './pipeline-config.js';
import type { ServiceSettings } from './plugin.js';

/** What an output instance was made from, besides its own section. */
export interface OutputDefinition {
  config: PluginInstanceConfig;
  service: ServiceSettings;
  inputStorageType: 'memory' | 'filesystem';
}

/** `filesystem` when an input of the config keeps its records on disk: the outputs it feeds must too. */
export function inputStorageTypeOf(config: FlokiConfig): 'memory' | 'filesystem' {
  return config.inputs.some((c) => c.storageType === 'filesystem') ? 'filesystem' : 'memory';
}

/** Whether an output made from `running` is the one `next` asks for. */
export function sameOutput(running: OutputDefinition, next: OutputDefinition): boolean {
  const a = running.config;
  const b = next.config;
  return (
    a.plugin === b.plugin &&
    a.instanceName === b.instanceName &&
    a.storageType === b.storageType &&
    a.logLevel === b.logLevel &&
    running.inputStorageType === next.inputStorageType &&
    // What outputs read of the service: the flush interval, the storage folder, the log level.
    running.service.flushMs === next.service.flushMs &&
    running.service.storagePath === next.service.storagePath &&
    running.service.logLevel === next.service.logLevel &&
    isDeepStrictEqual(a.options, b.options)
  );
}

/** Whether an output of this definition keeps its queue on disk (its files are named after the instance). */
export function keepsQueueOnDisk(d: OutputDefinition): boolean {
  return (d.config.storageType ?? d.inputStorageType) === 'filesystem';
}
