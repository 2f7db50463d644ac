/**
 * A multiline parser's definition (Fluent Bit's flb_ml_parser): how to tell a first line from a
 * continuation. Joining itself is the MultilineJoiner's work; this holds no state per stream.
 *
 *  - `type regex`: rules `state  /regex/  next_state`. A line matching a `start_state` rule starts an
 *    entry; while in a state, the rules listed under the state the last rule led to are tried on each
 *    line (in the order written) and a match appends the line. A rule leading back to a state that has
 *    a start rule ends the entry right after its line (Python's final `XxxError: …`).
 *  - `type endswith` / `equal`: a line whose content (or `key_pattern` value) ends with / equals
 *    `match_string` ends the entry, the others are pieces of it (`negate` turns the test around);
 *    pieces are joined without a separator (Docker's `\n`-less pieces, CRI's `P`/`F`).
 *  - `parser`: a parser applied to each text line first (docker's JSON, cri's regex); the rules then
 *    look at its `key_content` value, and the entry is that parsed record with the joined content.
 *  - `key_content` (the field holding the text), `key_pattern` (the field the test reads instead),
 *    `key_group` (entries are joined separately per value of that field: `stream` → stdout/stderr).
 *  - `flush_timeout` (ms, default 4000): how long an unfinished entry may wait for its next line.
 */
import type { BoundedRegex } from '../regex/bounded-regex.js';
import type { Parser } from '../registry.js';

export type MultilineType = 'regex' | 'endswith' | 'equal';

export const DEFAULT_FLUSH_MS = 4000;

export interface StateRule {
  fromStates: readonly string[];
  /** Listed under `start_state`: may start an entry. */
  start: boolean;
  regex: BoundedRegex;
  toState: string | undefined;
  /** The rules listed under `toState`, in the order written (Fluent Bit's to_state_map). */
  next: StateRule[];
  /** Some rule of `next` is a start rule: the entry ends after a line matching this rule. */
  endsEntry: boolean;
}

export interface MultilineDefinition {
  name: string;
  type: MultilineType;
  matchString?: string;
  negate?: boolean;
  flushMs?: number;
  keyContent?: string;
  keyPattern?: string;
  keyGroup?: string;
  /** Name of the parser applied to text lines first. */
  parserName?: string;
  rules?: StateRule[];
}

export class MultilineParser {
  readonly name: string;
  readonly type: MultilineType;
  readonly matchString: string;
  readonly negate: boolean;
  readonly flushMs: number;
  readonly keyContent: string | undefined;
  readonly keyPattern: string | undefined;
  readonly keyGroup: string | undefined;
  readonly parserName: string | undefined;
  readonly rules: readonly StateRule[];
  readonly startRules: readonly StateRule[];
  /** The parser named by `parser`, once the registry resolved it. */
  parser: Parser | undefined;

  constructor(def: MultilineDefinition, parser?: Parser) {
    this.name = def.name;
    this.type = def.type;
    this.matchString = def.matchString ?? '';
    this.negate = def.negate === true;
    this.flushMs = def.flushMs !== undefined && def.flushMs > 0 ? def.flushMs : DEFAULT_FLUSH_MS;
    this.keyContent = def.keyContent;
    this.keyPattern = def.keyPattern;
    this.keyGroup = def.keyGroup;
    this.parserName = def.parserName;
    this.rules = def.rules ?? [];
    this.startRules = this.rules.filter((r) => r.start);
    this.parser = parser;
  }

  /** endswith / equal: does this line end the entry? */
  isLast(text: string): boolean {
    const hit = this.type === 'endswith' ? text.endsWith(this.matchString) : text === this.matchString;
    return hit !== this.negate;
  }

  /** The first start rule matching `text`. */
  startRule(text: string): StateRule | undefined {
    for (const r of this.startRules) if (r.regex.test(text)) return r;
    return undefined;
  }
}

export interface RuleSource {
  /** Comma-separated states: `start_state, java_start_exception`. */
  states: string;
  regex: BoundedRegex;
  toState: string | undefined;
}

export class RuleError extends Error {
  constructor(
    /** Index of the rule the problem is about. */
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

/** Links rules into a state machine (Fluent Bit's flb_ml_rule_init); throws RuleError. */
export function linkRules(sources: readonly RuleSource[]): StateRule[] {
  const rules: StateRule[] = sources.map((s, i) => {
    const fromStates = s.states
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0);
    if (fromStates.length === 0) throw new RuleError(i, 'a rule needs a state');
    const start = fromStates.includes('start_state');
    if (i === 0 && !start) throw new RuleError(i, 'the first rule must be a start_state rule');
    return { fromStates, start, regex: s.regex, toState: s.toState, next: [], endsEntry: false };
  });
  rules.forEach((rule, i) => {
    if (rule.toState === undefined) return;
    const to = rule.toState;
    rule.next = rules.filter((r) => r.fromStates.includes(to));
    if (rule.next.length === 0) throw new RuleError(i, `next state ${JSON.stringify(to)} is not the state of any rule`);
    rule.endsEntry = rule.next.some((r) => r.start);
  });
  return rules;
}
