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
import { tokenize, UnsupportedRuby, type StringPart, type Token } from './ruby-lexer.js';
import { evaluate, toS, type Node, type RubyContext, type Value } from './ruby-evaluate.js';

export { UnsupportedRuby };
export { RubyRaise, UnsetSignal, type RubyContext } from './ruby-evaluate.js';

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
