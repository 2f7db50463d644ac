/**
 * The embedded Ruby of Fluentd configs (`"#{...}"` in double-quoted values), evaluated without Ruby.
 * The subset is what public configs use:
 *
 * - literals: `'text'`, `"text #{code}"`, integers, `true`, `false`, `nil`;
 * - `ENV['X']`, `ENV.fetch('X')`, `ENV.fetch('X', default)`, `File.join(a, b, ...)`;
 * - `a || b`, `a + b` (strings or integers), `cond ? a : b`, `(...)`, `x = expr; ...` (locals),
 *   `expr rescue fallback`;
 * - `hostname`, `Socket.gethostname`, `worker_id`, `use_nil`, `use_default` (Fluentd's helpers);
 * - `IPAddr.new(x).ipv6?` / `.ipv4?`, so that fluentd-kubernetes-daemonset's in-cluster
 *   `kubernetes_url` expression gives the URL it computes from KUBERNETES_SERVICE_HOST/PORT.
 *
 * Anything else is refused before anything is evaluated (UnsupportedRuby). What Ruby would raise at
 * run time (ENV.fetch of an unset variable, a string plus nil) is a RubyRaise, which `rescue` catches.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { tokenize, UnsupportedRuby, type StringPart, type Token } from './ruby-lexer.js';

export { UnsupportedRuby };

/** An exception Ruby would raise while evaluating (a StandardError: `rescue` catches it). */
export class RubyRaise extends Error {}

/** Fluentd's `use_nil` and `use_default`: the whole value becomes unset. Not caught by `rescue`. */
export class UnsetSignal extends Error {
  constructor(readonly unset: 'nil' | 'default') {
    super(`use_${unset}`);
  }
}

export interface RubyContext {
  env: Readonly<Record<string, string | undefined>>;
  hostname: string;
  /** Fluentd's `worker_id` local. */
  workerId: string;
}

type Value = string | bigint | boolean | null;

type Node =
  | { t: 'lit'; v: Value }
  | { t: 'str'; parts: (string | Node)[] }
  | { t: 'var'; name: string }
  | { t: 'assign'; name: string; value: Node }
  | { t: 'seq'; body: Node[] }
  | { t: 'or'; l: Node; r: Node }
  | { t: 'plus'; l: Node; r: Node }
  | { t: 'cond'; c: Node; a: Node; b: Node }
  | { t: 'rescue'; body: Node; fallback: Node }
  | { t: 'env'; key: Node }
  | { t: 'fetch'; key: Node; fallback?: Node }
  | { t: 'join'; args: Node[] }
  | { t: 'ipaddr'; arg: Node; v6: boolean }
  | { t: 'hostname' }
  | { t: 'unset'; unset: 'nil' | 'default' };

const MAX_DEPTH = 64;
/** Longer code is refused: what configs embed is a line or two. */
export const MAX_CODE_LENGTH = 4096;

/** Evaluates the code of one `#{...}` to the text Ruby's interpolation gives. */
export function evaluateEmbeddedRuby(code: string, ctx: RubyContext): string {
  if (code.length > MAX_CODE_LENGTH) throw new UnsupportedRuby(`code longer than ${MAX_CODE_LENGTH} characters`);
  const program = new SubsetParser(code).program();
  const locals = new Map<string, Value>([
    ['hostname', ctx.hostname],
    ['worker_id', ctx.workerId],
  ]);
  return toS(evaluate(program, ctx, locals));
}

class SubsetParser {
  private readonly tokens: Token[];
  private i = 0;
  private depth = 0;

  constructor(
    code: string,
    private readonly locals = new Set(['hostname', 'worker_id']),
  ) {
    this.tokens = tokenize(code);
  }

  program(): Node {
    const body = this.statements();
    const t = this.peek();
    if (t.kind !== 'end') throw new UnsupportedRuby(describe(t));
    return body;
  }

  private statements(): Node {
    const body: Node[] = [];
    for (;;) {
      while (this.punct(';'));
      const t = this.peek();
      if (t.kind === 'end' || (t.kind === 'punct' && t.text === ')')) break;
      body.push(this.statement());
      if (!this.isPunct(';')) break;
    }
    return body.length === 1 ? body[0]! : { t: 'seq', body };
  }

  private statement(): Node {
    this.enter();
    const t = this.peek();
    const next = this.tokens[this.i + 1];
    let node: Node;
    if (t.kind === 'name' && /^[a-z_]/.test(t.name) && next?.kind === 'punct' && next.text === '=') {
      this.i += 2;
      this.locals.add(t.name);
      node = { t: 'assign', name: t.name, value: this.statement() };
    } else {
      node = this.conditional();
      while (this.name('rescue')) node = { t: 'rescue', body: node, fallback: this.conditional() };
    }
    this.depth--;
    return node;
  }

  private conditional(): Node {
    this.enter();
    const c = this.or();
    let node = c;
    if (this.punct('?')) {
      const a = this.conditional();
      this.expect(':');
      node = { t: 'cond', c, a, b: this.conditional() };
    }
    this.depth--;
    return node;
  }

  private or(): Node {
    let node = this.plus();
    while (this.punct('||')) node = { t: 'or', l: node, r: this.plus() };
    return node;
  }

  private plus(): Node {
    let node = this.primary();
    while (this.punct('+')) node = { t: 'plus', l: node, r: this.primary() };
    return node;
  }

  private primary(): Node {
    this.enter();
    const node = this.primaryBody();
    this.depth--;
    return node;
  }

  private primaryBody(): Node {
    const t = this.next();
    if (t.kind === 'string') return this.stringNode(t.parts);
    if (t.kind === 'int') return { t: 'lit', v: t.value };
    if (t.kind === 'punct') {
      if (t.text === '-') {
        const n = this.next();
        if (n.kind === 'int') return { t: 'lit', v: -n.value };
        throw new UnsupportedRuby(describe(n));
      }
      if (t.text === '(') {
        const body = this.statements();
        this.expect(')');
        return body;
      }
      throw new UnsupportedRuby(describe(t));
    }
    if (t.kind !== 'name') throw new UnsupportedRuby('the code ends too early');
    switch (t.name) {
      case 'true':
        return { t: 'lit', v: true };
      case 'false':
        return { t: 'lit', v: false };
      case 'nil':
        return { t: 'lit', v: null };
      case 'use_nil':
        return { t: 'unset', unset: 'nil' };
      case 'use_default':
        return { t: 'unset', unset: 'default' };
      case 'ENV':
        if (this.punct('[')) {
          const key = this.conditional();
          this.expect(']');
          return { t: 'env', key };
        }
        this.method('fetch');
        return this.fetchCall();
      case 'File':
        this.method('join');
        return { t: 'join', args: this.args() };
      case 'Socket':
        this.method('gethostname');
        return { t: 'hostname' };
      case 'IPAddr': {
        this.method('new');
        const args = this.args();
        if (args.length !== 1) throw new UnsupportedRuby('IPAddr.new with other than one argument');
        this.expect('.');
        const m = this.next();
        if (m.kind !== 'name' || (m.name !== 'ipv6?' && m.name !== 'ipv4?')) throw new UnsupportedRuby(`IPAddr.new(...).${describe(m)}`);
        return { t: 'ipaddr', arg: args[0]!, v6: m.name === 'ipv6?' };
      }
    }
    if (this.locals.has(t.name) && !this.isPunct('(') && !this.isPunct('.')) return { t: 'var', name: t.name };
    throw new UnsupportedRuby(`'${t.name}'`);
  }

  private fetchCall(): Node {
    const args = this.args();
    if (args.length < 1 || args.length > 2) throw new UnsupportedRuby('ENV.fetch with other than one or two arguments');
    return { t: 'fetch', key: args[0]!, fallback: args[1] };
  }

  private stringNode(parts: StringPart[]): Node {
    const out: (string | Node)[] = parts.map((p) => ('text' in p ? p.text : new SubsetParser(p.code, this.locals).nested(this.depth)));
    return out.length === 1 && typeof out[0] === 'string' ? { t: 'lit', v: out[0] } : { t: 'str', parts: out };
  }

  private nested(depth: number): Node {
    this.depth = depth;
    this.enter();
    return this.program();
  }

  private args(): Node[] {
    this.expect('(');
    const args: Node[] = [];
    if (this.punct(')')) return args;
    do args.push(this.conditional());
    while (this.punct(','));
    this.expect(')');
    return args;
  }

  private method(name: string): void {
    this.expect('.');
    const t = this.next();
    if (t.kind !== 'name' || t.name !== name) throw new UnsupportedRuby(`.${describe(t)}`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new UnsupportedRuby('code nested too deep');
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== 'end') this.i++;
    return t;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private punct(text: string): boolean {
    if (!this.isPunct(text)) return false;
    this.i++;
    return true;
  }

  private name(name: string): boolean {
    const t = this.peek();
    if (t.kind !== 'name' || t.name !== name) return false;
    this.i++;
    return true;
  }

  private expect(text: string): void {
    if (!this.punct(text)) throw new UnsupportedRuby(`${describe(this.peek())} where '${text}' was expected`);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'the end of the code';
    case 'name':
      return `'${t.name}'`;
    case 'punct':
      return `'${t.text}'`;
    case 'int':
      return `${t.value}`;
    case 'string':
      return 'a string';
  }
}

function evaluate(node: Node, ctx: RubyContext, locals: Map<string, Value>): Value {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'str':
      return node.parts.map((p) => (typeof p === 'string' ? p : toS(evaluate(p, ctx, locals)))).join('');
    case 'var':
      return locals.get(node.name) ?? null;
    case 'assign': {
      const v = evaluate(node.value, ctx, locals);
      locals.set(node.name, v);
      return v;
    }
    case 'seq': {
      let v: Value = null;
      for (const n of node.body) v = evaluate(n, ctx, locals);
      return v;
    }
    case 'or': {
      const l = evaluate(node.l, ctx, locals);
      return truthy(l) ? l : evaluate(node.r, ctx, locals);
    }
    case 'plus': {
      const l = evaluate(node.l, ctx, locals);
      const r = evaluate(node.r, ctx, locals);
      if (typeof l === 'string' && typeof r === 'string') return l + r;
      if (typeof l === 'bigint' && typeof r === 'bigint') return l + r;
      if (typeof l === 'string') throw new RubyRaise(`TypeError: no implicit conversion of ${className(r)} into String`);
      if (typeof l === 'bigint') throw new RubyRaise(`TypeError: ${className(r)} can't be coerced into Integer`);
      throw new RubyRaise(`NoMethodError: undefined method '+' for ${className(l)}`);
    }
    case 'cond':
      return truthy(evaluate(node.c, ctx, locals)) ? evaluate(node.a, ctx, locals) : evaluate(node.b, ctx, locals);
    case 'rescue':
      try {
        return evaluate(node.body, ctx, locals);
      } catch (err) {
        if (err instanceof RubyRaise) return evaluate(node.fallback, ctx, locals);
        throw err;
      }
    case 'env':
      return ctx.env[envKey(evaluate(node.key, ctx, locals))] ?? null;
    case 'fetch': {
      // Ruby evaluates every argument before the call: the default too, even when it is not used.
      const rawKey = evaluate(node.key, ctx, locals);
      const fallback = node.fallback === undefined ? undefined : evaluate(node.fallback, ctx, locals);
      const key = envKey(rawKey);
      const v = ctx.env[key];
      if (v !== undefined) return v;
      if (fallback === undefined) throw new RubyRaise(`KeyError: key not found: ${JSON.stringify(key)} (the environment variable ${key} is not set)`);
      return fallback;
    }
    case 'join':
      return fileJoin(node.args.map((a) => evaluate(a, ctx, locals)));
    case 'ipaddr':
      return ipAddressIsV6(evaluate(node.arg, ctx, locals)) === node.v6;
    case 'hostname':
      return ctx.hostname;
    case 'unset':
      throw new UnsetSignal(node.unset);
  }
}

function truthy(v: Value): boolean {
  return v !== null && v !== false;
}

/** Ruby's `to_s`, as string interpolation applies it. */
function toS(v: Value): string {
  if (v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

function className(v: Value): string {
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return String(v);
  return typeof v === 'string' ? 'String' : 'Integer';
}

function envKey(key: Value): string {
  if (typeof key !== 'string') throw new RubyRaise(`TypeError: no implicit conversion of ${className(key)} into String`);
  return key;
}

/**
 * Ruby's File.join: parts joined with one `/` between them; a separator already at the end of the
 * left part stands for it, and a part starting with one replaces the left part's trailing ones.
 */
function fileJoin(parts: Value[]): string {
  let out = '';
  parts.forEach((p, i) => {
    if (typeof p !== 'string') throw new RubyRaise(`TypeError: no implicit conversion of ${className(p)} into String`);
    if (i > 0) {
      const trailing = /\/+$/.exec(out);
      if (p.startsWith('/')) out = out.slice(0, trailing?.index ?? out.length);
      else if (trailing === null) out += '/';
    }
    out += p;
  });
  return out;
}

/** IPAddr.new(x): true for an IPv6 address, false for IPv4; raises for anything else, as Ruby does. */
function ipAddressIsV6(v: Value): boolean {
  if (typeof v !== 'string') throw new RubyRaise(`IPAddr::AddressFamilyError: address family must be specified`);
  let addr = v;
  const bracketed = /^\[(.*)\]$/.exec(addr);
  if (bracketed) addr = bracketed[1]!;
  const slash = addr.indexOf('/');
  const prefix = slash < 0 ? undefined : addr.slice(slash + 1);
  if (slash >= 0) addr = addr.slice(0, slash);
  let v6: boolean;
  if (isIPv6(addr.replace(/%[^%]+$/, ''))) v6 = true;
  else if (!bracketed && isIPv4(addr)) v6 = false;
  else throw new RubyRaise(`IPAddr::InvalidAddressError: invalid address: ${v}`);
  // `addr/prefix`: a prefix length, or a netmask of the same family.
  if (prefix !== undefined) {
    const valid = /^[0-9]+$/.test(prefix) ? Number(prefix) <= (v6 ? 128 : 32) : v6 ? isIPv6(prefix) : isIPv4(prefix);
    if (!valid) throw new RubyRaise(`IPAddr::InvalidPrefixError: invalid length: ${v}`);
  }
  return v6;
}
