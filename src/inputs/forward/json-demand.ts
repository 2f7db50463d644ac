/**
 * Whether the pipeline reads the JSON the transcode thread prints ahead (`threaded`): the
 * event_exporter filter and the Loki line do; a forward output passing records on as msgpack (a
 * node agent forwarding to an aggregator), or a filter that reads the record itself, never does. In
 * forward-aggregator-ack the node agent's thread spent a third of the process's CPU printing JSON
 * nobody read, on cores the aggregator needed.
 *
 * Judged on chunks once emitted (their filters and output writes have run): the first chunk whose
 * JSON was asked for (MsgpackEvent.jsonWanted is set by any read, printed or not) turns printing on;
 * after UNWANTED_CHUNKS in a row whose records' JSON nobody asked for, it stops. While it is off a
 * reader prints on the main thread, as without the thread: never a wrong line, only slower.
 *
 * It starts off, so that a node agent never starts the thread (nor fills its slots): printing the
 * first 8 chunks and starting a V8 isolate for them cost a node agent some 0.1 CPU s and 20 MiB per
 * run. A pipeline that reads the JSON prints its first chunk or two on the main thread instead.
 */
import type { LogEvent } from '../../core/event.js';
import { MsgpackEvent } from './msgpack-event.js';

const UNWANTED_CHUNKS = 8;

export class JsonDemand {
  /** Print ahead for the next chunks: from the first chunk read on. */
  wanted = false;
  private unwanted = 0;

  /** A chunk's events, once emitted. */
  observe(events: readonly LogEvent[]): void {
    const n = events.length;
    if (n === 0) return;
    let seen = false;
    // A few records stand for the chunk (a filter may drop some, all of them go to the same outputs).
    for (const i of [0, n >> 1, n - 1]) {
      const e = events[i];
      if (!(e instanceof MsgpackEvent)) continue;
      seen = true;
      if (e.jsonWanted) {
        this.unwanted = 0;
        this.wanted = true;
        return;
      }
    }
    if (seen && ++this.unwanted >= UNWANTED_CHUNKS) this.wanted = false;
  }
}
