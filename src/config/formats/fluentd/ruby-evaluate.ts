/**
 * Evaluation of the embedded Ruby subset's syntax tree (built by ruby-subset.ts), with Ruby's rules:
 * nil and false are the only false values, arguments are evaluated before a call, `rescue` catches what
 * Ruby would raise (RubyRaise) but not use_nil/use_default (UnsetSignal, an Exception in Fluentd).
 */
import { isIPv4, isIPv6 } from 'node:net';

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

export type Value = string | bigint | boolean | null;

export type Node =
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

export function evaluate(node: Node, ctx: RubyContext, locals: Map<string, Value>): Value {
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
export function toS(v: Value): string {
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
