/**
 * `settle` command: drives a chain's settlement on the EVM anchor (docs/protocol.md section 12) and prints each
 * outcome as one JSON line. The winner proof is the point's lookup path at the contract's last committed height,
 * from the operator's tree (`--api <operator>`) or from a validator's watch of the winning contract
 * (`--api <validator> --from-watch`, no operator needed). Transactions go through a crash-safe journal.
 *   settle claim     --api URL [--from-watch] --key FILE --payout 0x..   claim the prize, signed by the winner
 *                    [--level-api URL...]  child chains' operators, for a point inside a child chain
 *   settle challenge --api URL [--from-watch] --chain ID                 defeat a claim with its owner's signed action
 *   settle timeout   --chain ID                                          pay out a claim whose window has passed
 *   settle withdraw                                                      draw the credits of the --evm-key account
 *   settle request-data --chain ID --height H --point P                  force the operator to publish a path on chain
 *   settle slash-withheld --request ID                                   slash an operator that did not answer
 *   settle winner    --api URL [--from-watch] --chain ID                 did I win? the point, the winner, the proof
 *   settle check-proof --file PROOF [--root HEX] [--key FILE]           check a kept proof offline
 *   settle sign-payout --key FILE --chain ID --payout 0x.. [--watchtower URL]
 *                    a holder's payout signature, given in advance to a validator's watchtower, which then
 *                    claims for the holder (no key of the holder's leaves the holder's machine)
 */
import { Command, Option } from 'commander';
import { fromHex, toHex } from '../crypto/hash.js';
import { readKeyFile } from '../runtime/keyfile.js';
import { ConfigError, envless, listOption, option } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { apiRequest } from '../runtime/http-client.js';
import { evmAddress } from '../app/node.js';
import { signPayout } from '../evm/anchor.js';
import { decodeLookupPath, encodeLookupPath } from '../sortition/lottery.js';
import { readFile } from 'node:fs/promises';
import { fileJournal } from '../evm/journal.js';
import { EvmAnchor } from '../evm/node-anchor.js';
import {
  challengeChain,
  claimChain,
  firstOf,
  operatorApiSource,
  proveWinner,
  SettleError,
  winnerOfLevels,
  requestData,
  slashWithheld,
  timeoutChain,
  watchApiSource,
  withdrawCredits,
  type LevelSource,
} from '../evm/settle.js';

interface Common {
  evmRpc: string;
  anchorAddress: string;
  evmKey: string;
  journalDir: string;
}

interface SourceOpts {
  api: string;
  levelApi?: string[] | string;
  fromWatch?: boolean;
  chain?: string;
}

/** A proof as `settle winner` printed it, every field checked; SettleError BAD_PROOF names what is wrong. */
async function readKeptProof(file: string) {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new SettleError('BAD_PROOF', `${file}: not a JSON proof (${(e as Error).message})`);
  }
  const hex = (k: string, len?: number): Uint8Array => {
    const v = j[k];
    try {
      const b = fromHex(String(v).replace(/^0x/, ''), k);
      if (typeof v !== 'string' || (len !== undefined && b.length !== len))
        throw new Error(`${k}: ${len} bytes`);
      return b;
    } catch (e) {
      throw new SettleError('BAD_PROOF', `${file}: ${k}: ${(e as Error).message}`);
    }
  };
  const int = (k: string): bigint => {
    const v = j[k];
    if ((typeof v !== 'string' && typeof v !== 'number') || !/^\d+$/.test(String(v)))
      throw new SettleError('BAD_PROOF', `${file}: ${k}: a whole number`);
    return BigInt(v);
  };
  const levels = j.levels;
  if (!Array.isArray(levels) || levels.length === 0 || levels.length > 64)
    throw new SettleError('BAD_PROOF', `${file}: levels: 1 to 64 hex lookup paths`);
  return {
    chainId: hex('chainId', 32),
    point: int('point'),
    height: Number(int('height')),
    winnerKey: hex('winnerKey', 32),
    root: hex('root', 32),
    space: { start: int('spaceStart'), end: int('spaceEnd') },
    operatorKey: hex('operatorKey', 32),
    levels: levels.map((l, i) => {
      try {
        return decodeLookupPath(fromHex(String(l).replace(/^0x/, ''), `levels[${i}]`));
      } catch (e) {
        throw new SettleError('BAD_PROOF', `${file}: levels[${i}]: ${(e as Error).message}`);
      }
    }),
  };
}

async function open(o: Common): Promise<EvmAnchor> {
  return EvmAnchor.open({
    rpcUrl: o.evmRpc,
    address: evmAddress(o.anchorAddress, '--anchor-address'),
    key: o.evmKey,
    journal: fileJournal(o.journalDir),
    log: createLogger('warn', 'settle'),
  });
}

const required = (o: Option): Option => o.makeOptionMandatory();

function common(cmd: Command): Command {
  return cmd
    .addOption(required(option('--evm-rpc <url>', 'JSON-RPC endpoint of the EVM chain')))
    .addOption(required(option('--anchor-address <address>', 'the SortitionAnchor contract address')))
    .addOption(
      required(option('--evm-key <key|file>', 'the EVM account that sends (and pays gas): 0x key or a file')),
    )
    .addOption(
      option(
        '--journal-dir <dir>',
        'where a pending transaction is journaled (run again after a crash: it is finished, not resent)',
        '.data/settle',
      ),
    );
}

function sourceOptions(cmd: Command): Command {
  return cmd
    .addOption(required(option('--api <url>', "the operator's API, or with --from-watch a validator's API")))
    .addOption(
      option(
        '--from-watch',
        "take the proof from the validator's watch of the contract holding the point (GET /v1/watch)",
      ),
    )
    .addOption(option('--chain <id>', 'the chain id (hex); with an operator API, default: its chain'))
    .addOption(
      option(
        '--level-api <url...>',
        'operator APIs of child chains the winning point lies in: each serves its level of a nested winner proof',
      ),
    );
}

async function sourceOf(o: SourceOpts): Promise<{ source: LevelSource; chainId: Uint8Array }> {
  let chain = o.chain;
  if (!chain) {
    if (o.fromWatch) throw new ConfigError('--from-watch needs --chain <id>');
    chain = (await apiRequest<{ chainId: string }>(o.api, 'GET', '/v1/chain')).chainId;
  }
  const chainId = fromHex(chain, '--chain');
  if (chainId.length !== 32) throw new ConfigError('--chain must be 32 bytes of hex');
  const first = o.fromWatch ? watchApiSource(o.api) : operatorApiSource(o.api);
  const below = listOption(o.levelApi).map(operatorApiSource);
  return { source: below.length ? firstOf([first, ...below]) : first, chainId };
}

export function settleCommand(out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Command {
  const settle = new Command('settle').description(
    'settle a chain on the EVM anchor after its expiry: claim, challenge, timeout, withdraw',
  );
  sourceOptions(common(settle.command('claim')))
    .description(
      "claim the prize: the point's lookup path at the contract's committed height, signed by the winner's key",
    )
    .addOption(
      required(
        option('--key <file>', "the winner's Ed25519 key file (the contract's holder, or the operator)"),
      ),
    )
    .addOption(required(option('--payout <address>', 'the EVM address the prize is credited to')))
    .action(async (o: Common & SourceOpts & { key: string; payout: string }) => {
      const payout = evmAddress(o.payout, '--payout');
      const key = await readKeyFile(o.key);
      const { source, chainId } = await sourceOf(o);
      out(JSON.stringify(await claimChain(await open(o), source, { chainId, key, payout })));
    });
  sourceOptions(common(settle.command('challenge')))
    .description(
      'defeat the standing claim with an owner-signed action over one of its contracts, from the source ' +
        '(the operator keeps every action it sealed): the claim is removed and its bond paid to you',
    )
    .action(async (o: Common & SourceOpts) => {
      const { source, chainId } = await sourceOf(o);
      out(JSON.stringify(await challengeChain(await open(o), source, chainId)));
    });
  common(settle.command('timeout'))
    .description('pay out the pending claim once its challenge window has passed (anyone may call it)')
    .addOption(required(option('--chain <id>', 'the chain id (hex)')))
    .action(async (o: Common & { chain: string }) => {
      out(JSON.stringify(await timeoutChain(await open(o), fromHex(o.chain, '--chain'))));
    });
  common(settle.command('request-data'))
    .description(
      "force the operator to publish the lookup path of a point at a committed height on chain, with the contract's " +
        'bond (seed 001 data request): it answers within the challenge window or loses its safety share',
    )
    .addOption(required(option('--chain <id>', 'the chain id (hex)')))
    .addOption(required(option('--height <n>', "the chain's last height committed in the contract")))
    .addOption(required(option('--point <p>', "a point of the chain's space (your contract's start)")))
    .action(async (o: Common & { chain: string; height: string; point: string }) => {
      const a = await open(o);
      out(
        JSON.stringify(
          await requestData(
            a,
            fromHex(o.chain, '--chain'),
            u64Text(o.height, '--height'),
            u64Text(o.point, '--point'),
          ),
        ),
      );
    });
  common(settle.command('slash-withheld'))
    .description(
      "slash the operator of a data request left unanswered past its deadline (the requester's bond back)",
    )
    .addOption(
      required(option('--request <id>', 'the request id (DataRequested event, or request-data output)')),
    )
    .action(async (o: Common & { request: string }) => {
      out(JSON.stringify(await slashWithheld(await open(o), o.request)));
    });
  sourceOptions(
    settle
      .command('winner')
      .addOption(required(option('--evm-rpc <url>', 'JSON-RPC endpoint of the EVM chain')))
      .addOption(required(option('--anchor-address <address>', 'the SortitionAnchor contract address'))),
  )
    .description(
      'did I win? the drawn point of a chain past its expiry, the key that wins it and the proof, checked against ' +
        'the committed root, before any claim (sends nothing)',
    )
    .action(async (o: Omit<Common, 'evmKey' | 'journalDir'> & SourceOpts) => {
      const { source, chainId } = await sourceOf(o);
      const a = await EvmAnchor.open({
        rpcUrl: o.evmRpc,
        address: evmAddress(o.anchorAddress, '--anchor-address'),
        log: createLogger('warn', 'settle'),
      });
      const w = await proveWinner(a, source, chainId);
      // Everything `settle check-proof --file` needs to check it again offline: keep this line.
      out(
        JSON.stringify({
          chainId: toHex(chainId),
          point: w.point.toString(),
          height: w.height,
          winnerKey: toHex(w.winner),
          levels: w.levels.map((l) => toHex(encodeLookupPath(l))),
          root: toHex(w.root),
          spaceStart: w.space.start.toString(),
          spaceEnd: w.space.end.toString(),
          operatorKey: toHex(w.operatorKey),
        }),
      );
    });
  settle
    .command('check-proof')
    .description(
      'check a kept proof (what `settle winner` printed) offline: who wins the point by its levels against the ' +
        'committed root; with --root, that root must be the one you read from the contract yourself',
    )
    .addOption(
      envless(
        '--file <file>',
        'the proof: the JSON line `settle winner` printed',
        'what this invocation reads',
      ).makeOptionMandatory(),
    )
    .addOption(
      option(
        '--root <hex>',
        "the committed root as you know it (e.g. from `evm status`): must match the proof's",
      ),
    )
    .addOption(option('--key <file>', 'your Ed25519 key file: the answer says whether it wins'))
    .action(async (o: { file: string; root?: string; key?: string }) => {
      const p = await readKeptProof(o.file);
      if (o.root !== undefined && toHex(fromHex(o.root.replace(/^0x/, ''), '--root')) !== toHex(p.root))
        throw new SettleError(
          'ROOT_MISMATCH',
          `the proof is against root ${toHex(p.root)}, not the ${o.root} given`,
        );
      const winner = winnerOfLevels(p.root, p.levels, p.point, p.space, p.operatorKey);
      if (toHex(winner) !== toHex(p.winnerKey))
        throw new SettleError(
          'BAD_PROOF',
          `the levels give point ${p.point} to ${toHex(winner)}, not to the winnerKey ${toHex(p.winnerKey)} the file says`,
        );
      const mine = o.key ? toHex((await readKeyFile(o.key)).publicKey) === toHex(winner) : undefined;
      out(
        JSON.stringify({
          ok: true,
          chainId: toHex(p.chainId),
          point: p.point.toString(),
          height: p.height,
          root: toHex(p.root),
          winnerKey: toHex(winner),
          ...(mine === undefined ? {} : { youWin: mine }),
        }),
      );
    });
  settle
    .command('sign-payout')
    .description(
      "sign, with the holder's key, that a lottery's prize is paid to an address, and print the body a " +
        "validator's watchtower takes (POST /v1/watchtower/payouts); with --watchtower, give it to one",
    )
    .addOption(required(option('--evm-rpc <url>', 'JSON-RPC endpoint of the EVM chain')))
    .addOption(required(option('--anchor-address <address>', 'the SortitionAnchor contract address')))
    .addOption(required(option('--key <file>', "the holder's Ed25519 key file")))
    .addOption(required(option('--chain <id>', "the lottery's chain id (hex)")))
    .addOption(required(option('--payout <address>', 'the EVM address the prize is credited to')))
    .addOption(option('--watchtower <url>', "a validator's API: the signature is given to its watchtower"))
    .action(
      async (o: {
        evmRpc: string;
        anchorAddress: string;
        key: string;
        chain: string;
        payout: string;
        watchtower?: string;
      }) => {
        const payout = evmAddress(o.payout, '--payout');
        const key = await readKeyFile(o.key);
        const chainId = fromHex(o.chain, '--chain');
        if (chainId.length !== 32) throw new ConfigError('--chain must be 32 bytes of hex');
        const a = await EvmAnchor.open({
          rpcUrl: o.evmRpc,
          address: evmAddress(o.anchorAddress, '--anchor-address'),
          log: createLogger('warn', 'settle'),
        });
        const body = {
          chainId: toHex(chainId),
          winnerKey: toHex(key.publicKey),
          payout,
          signature: signPayout(key.secretKey, a.anchorId, chainId, payout),
        };
        if (o.watchtower) await apiRequest(o.watchtower, 'POST', '/v1/watchtower/payouts', body);
        out(JSON.stringify(body));
      },
    );
  common(settle.command('withdraw'))
    .description('draw the credits owed to the --evm-key account (a prize, a safety share, a reward)')
    .action(async (o: Common) => {
      out(JSON.stringify(await withdrawCredits(await open(o))));
    });
  return settle;
}

function u64Text(v: string, name: string): bigint {
  if (!/^\d{1,20}$/.test(v) || BigInt(v) >= 1n << 64n)
    throw new ConfigError(`${name} must be an integer below 2^64`);
  return BigInt(v);
}
