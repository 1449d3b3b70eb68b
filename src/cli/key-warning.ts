/**
 * Keys come from files first: a key given on the command line is visible to every user of the machine (`ps`,
 * /proc/<pid>/cmdline) and stays in the shell history. Any command's `--*-key` option given a key itself (not a
 * file) on the command line gets a warning on stderr; from a variable or a config file it is not visible that way.
 */
import type { Command } from 'commander';

/** A key itself rather than a file holding one: 0x and 64 hex digits (EVM), or 64 hex digits. */
export function isInlineKey(v: unknown): boolean {
  return typeof v === 'string' && /^(0x)?[0-9a-fA-F]{64}$/.test(v.trim());
}

export function warnInlineKeys(cmd: Command, warn: (line: string) => void): void {
  for (const o of cmd.options) {
    if (!o.long?.endsWith('-key') && o.long !== '--key') continue;
    const name = o.attributeName();
    if (cmd.getOptionValueSource(name) !== 'cli' || !isInlineKey(cmd.getOptionValue(name))) continue;
    warn(
      `sortition-node: warning: ${o.long}: a key given on the command line is visible to every user of this ` +
        'machine (ps, /proc/*/cmdline) and stays in your shell history; put it in a file only you can read ' +
        `(chmod 600) and pass the path, or set ${o.envVar ?? 'it in the config file'}\n`,
    );
  }
}
