/**
 * Records are untrusted: every filter, on seeded random records (odd keys, lone surrogates, deep maps,
 * arrays, numbers of every kind, keys named like the rules' keys), answers without throwing and leaves
 * records that are plain objects JSON can print.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { startFilters } from './filter-harness.js';

/** xorshift32: the same records on every run, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const KEYS = ['log', 'a', 'b', 'Mem.used', 'Mem', 'level', 'k8s_pod', 'x', 'n', '🔥', '', 'constructor', '__proto__', '1', 'Swap.free'];
const STRINGS = ['error disk', 'info', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', '\ud800', '12abc', '0x1F', 'true', '', ' -7', 'é🔥', 'a\nERROR b'];

function value(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * 9);
  switch (pick) {
    case 0:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 1:
      return Math.floor(r() * 2 ** 40) - 2 ** 39;
    case 2:
      return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 3:
      return r() < 0.5;
    case 4:
      return null;
    case 5:
      return depth > 3 ? 'deep' : Array.from({ length: Math.floor(r() * 3) }, () => value(r, depth + 1));
    case 6:
      return depth > 3 ? 'deep' : record(r, depth + 1);
    default:
      return STRINGS[Math.floor(r() * STRINGS.length)]!.repeat(1 + Math.floor(r() * 50));
  }
}

function record(r: () => number, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) Object.defineProperty(out, KEYS[Math.floor(r() * KEYS.length)]!, { value: value(r, depth), enumerable: true, writable: true, configurable: true });
  return out;
}

const FILTERS = [
  { name: 'grep', match: '*', exclude: 'log ^(a+)+$' },
  { name: 'grep', match: '*', logical_op: 'or', exclude: ['$Mem.used x', "$kubernetes['labels']['app'] y"] },
  { name: 'modify', match: '*', condition: 'a_key_matches ^.', set: 'a x', add: 'b y', rename: 'log message', hard_copy: 'message log', copy: 'Mem.used m', remove_regex: '^k8s', move_to_end: 'M', remove_wildcard: 'Swap', hard_rename: '1 one' },
  { name: 'record_modifier', match: '*', record: 'r "v w"', remove_key: ['x', 'n*'], uuid_key: 'id' },
  { name: 'nest', match: '*', operation: 'nest', wildcard: ['a*', 'b'], nest_under: 'nested', add_prefix: 'p_' },
  { name: 'nest', match: '*', operation: 'lift', nested_under: 'nested', remove_prefix: 'p_' },
  { name: 'type_converter', match: '*', str_key: ['log l_int int', 'log l_float float', 'log l_hex hex'], int_key: 'n n_str string', float_key: ['n n_uint uint', 'n n_int int'] },
  { name: 'rewrite_tag', match: 'in', rule: ['$log ^(error) $1.$TAG.$level true', '$a . again false'] },
  { name: 'throttle', match: '*', rate: '1000000' },
  { name: 'multiline', match: '*', 'multiline.key_content': 'log', 'multiline.parser': 'java, python, go' },
  { name: 'parser', match: '*', key_name: 'log', parser: ['j', 'kv'], reserve_data: true, preserve_key: true },
];

const PARSERS = [
  { name: 'j', format: 'json' },
  { name: 'kv', format: 'regex', regex: '^(?<level>\\w+) (?<msg>.*)$' },
];

test('every filter takes random records without throwing and leaves printable plain records', async (t) => {
  const p = await startFilters(FILTERS, undefined, { parsers: PARSERS });
  t.after(() => p.stop());
  const r = random(0x5eed);
  for (let batch = 0; batch < 40; batch++) {
    await p.emit('in', Array.from({ length: 50 }, () => record(r)));
  }
  // A key JSON.parse makes an own property like any other (forward and tail records come that way).
  await p.emit('in', [JSON.parse('{"__proto__":{"polluted":true},"a":"1","b":"2","log":"error x","nested":{"__proto__":{"q":1}}}') as Record<string, unknown>]);
  assert.ok(p.out.length > 0);
  const last = p.out.filter((e) => e.tag === 'in').at(-1)!;
  assert.ok(Object.hasOwn(last.record, '__proto__'), 'the __proto__ key is kept as a key');
  assert.equal(last.record.msg, 'x', 'parsed by the parser filter, which kept the __proto__ key with reserve_data');
  for (const e of p.out as LogEvent[]) {
    assert.equal(Object.getPrototypeOf(e.record), Object.prototype);
    assert.doesNotThrow(() => JSON.stringify(e.record));
  }
});
