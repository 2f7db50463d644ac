// `node --import ./test/helpers/module-log.mjs`: appends the URL of every module the process loads
// (ESM, and TypeScript under tsx) to the file MODULE_LOG names, one a line. Module loader hooks run
// on their own thread; they post each URL to this one, which writes it.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { appendFileSync, writeFileSync } from 'node:fs';

const out = process.env.MODULE_LOG;
if (out) {
  writeFileSync(out, '');
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => appendFileSync(out, `${url}\n`));
  port1.unref();
  register('./module-log-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
}
