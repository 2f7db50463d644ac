/**
 * The tag of a followed file, as Fluent Bit's in_tail composes it: a `*` in `tag` is replaced by the
 * file's absolute path with every `/` turned into `.` and the leading one dropped, so `kube.*` on
 * `/var/log/containers/a_b_c-<id>.log` gives `kube.var.log.containers.a_b_c-<id>.log`.
 */
export function tagForPath(tagTemplate: string, path: string): string {
  if (!tagTemplate.includes('*')) return tagTemplate;
  let dotted = path.replace(/\//g, '.');
  while (dotted.startsWith('.')) dotted = dotted.slice(1);
  return tagTemplate.replace(/\*/g, dotted);
}
