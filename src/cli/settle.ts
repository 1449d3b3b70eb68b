/**
 * `settle` command: drives a chain's settlement on the EVM anchor (docs/protocol.md section 12).
 *   settle claim   --api <operator API> --key <winner key file> --payout 0x..   the winner proof from the operator's
 *                  tree (GET /v1/lottery/:point), signed by the winner, claimed on chain
 *   settle timeout --chain <id>     pays out a claim whose challenge window has passed
 *   settle withdraw                 draws the credits of the --evm-key account
 * Each needs --rpc, --address and --evm-key; transactions go through a crash-safe journal in --journal-dir.
 */
import { Command } from 'commander';
import { getAddress, isAddress, toHex, type Address, type Hex } from 'viem';
import { fromHex, toHex as hexOf } from '../crypto/hash.js';
import { readKeyFile } from '../runtime/keyfile.js';
import { createLogger } from '../runtime/logger.js';
import { apiRequest } from '../operator/client.js';
import { signPayout } from '../evm/anchor.js';
import { fileJournal } from '../evm/journal.js';
import { EvmAnchor } from '../evm/node-anchor.js';

interface Common {
  rpc: string;
  address: string;
  evmKey: string;
  journalDir: string;
}

function address(v: string, what: string): Address {
  if (!isAddress(v)) throw new Error(`${what} must be a 0x address`);
  return getAddress(v);
}

async function open(o: Common): Promise<EvmAnchor> {
  return EvmAnchor.open({
    rpcUrl: o.rpc,
    address: address(o.address, '--address'),
    key: o.evmKey,
    journal: fileJournal(o.journalDir),
    log: createLogger('warn', 'settle'),
  });
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--rpc <url>', 'EVM JSON-RPC URL', process.env.SORTITION_EVM_RPC)
    .requiredOption(
      '--address <address>',
      'the anchor contract address',
      process.env.SORTITION_ANCHOR_ADDRESS,
    )
    .requiredOption(
      '--evm-key <key>',
      'the sender: 0x hex private key, or a file holding one',
      process.env.SORTITION_EVM_KEY,
    )
    .option('--journal-dir <dir>', 'where pending transactions are journaled', '.data/settle');
}

export function settleCommand(out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Command {
  const settle = new Command('settle').description(
    'settle a chain on the EVM anchor: claim, timeout, withdraw',
  );
  common(settle.command('claim'))
    .description("claim the prize: the winner proof from the operator's tree, signed by the winner's key")
    .requiredOption('--api <url>', "the settling chain's operator API")
    .requiredOption('--key <file>', "the winner's Ed25519 key file (the contract holder, or the operator)")
    .requiredOption('--payout <address>', 'where the prize goes')
    .action(async (o: Common & { api: string; key: string; payout: string }) => {
      const a = await open(o);
      const info = await apiRequest<{ chainId: string }>(o.api, 'GET', '/v1/chain');
      const chainId = fromHex(info.chainId, 'chainId');
      const point = await a.winningPoint(chainId);
      const level = await apiRequest<{ height: number; lookupPath: string }>(
        o.api,
        'GET',
        `/v1/lottery/${point}`,
      );
      const key = await readKeyFile(o.key);
      const payout = address(o.payout, '--payout');
      const r = await a.settle('claim', [
        toHex(chainId),
        BigInt(level.height),
        [`0x${level.lookupPath}` as Hex],
        payout,
        signPayout(key.secretKey, a.anchorId, chainId, payout),
      ]);
      out(
        JSON.stringify({
          chainId: info.chainId,
          point: point.toString(),
          height: level.height,
          winnerKey: hexOf(key.publicKey),
          payout,
          gasUsed: r.gasUsed.toString(),
          block: r.blockNumber.toString(),
        }),
      );
    });
  common(settle.command('timeout'))
    .description('pay out a claim whose challenge window has passed')
    .requiredOption('--chain <id>', 'the settling chain id (hex)')
    .action(async (o: Common & { chain: string }) => {
      const a = await open(o);
      const r = await a.settle('timeout', [toHex(fromHex(o.chain, 'chain'))]);
      out(
        JSON.stringify({ chainId: o.chain, gasUsed: r.gasUsed.toString(), block: r.blockNumber.toString() }),
      );
    });
  common(settle.command('withdraw'))
    .description('draw the credits owed to the --evm-key account')
    .action(async (o: Common) => {
      const a = await open(o);
      const r = await a.settle('withdraw', []);
      out(JSON.stringify({ to: a.evmAddress, gasUsed: r.gasUsed.toString() }));
    });
  return settle;
}
