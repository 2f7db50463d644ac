/**
 * Fluent Bit's built-in multiline parsers (src/multiline/flb_ml_parser_*.c), always available:
 * `docker` and `cri` join a container runtime's split lines; `go`, `java`, `python` and `ruby` join
 * stack traces. The rules are Fluent Bit's, in its order.
 */
import { compileBoundedRegex } from '../regex/bounded-regex.js';
import { TimeFormat } from '../time/time-format.js';
import { JsonParser } from '../formats/json-parser.js';
import { RegexParser } from '../formats/regex-parser.js';
import type { ParserSettings } from '../formats/parser-settings.js';
import { DEFAULT_FLUSH_MS, linkRules, MultilineParser } from './multiline-parser.js';

type Rule = [states: string, regex: string, toState: string];

const GO: Rule[] = [
  ['start_state', '/\\bpanic: /', 'go_after_panic'],
  ['start_state', '/http: panic serving/', 'go_goroutine'],
  ['go_after_panic', '/^$/', 'go_goroutine'],
  ['go_after_panic, go_after_signal, go_frame_1', '/^$/', 'go_goroutine'],
  ['go_after_panic', '/^\\[signal /', 'go_after_signal'],
  ['go_goroutine', '/^goroutine \\d+ \\[[^\\]]+\\]:$/', 'go_frame_1'],
  ['go_frame_1', '/^(?:[^\\s.:]+\\.)*[^\\s.():]+\\(|^created by /', 'go_frame_2'],
  ['go_frame_2', '/^\\s/', 'go_frame_1'],
];

const JAVA: Rule[] = [
  ['start_state, java_start_exception', '/(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\\r\\n]/', 'java_after_exception'],
  ['java_after_exception', '/^[\\t ]*nested exception is:[\\t ]*/', 'java_start_exception'],
  ['java_after_exception', '/^[\\r\\n]*$/', 'java_after_exception'],
  ['java_after_exception, java', '/^[\\t ]+(?:eval )?at /', 'java'],
  ['java_after_exception, java', '/^[\\t ]+--- End of inner exception stack trace ---$/', 'java'],
  ['java_after_exception, java', '/^--- End of stack trace from previous (?x:\n)location where exception was thrown ---$/', 'java'],
  ['java_after_exception, java', '/^[\\t ]*(?:Caused by|Suppressed):/', 'java_after_exception'],
  ['java_after_exception, java', '/^[\\t ]*... \\d+ (?:more|common frames omitted)/', 'java'],
];

const PYTHON: Rule[] = [
  ['start_state', '/^Traceback \\(most recent call last\\):$/', 'python'],
  ['python', '/^[\\t ]+File /', 'python_code'],
  ['python_code', '/[^\\t ]/', 'python'],
  ['python', '/^(?:[^\\s.():]+\\.)*[^\\s.():]+:/', 'start_state'],
];

const RUBY: Rule[] = [
  ['start_state, ruby_start_exception', '/^.+:\\d+:in\\s+.*/', 'ruby_after_exception'],
  ['ruby_after_exception, ruby', '/^\\s+from\\s+.*:\\d+:in\\s+.*/', 'ruby'],
];

function rules(list: Rule[]) {
  return linkRules(list.map(([states, regex, toState]) => ({ states, regex: compileBoundedRegex(regex), toState })));
}

function settings(name: string, timeFormat: string, skipEmpty: boolean): ParserSettings {
  return {
    name,
    timeKey: 'time',
    timeFormat: new TimeFormat({ format: timeFormat, strict: false }),
    timeKeep: true,
    types: undefined,
    decoders: undefined,
    skipEmpty,
    logfmtNoBareKeys: false,
  };
}

/** The built-ins' names, in the order they are listed. */
export const BUILTIN_MULTILINE_NAMES: readonly string[] = ['docker', 'cri', 'java', 'go', 'ruby', 'python'];

/** One built-in, freshly compiled (a registry compiles each when first asked: their regexes cost start-up). */
export function builtinMultilineParser(name: string): MultilineParser | undefined {
  switch (name) {
    case 'docker':
      return new MultilineParser(
        { name: 'docker', type: 'endswith', matchString: '\n', flushMs: DEFAULT_FLUSH_MS, keyContent: 'log', keyGroup: 'stream' },
        new JsonParser(settings('_ml_json_docker', '%Y-%m-%dT%H:%M:%S.%L', true)),
      );
    case 'cri':
      return new MultilineParser(
        { name: 'cri', type: 'equal', matchString: 'F', flushMs: DEFAULT_FLUSH_MS, keyContent: 'log', keyGroup: 'stream', keyPattern: '_p' },
        new RegexParser(settings('_ml_cri', '%Y-%m-%dT%H:%M:%S.%L%z', false), compileBoundedRegex('^(?<time>.+?) (?<stream>stdout|stderr) (?<_p>F|P) (?<log>.*)$')),
      );
    case 'java':
      return new MultilineParser({ name: 'java', type: 'regex', rules: rules(JAVA) });
    case 'go':
      return new MultilineParser({ name: 'go', type: 'regex', rules: rules(GO) });
    case 'ruby':
      return new MultilineParser({ name: 'ruby', type: 'regex', rules: rules(RUBY) });
    case 'python':
      return new MultilineParser({ name: 'python', type: 'regex', rules: rules(PYTHON) });
    default:
      return undefined;
  }
}

/** The six built-ins, freshly compiled. */
export function builtinMultilineParsers(): MultilineParser[] {
  return BUILTIN_MULTILINE_NAMES.map((name) => builtinMultilineParser(name)!);
}
