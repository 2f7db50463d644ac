/**
 * Where a followed file's bytes come from: an open file descriptor read at an offset, or a gzipped
 * rotated file (kubelet compresses older rotations) decompressed front to back, its offsets counting
 * decompressed bytes.
 */
import { close, createReadStream, fstat, read, type BigIntStats, type ReadStream } from 'node:fs';
import { createGunzip, type Gunzip } from 'node:zlib';

export function readAt(fd: number, buf: Uint8Array, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

export function fstatBig(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fstat(fd, { bigint: true }, (err, st) => (err ? reject(err) : resolve(st))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

export interface ByteSource {
  /** Reads up to `len` bytes at file offset `pos` into `buf[off…]`; 0 at the end. */
  read(buf: Uint8Array, off: number, len: number, pos: number): Promise<number>;
  close(): Promise<void>;
}

export class FileSource implements ByteSource {
  constructor(readonly fd: number) {}

  read(buf: Uint8Array, off: number, len: number, pos: number): Promise<number> {
    return readAt(this.fd, buf, off, len, pos);
  }

  close(): Promise<void> {
    return closeFd(this.fd);
  }
}

/**
 * A gzip file read sequentially. Reads must come in order (each at the offset the previous one ended);
 * the first read may start past 0, and the bytes before it are decompressed and skipped.
 */
export class GzipSource implements ByteSource {
  private readonly file: ReadStream;
  private readonly gunzip: Gunzip;
  private readonly chunks: AsyncIterator<Buffer>;
  private current: Buffer | undefined;
  private position = 0;
  private ended = false;

  constructor(path: string) {
    this.gunzip = createGunzip();
    this.file = createReadStream(path);
    this.file.on('error', (err) => this.gunzip.destroy(err)).pipe(this.gunzip);
    this.chunks = this.gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async read(buf: Uint8Array, off: number, len: number, pos: number): Promise<number> {
    if (pos < this.position) throw new Error(`gzip source read backwards (at ${this.position}, asked ${pos})`);
    while (this.position < pos) {
      const chunk = await this.next();
      if (chunk === undefined) return 0;
      const skip = Math.min(chunk.length, pos - this.position);
      this.position += skip;
      this.current = skip < chunk.length ? chunk.subarray(skip) : undefined;
    }
    let n = 0;
    while (n < len) {
      const chunk = await this.next(n > 0);
      if (chunk === undefined) break;
      const take = Math.min(chunk.length, len - n);
      buf.set(chunk.subarray(0, take), off + n);
      n += take;
      this.current = take < chunk.length ? chunk.subarray(take) : undefined;
    }
    this.position += n;
    return n;
  }

  /** The next decompressed bytes; with `onlyBuffered`, none unless some are already at hand. */
  private async next(onlyBuffered = false): Promise<Buffer | undefined> {
    if (this.current !== undefined) {
      const c = this.current;
      this.current = undefined;
      return c;
    }
    if (this.ended || onlyBuffered) return undefined;
    const r = await this.chunks.next();
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    return r.value;
  }

  async close(): Promise<void> {
    this.file.destroy();
    this.gunzip.destroy();
  }
}
