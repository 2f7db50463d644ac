/**
 * Loads Loki's `logproto` messages from `proto/push.proto` with protobufjs, once per process.
 * `proto/` sits in the package root, which works from `src/` (tsx), from `dist/` (built) and in the
 * published package (which ships `proto/`).
 */
import { isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../../package-root.js';

export interface PushProto {
  readonly root: protobuf.Root;
  readonly PushRequest: protobuf.Type;
  readonly PushResponse: protobuf.Type;
  readonly Pusher: protobuf.Service;
}

export const PROTO_DIR = join(PACKAGE_ROOT, 'proto');

let loaded: PushProto | undefined;

export function loadPushProto(): PushProto {
  if (loaded) return loaded;
  const protoDir = PROTO_DIR;
  // protobufjs is loaded on first use (decoding bodies, gRPC): encoding does not need it.
  const pb = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
  const root = new pb.Root();
  // Resolve imports (google/protobuf/timestamp.proto) inside our proto folder.
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(protoDir, target));
  root.loadSync(join(protoDir, 'push.proto'), { keepCase: true });
  root.resolveAll();
  loaded = {
    root,
    PushRequest: root.lookupType('logproto.PushRequest'),
    PushResponse: root.lookupType('logproto.PushResponse'),
    Pusher: root.lookupService('logproto.Pusher'),
  };
  return loaded;
}
