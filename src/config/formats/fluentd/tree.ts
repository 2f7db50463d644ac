/**
 * What a Fluentd config file says, before any plugin gives it meaning: directives (`<source>`,
 * `<match PATTERN>`, ...) with their argument, parameters and nested sections, each with the file and
 * line it was written on. `@include`d files are already merged in where they were included.
 */

export interface FluentdParam {
  key: string;
  /**
   * The value as Fluentd hands it to the plugin: quotes and escapes resolved, embedded Ruby evaluated,
   * a JSON array or hash re-serialised compactly. null when `"#{use_nil}"` or `"#{use_default}"` left
   * it unset (see `unset`).
   */
  value: string | null;
  /** `nil`: set to nil (use_nil); `default`: the plugin's default applies (use_default). */
  unset?: 'nil' | 'default';
  file: string;
  line: number;
}

export interface FluentdElement {
  /** The directive or section name: `source`, `match`, `parse`, ...; `ROOT` for the file itself. */
  name: string;
  /** What follows the name in `<name ARG>`: a tag pattern, a label name, a buffer's chunk keys; or ''. */
  arg: string;
  /**
   * Parameters in the order first given. A key given again replaces the earlier value (Fluentd keeps
   * the last one) and is reported as a warning.
   */
  params: FluentdParam[];
  elements: FluentdElement[];
  file: string;
  line: number;
}

/** The parameter `key` of an element, if given. */
export function param(element: FluentdElement, key: string): FluentdParam | undefined {
  return element.params.find((p) => p.key === key);
}
