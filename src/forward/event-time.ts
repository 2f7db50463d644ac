/**
 * The forward protocol's EventTime, for both directions. The type and its decoding live in the
 * forward input (src/inputs/forward/event-time.ts) for now and are re-exported from here, so the
 * output imports wire facts from one place; they move here once the input's work is merged.
 */
export { EVENT_TIME_EXT_TYPE, EventTime, unpackEventTime } from '../inputs/forward/event-time.js';
