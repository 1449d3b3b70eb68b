/** The subcommands beyond keygen, registered in one place. */
import type { Command } from 'commander';
import { drawCommand } from './draw.js';
import { runCommand } from './run.js';
import { devnetCommand } from './devnet.js';
import { anchorCommand, operatorCommand } from './operator.js';
import { contractCommand } from './contract.js';
import { loadCommand } from './load.js';
import { evmCommand } from './evm.js';
import { settleCommand } from './settle.js';

export function commands(): Command[] {
  return [
    runCommand(),
    operatorCommand(),
    anchorCommand(),
    contractCommand(),
    devnetCommand(),
    loadCommand(),
    drawCommand(),
    evmCommand(),
    settleCommand(),
  ];
}
