/** The subcommands beyond keygen, registered in one place. */
import type { Command } from 'commander';
import { drawCommand } from './draw.js';
import { runCommand } from './run.js';

export function commands(): Command[] {
  return [runCommand(), drawCommand()];
}
