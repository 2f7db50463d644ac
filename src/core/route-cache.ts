/**
 * Routes by tag, bounded in bytes. Tags come from the wire: a forward client may send a new tag in
 * every chunk, and a tag may be megabytes long (a frame may be `buffer_max_size`). Counting entries
 * (10,000 entries of 6 MB tags held 60 GB) bounds nothing: each entry counts two bytes a character
 * (V8 strings take one or two) plus a fixed cost, a tag longer than a tenth of the budget is never kept
 * (its route is worked out again each time: cheap next to receiving it), and when the bytes would
 * pass the budget the cache starts over (the tags in use come back at once).
 */
import { ENTRY_OVERHEAD_BYTES, StringCache } from '../labels/string-cache.js';
import type { Route } from './slots.js';

/** A Map entry, the route object and its two arrays: measured, rounded up. */
export const ROUTE_ENTRY_BYTES = 160;
/** Per cache: one per input (and emitter), one for filters' `pass()`. */
export const ROUTE_CACHE_BYTES = 1024 * 1024;

export class RouteCache extends StringCache<Route> {
  constructor(maxBytes = ROUTE_CACHE_BYTES, maxTagChars = Math.floor(maxBytes / 20)) {
    super(maxBytes, () => ROUTE_ENTRY_BYTES - ENTRY_OVERHEAD_BYTES, maxTagChars);
  }

  get maxTagChars(): number {
    return this.maxKeyChars;
  }
}
