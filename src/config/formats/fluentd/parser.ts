/**
 * Fluentd's configuration syntax (v1, lib/fluent/config/v1_parser.rb) into a tree of directives: each
 * `<name arg>` ... `</name>` an element holding parameters (`key value`, one a line) and nested
 * elements; `@include` merges other files in where it stands. Only the syntax: which directives and
 * parameters mean something is for the mapping onto floki's plugins.
 *
 * A syntax error stops the reading of the files, as it stops Fluentd; embedded Ruby floki cannot
 * evaluate and includes it cannot read are collected, so that every one of them is reported at once.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { expandIncludePattern, includePattern, IncludePathError } from './include-path.js';
import { isUnset, parseLiteral, scanString, type Literal, type LiteralReader } from './literal.js';
import { evaluateEmbeddedRuby, RubyRaise, UnsetSignal, UnsupportedRuby, type RubyContext } from './ruby-subset.js';
import { LINE_END, Scanner, SPACING, SPACING_WITHOUT_COMMENT, ZERO_OR_MORE_SPACING } from './scanner.js';
import type { FluentdElement, FluentdParam } from './tree.js';

export interface FluentdLimits {
  /** Largest file, in bytes. */
  fileBytes: number;
  /** Files read in all, the main one and every include. */
  files: number;
  /** Includes within includes. */
  includeDepth: number;
  /** Sections within sections. */
  elementDepth: number;
}

export const DEFAULT_LIMITS: FluentdLimits = { fileBytes: 4 << 20, files: 1000, includeDepth: 16, elementDepth: 64 };

export interface FluentdParseOptions {
  /** The environment embedded Ruby's ENV reads; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** What `hostname` and `Socket.gethostname` give; the machine's host name by default. */
  hostname?: string;
  limits?: Partial<FluentdLimits>;
}

export interface FluentdConfig {
  root: FluentdElement;
  /** What Fluentd accepts but warns about (deprecated forms, a key given twice, includes matching nothing). */
  warnings: ConfigProblem[];
  /** Every file read, the main one first. */
  files: string[];
}

/** Reads a Fluentd config file and everything it includes. Throws ConfigError naming file and line. */
export function parseFluentdFile(path: string, options: FluentdParseOptions = {}): FluentdConfig {
  const session = new Session(options);
  const root = newElement('ROOT', '', path, 1);
  session.run(() => session.parseFile(path, resolve(path), root, []));
  return session.result(root);
}

/** Parses config text as if read from `file` (includes are relative to `file`'s folder). */
export function parseFluentdText(text: string, file: string, options: FluentdParseOptions = {}): FluentdConfig {
  const session = new Session(options);
  const root = newElement('ROOT', '', file, 1);
  session.files.push(file);
  session.run(() => new FileParser(session, text, file, dirname(resolve(file)), [resolve(file)]).parseElement(true, null, root, 0));
  return session.result(root);
}

function newElement(name: string, arg: string, file: string, line: number): FluentdElement {
  return { name, arg, params: [], elements: [], file, line };
}

/** Thrown to stop at a syntax error; its problem is reported with those collected so far. */
class SyntaxStop extends Error {
  constructor(readonly problem: ConfigProblem) {
    super(problem.message);
  }
}

class Session {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];
  readonly files: string[] = [];
  readonly limits: FluentdLimits;
  readonly ruby: RubyContext;

  constructor(options: FluentdParseOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const env = options.env ?? process.env;
    this.ruby = { env, hostname: options.hostname ?? osHostname(), workerId: env['SERVERENGINE_WORKER_ID'] ?? '0' };
  }

  run(parse: () => void): void {
    try {
      parse();
    } catch (err) {
      if (!(err instanceof SyntaxStop)) throw err;
      this.problems.push(err.problem);
    }
  }

  result(root: FluentdElement): FluentdConfig {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return { root, warnings: this.warnings, files: this.files };
  }

  /** Reads one file into `into`; `chain` is the real paths of the files including it. */
  parseFile(display: string, absolute: string, into: FluentdElement, chain: string[]): void {
    let bytes: Buffer;
    try {
      const st = statSync(absolute);
      if (st.isDirectory()) throw new Error('is a folder');
      if (st.size > this.limits.fileBytes) throw new Error(`is larger than ${this.limits.fileBytes} bytes`);
      bytes = readFileSync(absolute);
    } catch (err) {
      throw new SyntaxStop({ file: display, line: 1, message: `cannot read the file: ${describeReadError(err)}` });
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new SyntaxStop({ file: display, line: 1, message: 'the file is not valid UTF-8 (Fluentd reads configs as UTF-8)' });
    }
    if (text.startsWith('\uFEFF')) {
      text = text.slice(1);
      this.warnings.push({ file: display, line: 1, message: 'the file starts with a byte order mark, which floki skips (Fluentd does not)' });
    }
    this.files.push(display);
    new FileParser(this, text, display, dirname(absolute), [...chain, realPath(absolute)]).parseElement(true, null, into, 0);
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function describeReadError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES') return 'permission denied';
  return e.message;
}

/** Directives whose parameters must not start with `@` unless reserved (Fluentd refuses them there). */
const DIRECTIVES = new Set(['match', 'source', 'filter', 'system']);
const RESERVED = new Set(['@type', '@id', '@label', '@log_level']);
const ELEMENT_NAME = /[a-zA-Z0-9_]+/y;
const ROOT_INCLUDE = /(?:@include|include)(?:[ \t\r\n]|$|#[^\n]*?(?:$|[\r\n]))+/y;
const ELEMENT_ARG_END = new RegExp(`(?:${ZERO_OR_MORE_SPACING.source})>`, 'y');

class FileParser implements LiteralReader {
  readonly sc: Scanner;

  constructor(
    private readonly session: Session,
    text: string,
    private readonly file: string,
    private readonly dir: string,
    /** Real paths of this file and the files that include it, outermost first. */
    private readonly chain: string[],
  ) {
    this.sc = new Scanner(text);
  }

  fail(message: string, pos = this.sc.pos): never {
    throw new SyntaxStop({ file: this.file, line: this.sc.lineAt(pos), message });
  }

  private failAtLine(message: string, line: number): never {
    throw new SyntaxStop({ file: this.file, line, message });
  }

  embedded(code: string, pos: number): Literal {
    const line = this.sc.lineAt(pos);
    const shown = `"#{${code.length > 200 ? `${code.slice(0, 200)}...` : code}}"`;
    try {
      return evaluateEmbeddedRuby(code, this.session.ruby);
    } catch (err) {
      if (err instanceof UnsetSignal) return { unset: err.unset };
      let message: string;
      if (err instanceof UnsupportedRuby) {
        message = `embedded Ruby ${shown} is outside what floki evaluates (${err.message}): floki evaluates string literals, ENV['X'], ENV.fetch('X', 'default'), ||, +, File.join, hostname, worker_id, use_nil, use_default and the kubernetes_url expression of fluentd-kubernetes-daemonset`;
      } else if (err instanceof RubyRaise) {
        message = `embedded Ruby ${shown} raised ${err.message}`;
      } else throw err;
      this.session.problems.push({ file: this.file, line, message });
      return '';
    }
  }

  private warn(message: string, pos = this.sc.pos): void {
    this.session.warnings.push({ file: this.file, line: this.sc.lineAt(pos), message });
  }

  /** Reads parameters and elements into `into` up to `</elemName>` (or the end, for a file's top). */
  parseElement(isRoot: boolean, elemName: string | null, into: FluentdElement, depth: number): void {
    const sc = this.sc;
    for (;;) {
      sc.skip(SPACING);
      if (sc.eof) {
        if (isRoot) return;
        this.failAtLine(`<${elemName}${into.arg === '' ? '' : ` ${into.arg}`}> is not closed: expected '</${elemName}>' before the end of the file`, into.line);
      }
      const at = sc.pos;
      if (sc.skipString('</')) {
        const name = sc.scan(ELEMENT_NAME);
        // Fluentd takes a nameless '</>' as the end of the file, silently dropping what follows it.
        if (name === null) this.fail("expected a section name after '</'");
        sc.skip(SPACING);
        if (!sc.skipString('>')) this.fail(`expected '>' to end '</${name}'`);
        if (!sc.skip(LINE_END)) this.fail(`expected the end of the line after '</${name}>'`);
        if (name !== elemName) this.fail(elemName === null ? `'</${name}>' closes no section` : `'</${name}>' where '</${elemName}>' was expected`, at);
        return;
      }
      if (sc.skipString('<')) {
        this.parseSection(into, depth, at);
      } else if (isRoot && sc.check(ROOT_INCLUDE) !== null) {
        if (!sc.text.startsWith('@', at)) this.warn("'include' is deprecated: use '@include'", at);
        sc.skip(ROOT_INCLUDE);
        this.parseInclude(into, at);
      } else {
        this.parseParam(isRoot, elemName, into, at);
      }
    }
  }

  private parseSection(into: FluentdElement, depth: number, at: number): void {
    const sc = this.sc;
    const name = sc.scan(ELEMENT_NAME);
    if (name === null) this.fail("expected a section name after '<'");
    sc.skip(SPACING);
    const arg = scanString(this, ELEMENT_ARG_END);
    sc.skip(SPACING);
    if (!sc.skipString('>')) this.fail(`expected '>' to end '<${name}'`);
    if (!sc.skip(LINE_END)) this.fail(`expected the end of the line after '<${name}...>'`);
    if (isUnset(arg)) this.fail(`use_${arg.unset} cannot stand for the argument of <${name}>`, at);
    if (depth + 1 > this.session.limits.elementDepth) this.fail(`sections nested deeper than ${this.session.limits.elementDepth}`, at);
    const element = newElement(name, arg ?? '', this.file, sc.lineAt(at));
    this.parseElement(false, name, element, depth + 1);
    into.elements.push(element);
  }

  private parseParam(isRoot: boolean, elemName: string | null, into: FluentdElement, at: number): void {
    const sc = this.sc;
    const key = scanString(this, SPACING);
    if (key === null) this.fail('expected a parameter');
    if (isUnset(key)) this.fail(`use_${key.unset} cannot stand for a parameter name`, at);
    if (!sc.skip(SPACING_WITHOUT_COMMENT)) this.fail(`expected a space after the parameter name '${key}'`);
    if (sc.lastMatch!.includes('\n') || sc.eof) {
      // A key alone on its line has the empty string as its value.
      this.setParam(into, key, '', at);
      return;
    }
    if (key === '@include') {
      this.parseInclude(into, at);
      return;
    }
    if (key.startsWith('@') && !RESERVED.has(key)) {
      if (isRoot || (elemName !== null && DIRECTIVES.has(elemName))) {
        this.fail(`'@' is the system reserved prefix: '${key}' is not a parameter Fluentd accepts`, at);
      }
      this.warn(`'@' is the system reserved prefix: Fluentd accepts '${key}' in a nested section for now but will reject it`, at);
    }
    const value = parseLiteral(this);
    if (!sc.skip(LINE_END)) this.fail(`expected the end of the line after the value of '${key}'`);
    this.setParam(into, key, value ?? '', at);
  }

  private setParam(into: FluentdElement, key: string, value: Literal, at: number): void {
    const line = this.sc.lineAt(at);
    const param: FluentdParam = isUnset(value) ? { key, value: null, unset: value.unset, file: this.file, line } : { key, value, file: this.file, line };
    const i = into.params.findIndex((p) => p.key === key);
    if (i < 0) {
      into.params.push(param);
      return;
    }
    const first = into.params[i]!;
    this.warn(`'${key}' is given again (first at ${first.file}:${first.line}); this later value is the one used`, at);
    into.params[i] = param;
  }

  private parseInclude(into: FluentdElement, at: number): void {
    const sc = this.sc;
    const arg = scanString(this, LINE_END);
    sc.skip(LINE_END);
    if (arg === null || arg === '') this.fail('@include needs a path', at);
    if (isUnset(arg)) this.fail(`use_${arg.unset} cannot stand for an @include path`, at);
    const problem = (message: string): void => {
      this.session.problems.push({ file: this.file, line: sc.lineAt(at), message: `@include ${arg}: ${message}` });
    };
    let paths: string[];
    try {
      const pattern = includePattern(arg, this.dir);
      paths = expandIncludePattern(pattern);
      if (paths.length === 0) this.warn(`@include ${arg}: no file matches ${pattern}; nothing is included (as in Fluentd)`, at);
    } catch (err) {
      if (!(err instanceof IncludePathError)) throw err;
      problem(err.message);
      return;
    }
    const { limits } = this.session;
    for (const path of paths) {
      const real = realPath(path);
      if (this.chain.includes(real)) {
        problem(`include cycle: ${[...this.chain.slice(this.chain.indexOf(real)), real].map(displayPath).join(' -> ')}`);
        continue;
      }
      if (this.chain.length > limits.includeDepth) {
        problem(`includes nested deeper than ${limits.includeDepth}`);
        return;
      }
      if (this.session.files.length >= limits.files) {
        problem(`more than ${limits.files} files in all`);
        return;
      }
      this.session.parseFile(displayPath(path), path, into, this.chain);
    }
  }
}

/** A path as messages show it: relative to the working folder when below it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
