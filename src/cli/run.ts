import { Command } from 'commander';
import { addCommonOptions, resolveOptions } from '../runtime/config.js';
import { startNodeProcess, type NodeProcessOptions } from '../app/node.js';
import { addNetworkOptions } from './network-options.js';
import { checkNodeOptions } from '../app/options.js';

export function runCommand(): Command {
  const cmd = new Command('run').description(
    'run a light validator: follow chains and their ancestors, verify every block, flag fraud, relay valid blocks',
  );
  addCommonOptions(cmd, { dataDir: '.data/validator', apiPort: 8080 });
  addNetworkOptions(cmd, { devnet: true });
  cmd.addHelpText(
    'after',
    `
Every option can also be set as SORTITION_<OPTION> (e.g. SORTITION_TRACK, lists comma-separated) or in --config.
Example, on the EVM anchor, watching a contract you hold (docs/holder.md):
  sortition-node run --evm-rpc http://127.0.0.1:8545 --anchor-address 0x.. --track http://127.0.0.1:8082 \\
    --bootstrap /ip4/127.0.0.1/tcp/9000/p2p/12D3Koo... --watch http://127.0.0.1:8082/v1/contracts/<start> \\
    --api-port 8090
On a devnet: sortition-node run --join .data/devnet/manifest.json --watch operator-child/<start>
docs/config/validator.yaml has every option.`,
  );
  cmd.action(async () => {
    const o = resolveOptions<NodeProcessOptions & Record<string, unknown>>(cmd);
    await checkNodeOptions(o);
    await startNodeProcess(o, 'validator');
  });
  return cmd;
}
