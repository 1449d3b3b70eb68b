/**
 * Structured logs (pino) to stdout, one child logger per component: JSON lines by default, for machines; with
 * `--log-format pretty` (SORTITION_LOG_FORMAT), one readable line per entry for a person at a terminal. The pretty
 * form is a small formatter here rather than pino-pretty: that one runs as a worker-thread transport with its own
 * dependencies, for a few lines of formatting this needs in the same thread.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

let format: LogFormat = 'json';

/** Sets the format of every logger created after it (the program sets it from --log-format before any action). */
export function setLogFormat(f: LogFormat): void {
  format = f;
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const COLORS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[35m' };

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** One JSON log line as `HH:MM:SS.mmm LEVEL name/component: message key=value ...` (colored on a terminal). */
export function prettyLine(json: string, color = false): string {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, name, component, msg, err, ...rest } = e;
  const n = Number(level);
  const lvl = (LEVELS[n] ?? String(level)).padEnd(5);
  const when = typeof time === 'string' ? time.slice(11, 23) : '';
  const who = component ? `${String(name)}/${String(component)}` : String(name ?? '');
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${value(v)}`);
  const error =
    err && typeof err === 'object'
      ? `\n  ${String((err as { stack?: unknown }).stack ?? JSON.stringify(err))}`
      : '';
  if (err !== undefined && !error) fields.push(`err=${value(err)}`);
  const head = color && COLORS[n] ? `${COLORS[n]}${lvl}\x1b[0m` : lvl;
  return `${when} ${head} ${who}: ${String(msg ?? '')}${fields.length ? ' ' + fields.join(' ') : ''}${error}\n`;
}

export function createLogger(level: string, name: string): Logger {
  const opts = { name, level, base: { name }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'json') return pino(opts);
  const color = process.stdout.isTTY === true;
  return pino(opts, { write: (line: string) => void process.stdout.write(prettyLine(line, color)) });
}
