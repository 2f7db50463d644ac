/**
 * The tag of a followed file, as Fluent Bit's in_tail composes it (plugins/in_tail/tail_file.c
 * tag_compose):
 *
 * - Without `tag_regex`, the first `*` in `tag` is replaced by the file's path; then every `/`, `\`
 *   and `:` becomes a `.` (one at the very start is dropped), `..` becomes `.`, any other `*` is
 *   dropped, and so is a final `.`. `kube.*` on `/var/log/containers/a_b_c-<id>.log` gives
 *   `kube.var.log.containers.a_b_c-<id>.log`. A tag without `*` is the tag.
 * - With `tag_regex`, each `<name>` in `tag` is the value of the named group `name` of the regex
 *   matched on the file's path, or `_` when it captured nothing; nothing else changes. A file whose
 *   path the regex does not match has no tag (Fluent Bit does not follow it).
 */
import type { BoundedRegex } from '../../parsers/regex/bounded-regex.js';

export function tagForPath(tagTemplate: string, path: string, tagRegex?: BoundedRegex): string | undefined {
  if (tagRegex !== undefined) return regexTag(tagTemplate, path, tagRegex);
  const star = tagTemplate.indexOf('*');
  if (star < 0) return tagTemplate;
  return sanitize(tagTemplate.slice(0, star) + path + tagTemplate.slice(star + 1));
}

function sanitize(tag: string): string {
  const out = tag.split('');
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if (c === '/' || c === '\\' || c === ':') {
      if (i > 0) out[i] = '.';
      else {
        out.splice(i, 1);
        i--;
        continue;
      }
    }
    if (i > 0 && out[i] === '.') {
      if (out[i - 1] === '.') {
        out.splice(i, 1);
        i--;
      }
    } else if (out[i] === '*') {
      out.splice(i, 1);
      i--;
    }
  }
  if (out[out.length - 1] === '.') out.pop();
  return out.join('');
}

function regexTag(tagTemplate: string, path: string, regex: BoundedRegex): string | undefined {
  const m = regex.exec(path);
  if (m === null) return undefined;
  const groups = new Map<string, string>();
  regex.names.forEach((name, i) => {
    const v = m[i + 1];
    if (v !== undefined && v.length > 0 && !groups.has(name)) groups.set(name, v);
  });
  let out = '';
  let p = 0;
  for (let open = tagTemplate.indexOf('<', p); open >= 0; open = tagTemplate.indexOf('<', p)) {
    const close = tagTemplate.indexOf('>', open + 1);
    // The options check refused a `<` without its `>`.
    if (close < 0) break;
    out += tagTemplate.slice(p, open) + (groups.get(tagTemplate.slice(open + 1, close)) ?? '_');
    p = close + 1;
  }
  return out + tagTemplate.slice(p);
}
