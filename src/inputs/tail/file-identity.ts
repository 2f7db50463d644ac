/**
 * Which file is which, across renames and restarts: device and inode, plus a hash of the file's first
 * bytes so that an inode the filesystem reused for a new file is not taken for the old one. A gzipped
 * rotated file has a new inode; it is recognised by the hash of its first decompressed bytes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { readAt } from './byte-source.js';

/** Bytes of a file's head that identify it (CRI and docker lines start with a nanosecond time). */
export const HEAD_BYTES = 1024;

export interface FileIdentity {
  dev: string;
  ino: string;
  /** How many head bytes the hash covers: fewer than HEAD_BYTES while the file is that short. */
  headLen: number;
  headHash: string;
}

export function inodeKey(dev: bigint | string, ino: bigint | string): string {
  return `${dev}:${ino}`;
}

export function hashHead(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Reads up to `len` bytes from the start of an open file. */
export async function readHead(fd: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let n = 0;
  while (n < len) {
    const got = await readAt(fd, buf, n, len - n, n);
    if (got === 0) break;
    n += got;
  }
  return buf.subarray(0, n);
}

export async function identityOf(fd: number, st: BigIntStats): Promise<FileIdentity> {
  const head = await readHead(fd, Number(st.size < BigInt(HEAD_BYTES) ? st.size : BigInt(HEAD_BYTES)));
  return { dev: String(st.dev), ino: String(st.ino), headLen: head.length, headHash: hashHead(head) };
}

/** True when `head` (the candidate's first bytes, at least `saved.headLen` of them) is the saved file's. */
export function headMatches(saved: Pick<FileIdentity, 'headLen' | 'headHash'>, head: Uint8Array): boolean {
  if (head.length < saved.headLen) return false;
  return hashHead(head.subarray(0, saved.headLen)) === saved.headHash;
}

/** The first `len` bytes of a plain file at `path` (fewer if it is shorter), or undefined if unreadable. */
export async function headOfPath(path: string, len: number): Promise<Buffer | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    return await readHead(handle.fd, len);
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The first `len` decompressed bytes of a gzip file, or undefined if it is not readable as gzip. */
export function headOfGzip(path: string, len: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let have = 0;
    let done = false;
    const input = createReadStream(path);
    const gunzip = createGunzip();
    const finish = (value: Buffer | undefined) => {
      if (done) return;
      done = true;
      input.destroy();
      gunzip.destroy();
      resolve(value);
    };
    input.on('error', () => finish(undefined));
    gunzip.on('error', () => finish(have > 0 ? Buffer.concat(parts).subarray(0, len) : undefined));
    gunzip.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      have += chunk.length;
      if (have >= len) finish(Buffer.concat(parts).subarray(0, len));
    });
    gunzip.on('end', () => finish(Buffer.concat(parts).subarray(0, len)));
    input.pipe(gunzip);
  });
}
