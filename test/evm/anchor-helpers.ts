/** Shared by the anchor contract's tests: deployment, transactions that wait for receipts, and the accounting. */
import assert from 'node:assert/strict';
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeAbiParameters,
  encodeFunctionData,
  keccak256,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { signHeader, type SignedHeader } from '../../src/chain/header.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';
import { ANCHOR_ABI, deployAnchor, evmAnchorId, evmGenesis, signRegistration } from '../../src/evm/anchor.js';
import { anvilAccount } from '../../src/evm/anvil.js';
import type { DrandNetwork } from '../../src/evm/drand.js';
import { ChainProducer } from '../../src/chain/producer.js';
import type { TestNet } from '../helpers/net.js';
import { waitFor } from '../helpers/net.js';
import type { EvmEnv } from './helpers.js';

type Abi = typeof ANCHOR_ABI;
type FnName = Extract<Abi[number], { type: 'function' }>['name'];

export interface Anchor {
  readonly address: Address;
  readonly id: Uint8Array;
  send(
    from: number,
    fn: FnName,
    args: readonly unknown[],
    value?: bigint,
  ): Promise<{ gasUsed: bigint; blockNumber: bigint }>;
  /** Asserts the call reverts with the named custom error (simulated: nothing is mined). */
  reverts(from: number, fn: FnName, args: readonly unknown[], error: string, value?: bigint): Promise<void>;
  read<T>(fn: FnName, args?: readonly unknown[]): Promise<T>;
  /** The contract's balance equals live deposits plus credits not withdrawn, and deposits add up per chain. */
  checkAccounts(chainIds: readonly Uint8Array[]): Promise<void>;
}

export async function newAnchor(
  env: EvmEnv,
  challengeWindow = 20n,
  reporterBps = 1000,
  claimBond = 10n ** 16n,
  drand?: DrandNetwork,
): Promise<Anchor> {
  const { address } = await deployAnchor(env.wallet(0), env.pub, {
    challengeWindow,
    reporterBps,
    claimBond,
    drand,
  });
  return attachAnchor(env, address);
}

/** The anchor already deployed at `address`. */
export async function attachAnchor(env: EvmEnv, address: Address): Promise<Anchor> {
  const id = evmAnchorId(await env.pub.getChainId(), address);
  const call = { address, abi: ANCHOR_ABI } as const;
  const anchor: Anchor = {
    address,
    id,
    async send(from, fn, args, value) {
      const hash = await env.wallet(from).writeContract({
        ...call,
        functionName: fn,
        args: args as never,
        value: value as never,
      } as never);
      const receipt = await env.pub.waitForTransactionReceipt({ hash, pollingInterval: 50 });
      assert.equal(receipt.status, 'success', `${fn} reverted`);
      return { gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
    },
    async reverts(from, fn, args, error, value) {
      try {
        await env.pub.simulateContract({
          ...call,
          account: env.account(from),
          functionName: fn,
          args: args as never,
          value: value as never,
        } as never);
      } catch (e) {
        const reverted =
          e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
        assert.ok(reverted instanceof ContractFunctionRevertedError, `${fn}: not a revert: ${String(e)}`);
        assert.equal(reverted.data?.errorName, error, `${fn}: ${reverted.message}`);
        return;
      }
      assert.fail(`${fn} did not revert (expected ${error})`);
    },
    async read<T>(fn: FnName, args: readonly unknown[] = []) {
      return (await env.pub.readContract({ ...call, functionName: fn, args: args as never } as never)) as T;
    },
    async checkAccounts(chainIds) {
      const balance = await env.pub.getBalance({ address });
      const locked = await anchor.read<bigint>('locked');
      const owed = await anchor.read<bigint>('totalOwed');
      assert.equal(balance, locked + owed, 'balance = live deposits + credits');
      let deposits = 0n;
      for (const id of chainIds) {
        const c = await anchor.read<readonly unknown[]>('chains', [toHex(id)]);
        deposits += c[10] as bigint;
        // A standing claim locks a bond.
        const claim = await anchor.read<readonly unknown[]>('claims', [toHex(id)]);
        if (c[2] === 2 && claim[4] !== '0x0000000000000000000000000000000000000000') deposits += await anchor.read<bigint>('claimBond'); // prettier-ignore
        // So does every data request neither answered nor slashed.
        deposits += (await anchor.read<bigint>('openRequests', [toHex(id)])) * (await anchor.read<bigint>('claimBond')); // prettier-ignore
      }
      assert.equal(
        deposits,
        locked,
        'live deposits and the bonds of standing claims and open data requests add up per chain',
      );
    },
  };
  return anchor;
}

/** What a reporter seals before sending a report (`commitReport`): keccak256(reporter, keccak256(calldata)). */
export function reportCommitment(reporter: Address, fn: FnName, args: readonly unknown[]): Hex {
  const data = encodeFunctionData({ abi: ANCHOR_ABI, functionName: fn, args } as never);
  return keccak256(
    encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [reporter, keccak256(data)]),
  );
}

/** Seals a report from account `from`, then sends it (the next block): the reward is then `from`'s. */
export async function sealedReport(
  anchor: Anchor,
  from: number,
  fn: FnName,
  args: readonly unknown[],
): Promise<{ gasUsed: bigint; blockNumber: bigint }> {
  await anchor.send(from, 'commitReport', [reportCommitment(anvilAccount(from).address, fn, args)]);
  return anchor.send(from, fn, args);
}

export interface Registered {
  readonly key: KeyPair;
  readonly genesis: GenesisRecord;
  readonly id: Hex;
  readonly depositWei: bigint;
}

/** `register`'s arguments for `genesis`, signed by its operator `key` for that committer and sender. */
export function registerArgs(
  anchorId: Uint8Array,
  genesis: GenesisRecord,
  key: KeyPair,
  committer: Address,
  sender: Address,
  safetyBps = 2000,
  seedHash: Hex = ZERO_HASH,
  beaconRound = 0n,
): [Hex, Address, number, Hex, Hex, bigint] {
  const sig = signRegistration(key.secretKey, anchorId, genesis.chainId, committer, sender, safetyBps);
  return [toHex(genesis.bytes), committer, safetyBps, seedHash, sig, beaconRound];
}

/** No beacon seed committed (the draw rests on the beacon block's hash alone). */
export const ZERO_HASH: Hex = `0x${'00'.repeat(32)}`;

export async function registerChain(
  anchor: Anchor,
  opts: {
    start: bigint;
    end: bigint;
    expiry: number;
    amountGwei?: bigint;
    committer: Address;
    safetyBps?: number;
    from?: number;
    key?: KeyPair;
    /** keccak256 of a beacon seed the operator commits to (default: none). */
    seedHash?: Hex;
    /** The drand round the draw uses (default: none). */
    beaconRound?: bigint;
  },
): Promise<Registered & { gasUsed: bigint }> {
  const key = opts.key ?? generateKeyPair();
  const amountGwei = opts.amountGwei ?? 1_000_000_000n;
  const genesis = evmGenesis(anchor.id, {
    operatorKey: key.publicKey,
    spaceStart: opts.start,
    spaceEnd: opts.end,
    expiry: opts.expiry,
    amountGwei,
    name: 'evm-test',
  });
  const depositWei = amountGwei * 1_000_000_000n;
  const { gasUsed } = await anchor.send(
    opts.from ?? 0,
    'register',
    registerArgs(
      anchor.id,
      genesis,
      key,
      opts.committer,
      anvilAccount(opts.from ?? 0).address,
      opts.safetyBps,
      opts.seedHash,
      opts.beaconRound,
    ),
    depositWei,
  );
  return { key, genesis, id: toHex(genesis.chainId), depositWei, gasUsed };
}

const zero32 = new Uint8Array(32);

/** A header of `chainId` at `height` signed with `key`; `salt` varies the tx root to make a different header. */
export function header(
  chainId: Uint8Array,
  height: number,
  key: KeyPair,
  opts: { root?: Uint8Array; min?: bigint; max?: bigint; salt?: number } = {},
): SignedHeader {
  const txRoot = new Uint8Array(32);
  txRoot[0] = opts.salt ?? 0;
  txRoot[31] = 1;
  return signHeader(
    {
      chainId,
      height,
      prevHash: chainId,
      stateRoot: opts.root ?? new Uint8Array(32).fill(7),
      stateMin: opts.min ?? 0n,
      stateMax: opts.max ?? 0n,
      txRoot,
      txCount: 0,
      timeMs: 1000 * height,
      beaconSig: new Uint8Array(0),
    },
    key.secretKey,
  );
}

export { zero32 };

/**
 * A top-level chain [0, 1000) registered on `anchor` by its operator (EVM account 5 sends and commits), with its
 * producer, and a validator of `net` on 127.0.0.1 tracking it with the anchor as its external root.
 */
export async function trackedTopChain(env: EvmEnv, anchor: Anchor, net: TestNet) {
  const key = generateKeyPair();
  const genesis = evmGenesis(anchor.id, {
    operatorKey: key.publicKey,
    spaceStart: 0n,
    spaceEnd: 1000n,
    expiry: 1_000_000,
    amountGwei: 1_000_000n,
  });
  const producer = new ChainProducer(genesis, key.secretKey);
  const five = env.account(5).address;
  await anchor.send(5, 'register', registerArgs(anchor.id, genesis, key, five, five, 5000), 10n ** 15n);
  const node = await net.start({
    ip: '127.0.0.1',
    genesis: [genesis],
    track: [genesis.chainId],
    anchorId: anchor.id,
    externalAnchor: true,
  });
  await waitFor(() => node.tracker.isTracked(genesis.chainId), 'chain tracked');
  return { key, genesis, producer, node };
}
