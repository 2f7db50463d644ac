/**
 * Forward protocol bytes written by hand for tests, so the frame layout and EventTime encoding under
 * test are checked against the spec rather than against floki's own decoder. Records inside entries
 * are packed with msgpackr (a library, not the code under test).
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false });
export const rec = (value: unknown): Buffer => packr.pack(value);

export const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
/** EventTime as fixext 8, ext type 0: uint32 BE seconds, uint32 BE nanoseconds. */
export const eventTime = (sec: number, ns: number): Buffer => Buffer.from([0xd7, 0x00, ...be32(sec), ...be32(ns)]);
export const fixext8Time = eventTime;
/** EventTime as ext 8 with length 8. */
export const ext8Time = (sec: number, ns: number): Buffer => Buffer.from([0xc7, 0x08, 0x00, ...be32(sec), ...be32(ns)]);
export const uint32 = (n: number): Buffer => Buffer.from([0xce, ...be32(n)]);
export const float64 = (x: number): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(x, 1);
  return b;
};
export const arr = (n: number): Buffer =>
  n < 16 ? Buffer.from([0x90 | n]) : n < 65536 ? Buffer.from([0xdc, n >> 8, n & 0xff]) : Buffer.from([0xdd, ...be32(n)]);
export const NIL = Buffer.from([0xc0]);
export function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length < 32) return Buffer.concat([Buffer.from([0xa0 | b.length]), b]);
  if (b.length < 256) return Buffer.concat([Buffer.from([0xd9, b.length]), b]);
  if (b.length < 65536) return Buffer.concat([Buffer.from([0xda, b.length >> 8, b.length & 0xff]), b]);
  return Buffer.concat([Buffer.from([0xdb, ...be32(b.length)]), b]);
}
/** A str header around raw (not UTF-8) bytes, as old clients packed entries. */
export const rawStr = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0xdb, ...be32(b.length)]), b]);
export const bin = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0xc6, ...be32(b.length)]), b]);
export const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
export const entry = (time: Buffer, record: unknown): Buffer => cat(arr(2), time, rec(record));
/** A map header for n pairs. */
export const map = (n: number): Buffer => (n < 16 ? Buffer.from([0x80 | n]) : Buffer.from([0xde, n >> 8, n & 0xff]));
export const NS = (sec: number, nsec = 0): bigint => BigInt(sec) * 1_000_000_000n + BigInt(nsec);
