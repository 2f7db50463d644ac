/**
 * Encodes a batch as Loki's `PushRequest` (protobufjs, from proto/push.proto). The HTTP body is this,
 * compressed with snappy's block format (see snappy-compressor.ts).
 */
import { NS_PER_SECOND } from '../../core/event.js';
import { loadPushProto } from './push-proto.js';
import type protobuf from 'protobufjs';

export interface LokiEntry {
  /** Nanoseconds since the epoch, kept exact end to end. */
  readonly ts: bigint;
  readonly line: string;
  /** Loki 3 structured metadata: never stream labels. */
  readonly sm?: Readonly<Record<string, string>> | undefined;
}

interface EncodedEntry {
  timestamp: Timestamp;
  line: string;
  structuredMetadata?: { name: string; value: string }[];
}

export interface Timestamp {
  seconds: number;
  nanos: number;
}

/** Exact split of a bigint ns timestamp; nanos is always in [0, 1e9) as protobuf's Timestamp wants. */
export function toTimestamp(ns: bigint): Timestamp {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += NS_PER_SECOND;
  }
  // Seconds since the epoch fit a double exactly for the next 285 million years.
  return { seconds: Number(seconds), nanos: Number(nanos) };
}

function byTime(a: LokiEntry, b: LokiEntry): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;
}

/** Sort in place by time, stable (equal timestamps keep arrival order); skips the sort when sorted. */
export function sortByTime(entries: LokiEntry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i - 1]!.ts > entries[i]!.ts) {
      entries.sort(byTime);
      return;
    }
  }
}

function pairs(sm: Readonly<Record<string, string>>): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const name of Object.keys(sm)) out.push({ name, value: sm[name]! });
  return out;
}

export class PushRequestEncoder {
  private readonly PushRequest: protobuf.Type;

  constructor(PushRequest: protobuf.Type = loadPushProto().PushRequest) {
    this.PushRequest = PushRequest;
  }

  /** Protobuf bytes of a PushRequest; each stream's entries are sorted by time first (in place). */
  encode(streams: ReadonlyMap<string, LokiEntry[]>): Uint8Array {
    const out = new Array<{ labels: string; entries: EncodedEntry[] }>(streams.size);
    let s = 0;
    for (const [labels, entries] of streams) {
      sortByTime(entries);
      const encoded = new Array<EncodedEntry>(entries.length);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        encoded[i] = e.sm === undefined ? { timestamp: toTimestamp(e.ts), line: e.line } : { timestamp: toTimestamp(e.ts), line: e.line, structuredMetadata: pairs(e.sm) };
      }
      out[s++] = { labels, entries: encoded };
    }
    return this.PushRequest.encode({ streams: out }).finish();
  }
}
