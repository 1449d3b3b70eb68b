import { Command } from 'commander';
import { intOption, logFormatOption, option, resolveOptions } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { runLoad } from '../devnet/load.js';

export function loadCommand(): Command {
  const cmd = new Command('load')
    .description('devnet load generator: sells contracts and transfers them between keys it holds, steadily')
    .addOption(
      option('--api <url>', "a devnet operator's API (it must run with --devnet)", 'http://127.0.0.1:8081'),
    )
    .addOption(option('--rate <tx-per-second>', 'requests per second', 4))
    .addOption(option('--owners <n>', 'how many owner keys to trade between', 8))
    .addOption(option('--width <n>', 'width of each contract sold', 1000))
    .addOption(option('--log-level <level>', 'log level', 'info'))
    .addOption(logFormatOption())
    .addOption(option('--config <file>', 'YAML or JSON config file'));
  cmd.action(async () => {
    const o = resolveOptions<{
      api: string;
      rate: unknown;
      owners: unknown;
      width: unknown;
      logLevel: string;
    }>(cmd);
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    process.once('SIGTERM', () => abort.abort());
    await runLoad({
      api: o.api,
      rate: intOption(o.rate, 'rate', 1, 1000),
      owners: intOption(o.owners, 'owners', 2, 1000),
      width: BigInt(intOption(o.width, 'width', 1)),
      log: createLogger(o.logLevel, 'load'),
      signal: abort.signal,
    });
  });
  return cmd;
}
