/**
 * Reading JSON the way Fluent Bit's packer does (flb_pack.c with yyjson): the text holds one value,
 * maybe followed by white space or by text that does not start another JSON value (`{"a":1} tail`
 * is read as `{"a":1}`); two values (`{"a":1}{"b":2}`, `{"a":1} 123`) are refused.
 *
 * JSON.parse does the reading; only a text it refuses is scanned here, iteratively (no recursion,
 * so a deeply nested hostile line cannot overflow the stack), to find where its first value ends.
 *
 * A value nested deeper than a record may be (MAX_RECORD_NESTING, the limit every input's decoder
 * applies) is refused as TOO_DEEP: copying, printing and encoding such a record recurse on its nesting
 * and throw from about 2,000 levels, far from where it was read. The caller leaves the text unparsed,
 * as Fluent Bit does with a value it cannot read, and counts it.
 */
import { MAX_RECORD_NESTING, nestingExceeds } from '../../core/limits.js';

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** What parseOneJsonValue returns for a value nested deeper than it allows. */
export const TOO_DEEP: unique symbol = Symbol('nested too deeply');

/**
 * The one JSON value in `text` (Fluent Bit's rule above), or undefined; TOO_DEEP when it nests maps
 * and arrays deeper than `levels` (the value itself is level 1: a value put under a key of a record
 * may have one level less than the record).
 */
export function parseOneJsonValue(text: string, levels: number = MAX_RECORD_NESTING): unknown {
  const value = parseAnyDepth(text);
  return nestingExceeds(value, levels) ? TOO_DEEP : value;
}

function parseAnyDepth(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not exactly one value: maybe one value followed by something else.
  }
  let start = 0;
  while (start < text.length && WS.has(text.charCodeAt(start))) start++;
  const end = jsonValueEnd(text, start);
  if (end < 0) return undefined;
  let next = end;
  while (next < text.length && WS.has(text.charCodeAt(next))) next++;
  if (next < text.length && jsonValueEnd(text, next) >= 0) return undefined;
  try {
    return JSON.parse(text.slice(start, end));
  } catch {
    return undefined;
  }
}

/**
 * Where the JSON value starting at `i` ends (the index after it), or -1 when no whole value starts
 * there. Checks the grammar loosely (structure, strings, number and literal shapes); JSON.parse does
 * the exact reading afterwards.
 */
export function jsonValueEnd(s: string, i: number): number {
  // Stack of open containers: true for an object, false for an array.
  const stack: boolean[] = [];
  for (;;) {
    i = skipWs(s, i);
    const c = s.charCodeAt(i);
    let end: number;
    if (c === 0x7b /* { */) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 0x7d) end = i + 1;
      else {
        stack.push(true);
        i = objectKey(s, i);
        if (i < 0) return -1;
        continue;
      }
    } else if (c === 0x5b /* [ */) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 0x5d) end = i + 1;
      else {
        stack.push(false);
        continue;
      }
    } else if (c === 0x22) end = stringEnd(s, i);
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) end = numberEnd(s, i);
    else if (s.startsWith('true', i)) end = i + 4;
    else if (s.startsWith('false', i)) end = i + 5;
    else if (s.startsWith('null', i)) end = i + 4;
    else return -1;
    if (end < 0) return -1;
    // A value ended: close containers until one continues with a comma.
    i = end;
    for (;;) {
      if (stack.length === 0) return i;
      i = skipWs(s, i);
      const d = s.charCodeAt(i);
      const isObject = stack[stack.length - 1]!;
      if (d === 0x2c /* , */) {
        i = skipWs(s, i + 1);
        if (isObject) {
          i = objectKey(s, i);
          if (i < 0) return -1;
        }
        break;
      }
      if (d === (isObject ? 0x7d : 0x5d)) {
        stack.pop();
        i++;
        continue;
      }
      return -1;
    }
  }
}

/** Reads `"key" :` at i; returns the index after the colon, or -1. */
function objectKey(s: string, i: number): number {
  if (s.charCodeAt(i) !== 0x22) return -1;
  const end = stringEnd(s, i);
  if (end < 0) return -1;
  i = skipWs(s, end);
  return s.charCodeAt(i) === 0x3a ? i + 1 : -1;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s.charCodeAt(i))) i++;
  return i;
}

function stringEnd(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) i++;
    else if (c < 0x20) return -1;
  }
  return -1;
}

function numberEnd(s: string, i: number): number {
  const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  m.lastIndex = i;
  return m.test(s) ? m.lastIndex : -1;
}
