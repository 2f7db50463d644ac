import type { LogEvent } from '../../src/core/event.js';

/**
 * An event as a plain object, for deepEqual: a forward input's packed entry is a MsgpackEvent, whose
 * record is a getter (built from its bytes when read).
 */
export function plainEvent(e: LogEvent): LogEvent {
  return e.metadata === undefined ? { tag: e.tag, time: e.time, record: e.record } : { tag: e.tag, time: e.time, record: e.record, metadata: e.metadata };
}
