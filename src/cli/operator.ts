/**
 * `sortition-node operator` and `sortition-node anchor`: a node process (validator, API, metrics) that also
 * operates a chain. The chain is resolved first (key, store, registration with the anchor or the parent), then
 * the node starts following it and its ancestors, then block production starts and publishes through the node.
 */
import { Command } from 'commander';
import {
  anchorOptions,
  operatorOptions,
  prepareOperator,
  startOperator,
  type OperatorCliOptions,
} from '../operator/config.js';
import { addCommonOptions, resolveOptions } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { serviceSource } from '../evm/settle.js';
import { addNetworkOptions, settlerFor, startNodeProcess, type NodeProcessOptions } from './node-process.js';

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
