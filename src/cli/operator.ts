/**
 * `sortition-node operator` and `sortition-node anchor`: their options; src/app/operator.ts runs the process (a
 * node process that also operates a chain).
 */
import { Command } from 'commander';
import { runOperatorProcess, type OperatorProcessOptions } from '../app/operator.js';
import { addCommonOptions, option, resolveOptions } from '../runtime/config.js';
import { addNetworkOptions } from './network-options.js';

/** Options shared by `operator` and `anchor`: key, block production, devnet fault injection. */
function addProductionOptions(cmd: Command): Command {
  return cmd
    .addOption(
      option('--key <file>', 'operator key file (default: <data-dir>/operator-key.json, created if absent)'),
    )
    .addOption(option('--name <name>', 'name of a new chain (at most 64 bytes)'))
    .addOption(
      option('--block-interval-ms <ms>', 'seal a block this often when transactions are pending', 1000),
    )
    .addOption(
      option(
        '--max-pending <n>',
        'seal as soon as this many transactions are pending (at most 20000)',
        10000,
      ),
    )
    .addOption(option('--devnet', 'allow devnet-only features (fault injection)'))
    .addOption(
      option(
        '--fault <spec...>',
        'devnet only: misbehave on purpose: equivocate@H, invalid@H, root-mismatch@H (needs --devnet)',
      ),
    );
}

/** Operator-specific options for `sortition-node operator`. */
function operatorOptions(cmd: Command): Command {
  return addProductionOptions(cmd)
    .addOption(
      option(
        '--chain-genesis <file>',
        'genesis record of the chain to operate (hex, or JSON {"genesis": hex})',
      ),
    )
    .addOption(
      option(
        '--parent-api <url>',
        "the parent chain operator's API (or the anchor's, for a top-level chain)",
      ),
    )
    .addOption(
      option(
        '--parent-contract <start>',
        'nested chain: the contract of the parent this chain lives in (owned by --key)',
      ),
    )
    .addOption(
      option(
        '--parent-poll-ms <ms>',
        "how often the parent's state is read (a chain expires with its parent)",
        1000,
      ),
    )
    .addOption(option('--amount <n>', 'top-level chain: the width of the anchor space to register for it'))
    .addOption(option('--expiry <height>', 'anchor height at which a new chain settles (0: never)', 0))
    .addOption(
      option(
        '--deposit <gwei>',
        'EVM anchor: the deposit locked at registration, in gwei (default: --amount)',
      ),
    )
    .addOption(
      option('--safety-bps <n>', "EVM anchor: the deposit's safety share (slashable), in basis points", 5000),
    )
    .addOption(option('--commit-every <n>', 'EVM anchor: commit the head every n blocks', 1));
}

/** Options for `sortition-node anchor` (the devnet anchor chain's operator). */
function anchorOptions(cmd: Command): Command {
  return addProductionOptions(cmd);
}

function build(
  name: 'operator' | 'anchor',
  description: string,
  defaults: { dataDir: string; apiPort: number },
): Command {
  const cmd = new Command(name).description(description);
  addCommonOptions(cmd, defaults);
  addNetworkOptions(cmd);
  if (name === 'anchor') anchorOptions(cmd);
  else operatorOptions(cmd);
  cmd.action(async () => {
    await runOperatorProcess(resolveOptions<OperatorProcessOptions & Record<string, unknown>>(cmd), name);
  });
  return cmd;
}

export function operatorCommand(): Command {
  return build(
    'operator',
    'operate a sortition chain: embedded store, contract lifecycle API, block production, anchoring upward',
    { dataDir: '.data/operator', apiPort: 8081 },
  ).addHelpText(
    'after',
    `
On the EVM anchor (docs/operator.md lists every EVM option; expiry counts EVM blocks):
  a top-level chain registers in the contract with a deposit and commits its headers there:
    sortition-node operator --evm-rpc http://127.0.0.1:8545 --anchor-address 0x.. --evm-key evm.key \\
      --amount 1000000 --deposit 1000000 --expiry <EVM block>
  a nested chain lives in a contract it owns (and needs --evm-rpc/--anchor-address to see its anchoring):
    sortition-node operator --parent-api http://parent-op:8081 --parent-contract <start> \\
      --evm-rpc http://127.0.0.1:8545 --anchor-address 0x..
On the devnet anchor: --parent-api http://anchor:8080 --amount 1000000000
(with --devnet, a nested chain may also register with a devnet parent: --parent-api ... --amount N)
Every option can also be set as SORTITION_<OPTION> or in --config FILE (docs/config/operator.yaml has them all).`,
  );
}

export function anchorCommand(): Command {
  return build(
    'anchor',
    'run the devnet anchor: the root-of-trust chain that registers chains, records root commits and evidence, and publishes a randomness beacon',
    { dataDir: '.data/anchor', apiPort: 8080 },
  );
}
