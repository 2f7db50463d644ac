/**
 * What a pod asks of the log processor through its annotations, as Fluent Bit reads them:
 *
 *   fluentbit.io/parser[_stdout|_stderr][-<container>]: <parser>     (needs k8s-logging.parser)
 *   fluentbit.io/exclude[_stdout|_stderr][-<container>]: "true"      (needs k8s-logging.exclude)
 *
 * Without a stream suffix a rule covers both streams; without a container suffix, every container. A
 * container's own rule wins over a general one whatever their order; between two rules of the same
 * kind, the last one read wins. A parser that does not exist is ignored (and logged).
 */
import type { Parser } from '../../parsers/registry.js';

export interface ContainerProps {
  stdoutParser: Parser | undefined;
  stderrParser: Parser | undefined;
  stdoutExclude: boolean;
  stderrExclude: boolean;
}

export const NO_PROPS: ContainerProps = Object.freeze({ stdoutParser: undefined, stderrParser: undefined, stdoutExclude: false, stderrExclude: false });

export interface PropsContext {
  allowParser: boolean;
  allowExclude: boolean;
  parser(name: string): Parser | undefined;
  /** A rule that cannot apply (not allowed, unknown, no such parser): Fluent Bit warns. */
  warn(message: string): void;
}

const PREFIX = 'fluentbit.io/';

/** The rules of `annotations` (a pod's annotations map) for one container. */
export function containerProps(annotations: unknown, container: string | undefined, ctx: PropsContext): ContainerProps {
  if (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations)) return NO_PROPS;
  let props: (Omit<ContainerProps, 'stdoutExclude' | 'stderrExclude'> & { stdoutExclude: boolean | undefined; stderrExclude: boolean | undefined }) | undefined;
  for (const [key, value] of Object.entries(annotations as Record<string, unknown>)) {
    if (key.length <= PREFIX.length || !key.startsWith(PREFIX) || typeof value !== 'string') continue;
    const rule = parseRule(key.slice(PREFIX.length));
    if (typeof rule === 'string') {
      ctx.warn(`${rule} annotation '${key}'`);
      continue;
    }
    if (rule.container !== undefined && rule.container !== container) continue;
    props ??= { stdoutParser: undefined, stderrParser: undefined, stdoutExclude: undefined, stderrExclude: undefined };
    const own = rule.container !== undefined;
    const stdout = rule.stream !== 'stderr';
    const stderr = rule.stream !== 'stdout';
    if (rule.kind === 'parser') {
      if (!ctx.allowParser) {
        ctx.warn(`annotation 'fluentbit.io/parser' not allowed (k8s-logging.parser is off)`);
        continue;
      }
      const parser = ctx.parser(value);
      if (parser === undefined) {
        ctx.warn(`annotation parser '${value}' not found`);
        continue;
      }
      if (stdout && (own || props.stdoutParser === undefined)) props.stdoutParser = parser;
      if (stderr && (own || props.stderrParser === undefined)) props.stderrParser = parser;
    } else {
      if (!ctx.allowExclude) {
        ctx.warn(`annotation 'fluentbit.io/exclude' not allowed (k8s-logging.exclude is off)`);
        continue;
      }
      const exclude = /^(true|on|yes)$/i.test(value);
      if (stdout && (own || props.stdoutExclude === undefined)) props.stdoutExclude = exclude;
      if (stderr && (own || props.stderrExclude === undefined)) props.stderrExclude = exclude;
    }
  }
  if (props === undefined) return NO_PROPS;
  return { stdoutParser: props.stdoutParser, stderrParser: props.stderrParser, stdoutExclude: props.stdoutExclude === true, stderrExclude: props.stderrExclude === true };
}

interface Rule {
  kind: 'parser' | 'exclude';
  stream: 'stdout' | 'stderr' | undefined;
  container: string | undefined;
}

/** `parser_stdout-app` and the like; a string says what is wrong. */
function parseRule(property: string): Rule | string {
  let kind: Rule['kind'];
  let rest: string;
  if (property.startsWith('parser')) {
    kind = 'parser';
    rest = property.slice('parser'.length);
  } else if (property.startsWith('exclude')) {
    kind = 'exclude';
    rest = property.slice('exclude'.length);
  } else return 'unknown';
  let stream: Rule['stream'];
  if (rest.startsWith('_')) {
    if (rest.startsWith('_stdout')) stream = 'stdout';
    else if (rest.startsWith('_stderr')) stream = 'stderr';
    else return 'invalid stream in';
    rest = rest.slice('_stdout'.length);
  }
  let container: string | undefined;
  if (rest.startsWith('-')) {
    if (rest.length === 1) return 'invalid container in';
    container = rest.slice(1);
    rest = '';
  }
  if (rest.length > 0) return 'invalid';
  return { kind, stream, container };
}
