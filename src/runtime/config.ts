/**
 * Configuration by file, environment and flags, in that order of increasing precedence. Options are declared
 * once on the commander command (with their SORTITION_* variable); `--config FILE` (YAML or JSON, keys in
 * camelCase or kebab-case as the flag) fills whatever neither a flag nor the environment set.
 */
import { CodedError } from '../codec/errors.js';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import YAML from 'yaml';
import { LOG_FORMATS, setLogFormat } from './logger.js';

export class ConfigError extends CodedError<'CONFIG_INVALID'> {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

function envName(long: string): string {
  return 'SORTITION_' + long.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

/** Declares an option that can also come from SORTITION_<NAME> and the config file. */
export function option(flags: string, description: string, defaultValue?: unknown): Option {
  const o = new Option(flags, description);
  if (o.long) o.env(envName(o.long));
  if (defaultValue !== undefined) o.default(defaultValue);
  return o;
}

/**
 * The options that have no SORTITION_* variable on purpose, with why: what an invocation acts on (a contract's
 * start, a draw's input), and what a stray variable must not set unseen (loosening a check, moving a contract,
 * overwriting a key). Every other option has one (test/cli/env.test.ts walks the program).
 */
export const WITHOUT_ENV = new Map<Option, string>();

/** An option with no SORTITION_* variable, and the reason (WITHOUT_ENV). */
export function envless(flags: string, description: string, why: string, defaultValue?: unknown): Option {
  const o = new Option(flags, description);
  if (defaultValue !== undefined) o.default(defaultValue);
  WITHOUT_ENV.set(o, why);
  return o;
}

/** Registers every option of `cmd` (and its subcommands) that has no variable in WITHOUT_ENV, for `why`. */
export function envlessRest(cmd: Command, why: string): Command {
  for (const o of cmd.options) if (!o.envVar && !WITHOUT_ENV.has(o)) WITHOUT_ENV.set(o, why);
  for (const c of cmd.commands) envlessRest(c, why);
  return cmd;
}

/** An option's old name, kept working but out of --help: the action reads `old ?? new`. */
export function alias(flags: string, of: string): Option {
  const o = new Option(flags, `old name of ${of}`).hideHelp();
  WITHOUT_ENV.set(o, `old name of ${of}, whose variable it shares`);
  return o;
}

/** `--log-format json|pretty`: JSON lines (default), or readable lines for a terminal. */
export function logFormatOption(): Option {
  return option(
    '--log-format <format>',
    'json (one JSON object a line) or pretty (readable, for a terminal)',
    'json',
  ).choices(LOG_FORMATS);
}

/** Options every node role shares: data, logging, HTTP API, config file. */
export function addCommonOptions(cmd: Command, defaults: { dataDir: string; apiPort: number }): Command {
  return cmd
    .addOption(
      option('--config <file>', 'YAML or JSON config file; flags and SORTITION_* variables override it'),
    )
    .addOption(
      option('--data-dir <dir>', 'directory for keys, peer identity and the database', defaults.dataDir),
    )
    .addOption(option('--api-host <host>', 'HTTP API and /metrics bind address', '127.0.0.1'))
    .addOption(option('--api-port <port>', 'HTTP API and /metrics port (0: any free port)', defaults.apiPort))
    .addOption(option('--log-level <level>', 'fatal, error, warn, info, debug or trace', 'info'))
    .addOption(logFormatOption());
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The command's options with the config file merged under flags and environment. */
export function resolveOptions<T extends Record<string, unknown>>(cmd: Command): T {
  const opts = cmd.opts<Record<string, unknown>>();
  const file = opts.config as string | undefined;
  if (!file) return opts as T;
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping of option names to values`);
  }
  const known = new Map(cmd.options.map((o) => [o.attributeName(), o]));
  const merged: Record<string, unknown> = { ...opts };
  for (const [k, v] of Object.entries(parsed)) {
    const name = camel(k);
    const o = known.get(name);
    if (!o) throw new ConfigError(`config file ${file}: unknown option "${k}" (see --help)`);
    // Commander checks choices on flags and environment only; a file's value gets the same check.
    if (o.argChoices && !o.argChoices.includes(String(v)))
      throw new ConfigError(
        `config file ${file}: ${k} must be one of ${o.argChoices.join(', ')}, got ${String(v)}`,
      );
    const source = cmd.getOptionValueSource(name);
    if (source === undefined || source === 'default') {
      merged[name] = o.variadic && !Array.isArray(v) ? [v] : v;
    }
  }
  // The format from the file too (flags and variables set it before the action; see cli/program.ts).
  if (merged.logFormat === 'json' || merged.logFormat === 'pretty') setLogFormat(merged.logFormat);
  return merged as T;
}

export function intOption(v: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`--${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return n;
}

export function listOption(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  const items = Array.isArray(v) ? v.map(String) : [String(v)];
  // Environment variables carry lists comma-separated.
  return items
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Flags arrive as booleans (flags, YAML) or strings (environment variables). */
export function boolOption(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()));
}
