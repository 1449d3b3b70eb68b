/**
 * `sortition-node operator` and `sortition-node anchor`: a node process (validator, API, metrics) that also
 * operates a chain. The chain is resolved first (key, store, registration with the anchor or the parent), then
 * the node starts following it and its ancestors, then block production starts and publishes through the node.
 */
import { Command } from 'commander';
import { prepareOperator, startOperator, type OperatorCliOptions } from '../app/operator.js';
import { addCommonOptions, option, resolveOptions } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { serviceSource } from '../evm/settle.js';
import { addNetworkOptions, settlerFor, startNodeProcess, type NodeProcessOptions } from './node-process.js';

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

type Options = NodeProcessOptions & OperatorCliOptions & Record<string, unknown>;

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
    const o = resolveOptions<Options>(cmd);
    const log = createLogger(o.logLevel, name);
    const abort = new AbortController();
    const interrupted = () => abort.abort(new Error('interrupted'));
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    const prepared = await prepareOperator(o, { log, signal: abort.signal, anchor: name === 'anchor' });
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    // The anchor trusts itself; an operator trusts the anchor it was configured with.
    const anchor = name === 'anchor' ? undefined : o.anchor;
    const proc = await startNodeProcess({ ...o, anchor }, name, [prepared.genesis]);
    const op = await startOperator(prepared, {
      api: proc.api,
      registry: proc.registry,
      log: proc.log.child({ component: name }),
      sink: proc.node,
    });
    proc.onStop(() => op.stop());
    // An operator's automatic settlement: the proof of a point comes from its own tree.
    const settler = op.evm
      ? await settlerFor(o, op.evm, proc.log, {
          source: serviceSource(op.service),
          chains: () => [op.genesis.chainId],
        })
      : null;
    if (o.settleKey && !settler)
      throw new Error('--settle-key needs a top-level chain on the EVM anchor with --evm-key');
    settler?.start();
    if (settler) proc.onStop(() => settler.stop());
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
A top-level chain registers with the anchor:   --parent-api http://anchor:8080 --amount 1000000000
A nested chain lives in a contract it owns:   --parent-api http://parent-op:8081 --parent-contract <start>
(with --devnet, a nested chain may also register with a devnet parent: --parent-api ... --amount N)
Every option can also be set as SORTITION_<OPTION> or in --config FILE.`,
  );
}

export function anchorCommand(): Command {
  return build(
    'anchor',
    'run the devnet anchor: the root-of-trust chain that registers chains, records root commits and evidence, and publishes a randomness beacon',
    { dataDir: '.data/anchor', apiPort: 8080 },
  );
}
