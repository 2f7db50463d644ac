/** Fluentd's stdout line (out_stdout / filter_stdout with formatter_stdout.rb, output_type json). */
import type { LogEvent } from '../../core/event.js';
import { toJson } from '../../labels/json-text.js';

const NS = 1_000_000_000n;

/** formatter_stdout.rb: `Time.at(time).localtime` as `%Y-%m-%d %H:%M:%S.%N %z`, then `tag: json`. */
export function fluentdLine(event: LogEvent): string {
  const ms = Number(event.time / 1_000_000n);
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const offset = -d.getTimezoneOffset();
  const abs = Math.abs(offset);
  const zone = `${offset >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  const nsec = String(event.time % NS).padStart(9, '0');
  const time = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${nsec} ${zone}`;
  return `${time} ${event.tag}: ${toJson(event.record)}`;
}
