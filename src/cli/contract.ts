/**
 * `sortition-node contract`: a client of an operator's API. Owner calls (transfer, split, close, open-child) read
 * the contract's current state, build the owner action with the next nonce and the state's digest, sign it
 * locally with `--key` and post it: the key never leaves the machine. Operator calls (create) need the API token
 * (`--token` or SORTITION_API_TOKEN). Every answer is printed as one JSON line.
 */
import { CodedError } from '../codec/errors.js';
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { fromHex, toHex } from '../crypto/hash.js';
import type { KeyPair } from '../crypto/keys.js';
import { decodeGenesis } from '../chain/genesis.js';
import { signAction, type OwnerOp } from '../chain/tx.js';
import { readKeyFile } from '../runtime/keyfile.js';
import { envlessRest } from '../runtime/config.js';
import { ApiError, apiRequest } from '../runtime/http-client.js';
import type { ContractView } from '../api/operator.js';

interface ClientOpts {
  api: string;
  token?: string;
  key?: string;
}

export class ContractCliError extends CodedError<
  'NOT_OWNER' | 'NO_KEY' | 'NO_TOKEN' | 'NOT_FOUND' | 'BAD_ARGUMENT'
> {
  override readonly name = 'ContractCliError';
}

function clientOptions(cmd: Command, needs: { key?: boolean; token?: boolean } = {}): Command {
  cmd.addOption(
    new Option('--api <url>', "the operator's API").env('SORTITION_API').default('http://127.0.0.1:8081'),
  );
  if (needs.token)
    cmd.addOption(new Option('--token <token>', 'the operator API token').env('SORTITION_API_TOKEN'));
  if (needs.key)
    cmd.addOption(new Option('--key <file>', "the contract owner's key file").env('SORTITION_KEY'));
  return cmd;
}

function u64Arg(v: string, what: string): bigint {
  if (!/^[0-9]{1,20}$/.test(v) || BigInt(v) >= 1n << 64n)
    throw new ContractCliError(
      'BAD_ARGUMENT',
      `${what} must be an unsigned 64-bit decimal integer, got ${v}`,
    );
  return BigInt(v);
}

function hexArg(v: string | undefined, what: string, len: number): Uint8Array {
  let b: Uint8Array;
  try {
    b = fromHex(v ?? '', what);
  } catch (e) {
    throw new ContractCliError('BAD_ARGUMENT', (e as Error).message);
  }
  if (b.length !== len) throw new ContractCliError('BAD_ARGUMENT', `${what} must be ${len} bytes of hex`);
  return b;
}

async function ownerKey(o: ClientOpts): Promise<KeyPair> {
  if (!o.key)
    throw new ContractCliError('NO_KEY', "owner calls need the owner's key: --key FILE or SORTITION_KEY");
  return readKeyFile(o.key);
}

async function show(api: string, start: bigint): Promise<ContractView> {
  return apiRequest<ContractView>(api, 'GET', `/v1/contracts/${start}`);
}

/** Reads the contract, signs `op` over its current state with the owner's key, and posts it. */
async function ownerCall(
  o: ClientOpts,
  start: bigint,
  op: OwnerOp,
  childGenesis?: Uint8Array,
): Promise<unknown> {
  const key = await ownerKey(o);
  const view = await show(o.api, start);
  const c = view.contract;
  if (!c) throw new ContractCliError('NOT_FOUND', `contract ${start} was closed`);
  if (c.owner !== toHex(key.publicKey))
    throw new ContractCliError(
      'NOT_OWNER',
      `contract ${start} is owned by ${c.owner}, not by ${toHex(key.publicKey)}`,
    );
  const signed = signAction(
    { chainId: fromHex(view.chainId), contractHash: fromHex(c.digest), nonce: c.nonce + 1, op },
    key.secretKey,
  );
  return apiRequest(o.api, 'POST', `/v1/contracts/${start}/actions`, {
    action: toHex(signed.bytes),
    signature: toHex(signed.signature),
    ...(childGenesis ? { childGenesis: toHex(childGenesis) } : {}),
  });
}

const terms = (v: string | undefined) => (v ? hexArg(v, 'terms', 32) : new Uint8Array(0));

export function contractCommand(out: (line: string) => void = (s) => void process.stdout.write(s)): Command {
  const print = (v: unknown) => out(JSON.stringify(v) + '\n');
  const cmd = new Command('contract').description(
    "trade contracts through an operator's API: owner actions are signed locally with --key",
  );

  cmd.addCommand(
    clientOptions(
      new Command('create')
        .description('sell unallocated space (operator only: needs the API token)')
        .requiredOption('--start <n>', 'first position of the interval')
        .requiredOption('--end <n>', 'end of the interval (exclusive)')
        .requiredOption('--owner <hex>', "the buyer's public key")
        .option('--terms <hex>', 'hash of off-chain terms (32 bytes)'),
      { token: true },
    ).action(async (o: ClientOpts & { start: string; end: string; owner: string; terms?: string }) => {
      if (!o.token)
        throw new ContractCliError('NO_TOKEN', 'create needs the API token: --token or SORTITION_API_TOKEN');
      const body = {
        start: u64Arg(o.start, 'start').toString(),
        end: u64Arg(o.end, 'end').toString(),
        owner: toHex(hexArg(o.owner, 'owner', 32)),
        ...(o.terms ? { terms: toHex(terms(o.terms)) } : {}),
      };
      print(await apiRequest(o.api, 'POST', '/v1/contracts', body, { token: o.token }));
    }),
  );

  cmd.addCommand(
    clientOptions(
      new Command('transfer')
        .description('give the contract to a new owner (signed by the current owner)')
        .argument('<start>', "the contract's start")
        .requiredOption('--to <hex>', "the new owner's public key")
        .option('--terms <hex>', 'hash of the new terms (32 bytes)'),
      { key: true },
    ).action(async (start: string, o: ClientOpts & { to: string; terms?: string }) => {
      const op: OwnerOp = { kind: 'transfer', newOwner: hexArg(o.to, 'to', 32), terms: terms(o.terms) };
      print(await ownerCall(o, u64Arg(start, 'start'), op));
    }),
  );

  cmd.addCommand(
    clientOptions(
      new Command('split')
        .description('split the contract at a point: the right half goes to --right-owner')
        .argument('<start>', "the contract's start")
        .requiredOption('--at <n>', 'split point, strictly inside the contract')
        .requiredOption('--right-owner <hex>', "the right half's owner")
        .option('--right-terms <hex>', "the right half's terms hash"),
      { key: true },
    ).action(
      async (start: string, o: ClientOpts & { at: string; rightOwner: string; rightTerms?: string }) => {
        const op: OwnerOp = {
          kind: 'split',
          at: u64Arg(o.at, 'at'),
          rightOwner: hexArg(o.rightOwner, 'right-owner', 32),
          rightTerms: terms(o.rightTerms),
        };
        print(await ownerCall(o, u64Arg(start, 'start'), op));
      },
    ),
  );

  cmd.addCommand(
    clientOptions(
      new Command('close')
        .description('close the contract: its space returns to the operator')
        .argument('<start>', "the contract's start"),
      { key: true },
    ).action(async (start: string, o: ClientOpts) => {
      print(await ownerCall(o, u64Arg(start, 'start'), { kind: 'close' }));
    }),
  );

  cmd.addCommand(
    clientOptions(
      new Command('open-child')
        .description('open the contract as a child chain with the given genesis record')
        .argument('<start>', "the contract's start")
        .requiredOption('--genesis <file>', 'the child chain genesis record (hex, or JSON {"genesis": hex})'),
      { key: true },
    ).action(async (start: string, o: ClientOpts & { genesis: string }) => {
      const text = (await readFile(o.genesis, 'utf8')).trim();
      const hex = text.startsWith('{') ? ((JSON.parse(text) as { genesis?: string }).genesis ?? '') : text;
      const g = decodeGenesis(fromHex(hex, 'genesis'));
      print(await ownerCall(o, u64Arg(start, 'start'), { kind: 'openChild', chainId: g.chainId }, g.bytes));
    }),
  );

  cmd.addCommand(
    clientOptions(
      new Command('show')
        .description('the contract, its committed state and membership proof')
        .argument('<start>', "the contract's start"),
    ).action(async (start: string, o: ClientOpts) => {
      print(await show(o.api, u64Arg(start, 'start')));
    }),
  );

  cmd.addCommand(
    clientOptions(
      new Command('list')
        .description("an owner's contracts")
        .requiredOption('--owner <hex>', "the owner's public key")
        .option('--after <start>', 'continue after this start')
        .option('--limit <n>', 'at most this many', '1000'),
    ).action(async (o: ClientOpts & { owner: string; after?: string; limit: string }) => {
      const q = new URLSearchParams({ owner: toHex(hexArg(o.owner, 'owner', 32)), limit: o.limit });
      if (o.after) q.set('after', u64Arg(o.after, 'after').toString());
      print(await apiRequest(o.api, 'GET', `/v1/contracts?${q}`));
    }),
  );
  // The endpoint, token and key come from the environment; the rest says what this invocation acts on.
  return envlessRest(cmd, 'what this invocation acts on');
}

export { ApiError };
