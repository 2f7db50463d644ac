/** `s` cut to at most `maxBytes` UTF-8 bytes, never inside a character; `s` itself when it fits. */
export function truncateUtf8Bytes(s: string, maxBytes: number): string {
  // A string of n UTF-16 units has at most 3n UTF-8 bytes: most strings skip the count.
  if (s.length * 3 <= maxBytes || Buffer.byteLength(s) <= maxBytes) return s;
  const bytes = Buffer.from(s, 'utf8');
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}
