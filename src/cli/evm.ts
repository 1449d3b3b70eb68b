/**
 * `evm` command: the anchor contract on an EVM chain (docs/protocol.md section 12).
 *   evm deploy --rpc URL --evm-key KEY   deploys it and prints {"address", ...} as JSON
 *   evm status --rpc URL --address 0x..  prints registrations, commits, slashings and settlements as JSON
 */
import { Command, InvalidArgumentError } from 'commander';
import { isAddress, toHex, type Address } from 'viem';
import { deployAnchor, evmAnchorId } from '../evm/anchor.js';
import { anchorStatus, connect, walletFor } from '../evm/client.js';

function positiveInt(name: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name}: 0..${max}`);
    return n;
  };
}

export function evmCommand(): Command {
  const evm = new Command('evm').description('the sortition anchor contract on an EVM chain');
  evm
    .command('deploy')
    .description('deploy the anchor contract; prints its address as JSON')
    .requiredOption('--rpc <url>', 'EVM JSON-RPC URL', process.env.SORTITION_EVM_RPC)
    .requiredOption(
      '--evm-key <key>',
      'deployer: 0x hex private key, or a file holding one',
      process.env.SORTITION_EVM_KEY,
    )
    .option(
      '--challenge-window <blocks>',
      'blocks a lottery claim stays open to challenge',
      positiveInt('challenge window', 1_000_000),
      20,
    ) // prettier-ignore
    .option(
      '--reporter-bps <bps>',
      'share of a slashed safety deposit paid to the reporter',
      positiveInt('reporter share', 10_000),
      1000,
    ) // prettier-ignore
    .action(async (opts: { rpc: string; evmKey: string; challengeWindow: number; reporterBps: number }) => {
      const { pub, wallet, account } = await walletFor(opts.rpc, opts.evmKey);
      const d = await deployAnchor(wallet, pub, {
        challengeWindow: BigInt(opts.challengeWindow),
        reporterBps: opts.reporterBps,
      });
      const evmChainId = await pub.getChainId();
      const out = {
        address: d.address,
        evmChainId,
        anchorId: toHex(evmAnchorId(evmChainId, d.address)),
        deployer: account.address,
        block: d.blockNumber.toString(),
        gasUsed: d.gasUsed.toString(),
        challengeWindow: opts.challengeWindow,
        reporterBps: opts.reporterBps,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
  evm
    .command('status')
    .description('print the anchor contract state as JSON')
    .requiredOption('--rpc <url>', 'EVM JSON-RPC URL', process.env.SORTITION_EVM_RPC)
    .requiredOption('--address <0x...>', 'the anchor contract address', (v: string): Address => {
      if (!isAddress(v)) throw new InvalidArgumentError('not an EVM address');
      return v;
    })
    .action(async (opts: { rpc: string; address: Address }) => {
      const { pub } = await connect(opts.rpc);
      process.stdout.write(`${JSON.stringify(await anchorStatus(pub, opts.address), null, 2)}\n`);
    });
  return evm;
}
