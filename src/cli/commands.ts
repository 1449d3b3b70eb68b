/** The subcommands beyond keygen, registered in one place. */
import type { Command } from 'commander';

export function commands(): Command[] {
  return [];
}
