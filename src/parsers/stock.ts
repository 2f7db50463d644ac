/**
 * Fluent Bit's stock parsers file (docker, cri, json, nginx, apache, syslog…), shipped with floki in
 * configs/fluent-bit/parsers.conf, in Fluent Bit's classic format. Fluent Bit's container images carry
 * it as /fluent-bit/etc/parsers.conf and most configs name it; the config front-end loads this file
 * when a config names `parsers.conf` and no such file exists where it points.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

export const STOCK_PARSERS_FILE_NAME = 'parsers.conf';

/** Absolute path of the stock parsers file inside the installed package. */
export function stockParsersFile(): string {
  return join(PACKAGE_ROOT, 'configs', 'fluent-bit', STOCK_PARSERS_FILE_NAME);
}
