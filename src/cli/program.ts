/**
 * The `sortition-node` program (main.ts loads it once the Node version is right). Each subcommand lives in its own
 * module; errors exit non-zero with a one-line message, and a signal during startup exits as the signal would.
 */
import { Command, CommanderError } from 'commander';
import { keygenCommand } from './keygen.js';
import { commands } from './commands.js';
import { exitCodeAfter, interruptedBy } from '../runtime/shutdown.js';
import { warnInlineKeys } from './key-warning.js';
import { setLogFormat, type LogFormat } from '../runtime/logger.js';

const program = new Command('sortition-node')
  .description(
    'Peer-to-peer node for sortition chains: validate and relay blocks, operate chains, run testnets',
  )
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride()
  .hook('preAction', (_program, action) => {
    const f = action.opts<{ logFormat?: LogFormat }>().logFormat;
    if (f) setLogFormat(f);
    warnInlineKeys(action, (l) => void process.stderr.write(l));
  });

program.addCommand(keygenCommand());
for (const c of commands()) program.addCommand(c);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  // Ctrl-C before the node was up: the failure is the interruption, which the exit code reports.
  const signal = interruptedBy();
  if (signal) process.exit(exitCodeAfter(signal));
  const err = e as Error & { code?: string };
  process.stderr.write(`sortition-node: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
  process.exit(1);
}
