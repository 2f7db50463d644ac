/**
 * The Avro object container file format (Avro 1.x spec, "Object Container Files"), as segment files
 * use it: a header (magic `Obj\x01`, metadata map with `avro.schema` and `avro.codec`, a 16-byte sync
 * marker), then blocks of `long count, long size, <size bytes of records>, <sync marker>`.
 *
 * Writing a block is one positional write followed by an fsync, so a power cut can only leave the last
 * block incomplete. The scanner keeps every block whose frame is whole and whose trailing sync marker
 * matches; a damaged block is skipped by searching for the next sync marker (what the marker is for),
 * and a torn tail is reported so the caller can cut it off. Records are encoded with avsc.
 */
import type avro from 'avsc';
import { avsc } from './avsc.js';

export type AvroResolver = ReturnType<avro.Type['createResolver']>;

export const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
export const SYNC_SIZE = 16;

let headerType: avro.Type | undefined;
/** The container header's type, made at first use (avsc loads then). */
function HEADER_TYPE(): avro.Type {
  return (headerType ??= avsc().Type.forSchema({
    type: 'record',
    name: 'org.apache.avro.file.Header',
    fields: [
      { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
      { name: 'meta', type: { type: 'map', values: 'bytes' } },
      { name: 'sync', type: { type: 'fixed', name: 'Sync', size: SYNC_SIZE } },
    ],
  }));
}

export class ContainerFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerFormatError';
  }
}

export function encodeHeader(schema: unknown, sync: Buffer, extraMeta: Record<string, string> = {}): Buffer {
  const meta: Record<string, Buffer> = { 'avro.schema': Buffer.from(JSON.stringify(schema)), 'avro.codec': Buffer.from('null') };
  for (const [k, v] of Object.entries(extraMeta)) meta[k] = Buffer.from(v);
  return HEADER_TYPE().toBuffer({ magic: MAGIC, meta, sync });
}

export interface ContainerHeader {
  schema: unknown;
  sync: Buffer;
  meta: Record<string, string>;
  /** Offset of the first block. */
  end: number;
}

/** The header at the start of `buf`; undefined when `buf` ends inside it. Throws ContainerFormatError when it is not one. */
export function parseHeader(buf: Buffer): ContainerHeader | undefined {
  if (buf.length < MAGIC.length) return undefined;
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new ContainerFormatError('not an Avro object container file (bad magic)');
  let decoded: { value: { meta: Record<string, Buffer>; sync: Buffer }; offset: number };
  try {
    decoded = HEADER_TYPE().decode(buf, 0);
  } catch (err) {
    throw new ContainerFormatError(`unreadable header: ${(err as Error).message}`);
  }
  if (decoded.offset < 0) return undefined;
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(decoded.value.meta)) meta[k] = v.toString('utf8');
  const codec = meta['avro.codec'] ?? 'null';
  if (codec !== 'null') throw new ContainerFormatError(`codec '${codec}' is not supported`);
  let schema: unknown;
  try {
    schema = JSON.parse(meta['avro.schema'] ?? '');
  } catch {
    throw new ContainerFormatError('the header has no readable avro.schema');
  }
  return { schema, sync: Buffer.from(decoded.value.sync), meta, end: decoded.offset };
}

/** Avro `long` (zigzag varint) of a non-negative safe integer. */
export function writeLong(n: number, out: number[]): void {
  let z = n * 2; // zigzag of a non-negative number
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

/** Reads an Avro long at `pos`: [value, next position], or undefined when `buf` ends inside it. */
export function readLong(buf: Buffer, pos: number): [number, number] | undefined {
  let z = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return undefined;
    const b = buf[pos++]!;
    z += (b & 0x7f) * mul;
    if (b < 0x80) return [z % 2 === 0 ? z / 2 : -(z + 1) / 2, pos];
    mul *= 0x80;
  }
  return [NaN, pos];
}

/** One whole block: `data` holds `count` records encoded back to back. */
export function encodeBlock(count: number, data: Buffer, dataLength: number, sync: Buffer): Buffer {
  const prefix: number[] = [];
  writeLong(count, prefix);
  writeLong(dataLength, prefix);
  const out = Buffer.allocUnsafe(prefix.length + dataLength + SYNC_SIZE);
  for (let i = 0; i < prefix.length; i++) out[i] = prefix[i]!;
  data.copy(out, prefix.length, 0, dataLength);
  sync.copy(out, prefix.length + dataLength);
  return out;
}

export interface BlockLocation {
  /** File offset of the block's first byte, and its whole length (prefix, data, sync). */
  offset: number;
  size: number;
  count: number;
}

export interface DamagedRegion {
  offset: number;
  bytes: number;
  /** Records the damaged block claimed, when its count could be read. */
  count?: number;
}

export interface ScanResult {
  blocks: BlockLocation[];
  /** Regions skipped between whole blocks. */
  damaged: DamagedRegion[];
  /** Offset where the last whole block ends: anything after it is a torn tail. */
  end: number;
}

/** Locates the whole blocks of a container file held in `buf`, from `start` (the header's end). */
export function scanBlocks(buf: Buffer, start: number, sync: Buffer): ScanResult {
  const blocks: BlockLocation[] = [];
  const damaged: DamagedRegion[] = [];
  let pos = start;
  let end = start;
  while (pos < buf.length) {
    const block = blockAt(buf, pos, sync);
    if (block !== undefined) {
      blocks.push(block);
      pos += block.size;
      end = pos;
      continue;
    }
    // Damaged or torn. When the frame's lengths are readable and a whole block follows where this one
    // should end, only its marker is damaged: skip this block alone. Otherwise resume after the next
    // sync marker, if there is one.
    const count = readLong(buf, pos)?.[0];
    const framed = frameEnd(buf, pos);
    if (framed !== undefined && framed < buf.length && blockAt(buf, framed, sync) !== undefined) {
      const region: DamagedRegion = { offset: pos, bytes: framed - pos };
      if (count !== undefined && Number.isSafeInteger(count) && count > 0) region.count = count;
      damaged.push(region);
      pos = framed;
      end = pos;
      continue;
    }
    const next = buf.indexOf(sync, pos);
    const region: DamagedRegion = { offset: pos, bytes: (next < 0 ? buf.length : next + SYNC_SIZE) - pos };
    if (count !== undefined && Number.isSafeInteger(count) && count > 0) region.count = count;
    damaged.push(region);
    if (next < 0) break;
    pos = next + SYNC_SIZE;
    end = pos;
  }
  return { blocks, damaged, end };
}

/** Where the block at `pos` ends by its own length fields, if they are readable. */
function frameEnd(buf: Buffer, pos: number): number | undefined {
  const c = readLong(buf, pos);
  if (c === undefined || !Number.isSafeInteger(c[0]) || c[0] < 0) return undefined;
  const s = readLong(buf, c[1]);
  if (s === undefined || !Number.isSafeInteger(s[0]) || s[0] < 0) return undefined;
  return s[1] + s[0] + SYNC_SIZE;
}

function blockAt(buf: Buffer, pos: number, sync: Buffer): BlockLocation | undefined {
  const c = readLong(buf, pos);
  if (c === undefined || !Number.isSafeInteger(c[0]) || c[0] < 0) return undefined;
  const s = readLong(buf, c[1]);
  if (s === undefined || !Number.isSafeInteger(s[0]) || s[0] < 0) return undefined;
  const syncAt = s[1] + s[0];
  if (syncAt + SYNC_SIZE > buf.length) return undefined;
  if (buf.compare(sync, 0, SYNC_SIZE, syncAt, syncAt + SYNC_SIZE) !== 0) return undefined;
  return { offset: pos, size: syncAt + SYNC_SIZE - pos, count: c[0] };
}

/**
 * Decodes the records of one block read on its own (`buf` holds exactly the block). Throws
 * ContainerFormatError when the block does not hold `count` whole records.
 */
export function decodeBlock<T>(buf: Buffer, sync: Buffer, type: avro.Type, resolver?: AvroResolver): T[] {
  const block = blockAt(buf, 0, sync);
  if (block === undefined || block.size !== buf.length) throw new ContainerFormatError('block frame or sync marker does not match');
  let pos = readLong(buf, readLong(buf, 0)![1])![1];
  const dataEnd = buf.length - SYNC_SIZE;
  const out = new Array<T>(block.count);
  for (let i = 0; i < block.count; i++) {
    let decoded: { value: T; offset: number };
    try {
      decoded = type.decode(buf, pos, resolver) as { value: T; offset: number };
    } catch (err) {
      throw new ContainerFormatError(`record ${i} does not decode: ${(err as Error).message}`);
    }
    if (decoded.offset < 0 || decoded.offset > dataEnd) throw new ContainerFormatError(`record ${i} overruns its block`);
    out[i] = decoded.value;
    pos = decoded.offset;
  }
  if (pos !== dataEnd) throw new ContainerFormatError(`${dataEnd - pos} bytes left after ${block.count} records`);
  return out;
}
