/**
 * Config files floki ships in place of Fluent Bit's image's own, by base name: a `parsers_file` that
 * names `parsers.conf` where there is none (floki's image has no /fluent-bit/etc) reads Fluent Bit's
 * stock parsers.conf from floki. Chosen over loading the stock parsers always, so that a config
 * defining its own `json` or `docker` parser never meets a second one, and one that names a real
 * parsers.conf reads that file, as Fluent Bit would.
 */
import { STOCK_PARSERS_FILE_NAME, stockParsersFile } from '../parsers/stock.js';

export function stockFiles(): ReadonlyMap<string, string> {
  return new Map([[STOCK_PARSERS_FILE_NAME, stockParsersFile()]]);
}
