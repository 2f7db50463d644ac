/** The http input in process, with a recording pipeline that can hold or refuse what it is given. */
import type { TestContext } from 'node:test';
import pino from 'pino';
import { parseOption, type ResolvedOptions } from '../../src/config/options.js';
import type { LogEvent } from '../../src/core/event.js';
import type { InputContext } from '../../src/core/plugin.js';
import { httpInput, type HttpInput } from '../../src/inputs/http/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

export class Harness {
  readonly batches: LogEvent[][] = [];
  paused = false;
  gate: Promise<void> | undefined;
  failWith: Error | undefined;
  emitCalls = 0;
  readonly ctx: InputContext;

  constructor() {
    const self = this;
    this.ctx = {
      name: 'http.0',
      log: pino({ level: 'silent' }),
      metrics: new Metrics(),
      service: { flushMs: 2000, graceMs: 0, logLevel: 'info' }, parsers: new ParserRegistry(),
      emit: async (events) => {
        self.emitCalls++;
        if (self.gate) await self.gate;
        if (self.failWith) throw self.failWith;
        self.batches.push(events);
      },
      get paused() {
        return self.paused;
      },
    };
  }

  get events(): LogEvent[] {
    return this.batches.flat();
  }
}

export async function start(t: TestContext, overrides: ResolvedOptions = {}): Promise<{ h: Harness; input: HttpInput; url: string }> {
  // Resolved as the config loader does: the table's defaults, then the given keys parsed by type.
  const options: ResolvedOptions = {};
  const given: ResolvedOptions = { listen: '127.0.0.1', port: 0, ...overrides };
  for (const spec of httpInput.options) {
    const value = spec.name in given ? given[spec.name] : spec.default;
    if (value !== undefined) options[spec.name] = parseOption(spec, value);
  }
  const h = new Harness();
  const input = httpInput.create(options, h.ctx) as HttpInput;
  await input.start();
  t.after(() => input.stop());
  const scheme = options.tls === true ? 'https' : 'http';
  return { h, input, url: `${scheme}://127.0.0.1:${input.address()!.port}` };
}

