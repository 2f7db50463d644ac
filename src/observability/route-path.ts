/**
 * The path a request target names, read as the monitoring server's router (find-my-way, under
 * fastify) read it, so that the same targets reach the same endpoints: an absolute
 * `http(s)://host/path` target gives its path, the query (after `?`) and fragment (after `#`) are
 * dropped, percent-escapes are decoded except those of `# $ & + , / : ; = ? @` and `%`, which stay
 * as they are. Null: a target it refused (a bad escape, an unreadable absolute URL), answered 400.
 */
export function routePath(url: string): string | null {
  let path = url;
  if (path.charCodeAt(0) !== 0x2f) {
    const absolute = absolutePath(path);
    if (absolute === null) return null;
    path = absolute;
  }
  let end = path.length;
  let decode = false;
  let reencode: number[] | null = null;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x3f || c === 0x23) {
      end = i;
      break;
    }
    if (c !== 0x25) continue;
    const kept = reservedEscape(path.charCodeAt(i + 1), path.charCodeAt(i + 2));
    if (kept === 0) decode = true;
    else {
      if (kept === 0x25) {
        decode = true;
        (reencode ??= []).push(i);
      }
      i += 2;
    }
  }
  let out: string;
  if (reencode === null) out = path.slice(0, end);
  else {
    // `%25` must survive decodeURI as `%25`.
    const parts: string[] = [];
    let last = 0;
    for (const at of reencode) {
      parts.push(path.slice(last, at), '%2525');
      last = at + 3;
    }
    parts.push(path.slice(last, end));
    out = parts.join('');
  }
  if (!decode) return out;
  try {
    return decodeURI(out);
  } catch {
    return null;
  }
}

/** Escapes decodeURI leaves alone but decodeURIComponent would decode, keyed by their two hex digits. */
const RESERVED = new Uint8Array(768);
for (const [escape, char] of [
  ['%23', '#'], ['%24', '$'], ['%25', '%'], ['%26', '&'], ['%2B', '+'], ['%2b', '+'], ['%2C', ','], ['%2c', ','],
  ['%2F', '/'], ['%2f', '/'], ['%3A', ':'], ['%3a', ':'], ['%3B', ';'], ['%3b', ';'], ['%3D', '='], ['%3d', '='],
  ['%3F', '?'], ['%3f', '?'], ['%40', '@'],
] as const) {
  RESERVED[((escape.charCodeAt(1) - 50) << 8) | escape.charCodeAt(2)] = char.charCodeAt(0);
}

/** The character a reserved escape stands for, or 0 for one decodeURI decodes (or refuses). */
function reservedEscape(high: number, low: number): number {
  if (high < 50 || high > 52 || low > 255) return 0;
  // A missing digit (NaN) reads as 0 here, as in find-my-way's table: such an escape is decoded, and refused.
  return RESERVED[((high - 50) << 8) | low]!;
}

function absolutePath(url: string): string | null {
  // find-my-way matches from the path's second character on, as if the first were the `/`: `*` is `/`.
  if (url === '*') return '/';
  const schemeEnd = url.indexOf('://');
  if (schemeEnd === -1) return null;
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  const authorityStart = schemeEnd + 3;
  let authorityEnd = url.length;
  const pathStart = url.indexOf('/', authorityStart);
  if (pathStart !== -1) authorityEnd = pathStart;
  const queryStart = url.indexOf('?', authorityStart);
  if (queryStart !== -1 && queryStart < authorityEnd) authorityEnd = queryStart;
  if (url.indexOf('#', authorityStart) !== -1 || authorityEnd === authorityStart) return null;
  let parsed: URL | null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (parsed === null || parsed.protocol !== `${scheme}:` || parsed.host.length === 0) return null;
  if (authorityEnd === url.length) return '/';
  if (authorityEnd === queryStart) return '/' + url.slice(queryStart);
  return url.slice(pathStart);
}
