/**
 * The anchor contract's lifecycle on two EVM implementations at once: anvil and ethereumjs's VM, both under
 * Osaka's rules (hardfork Bpo1 on each: anvil 1.7.1's default, and ethereumjs's name for the same fork; Bpo1
 * changes only blob parameters, which no step here touches). Every step is one signed transaction, the same bytes
 * sent to both; each must end the same way on both (success, or a revert with the same custom error), cost the
 * same gas, emit the same events and leave the same accounts (read on each after every step). The hardforks must
 * match, not merely both run the contract's opcodes (it is compiled for Cancun): Osaka reprices the modexp
 * precompile that Ed25519 inverts with (EIP-7883), and with ethereumjs on Prague the first signature check
 * already costs 5,388 gas less than on anvil.
 *
 * The only input that differs is the beacon: block hashes are each implementation's own, so each draws its own
 * winning point. The committed trees give the whole space to one holder, so whichever point is drawn, the winner
 * proof (built on each side for the point that side's contract drew) is the same bytes, and gas stays comparable.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFunctionResult,
  encodeAbiParameters,
  encodeDeployData,
  encodeFunctionData,
  keccak256,
  parseGwei,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { zeroAddress } from 'viem';
import { Hardfork } from '@ethereumjs/common';
import { keyPairFromSecret, type KeyPair } from '../../src/crypto/keys.js';
import { makeLeaf, type Leaf } from '../../src/tree/contract.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { signAction } from '../../src/chain/tx.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import { Ed25519Verifier, SortitionAnchor } from '../../src/gen/contracts.js';
import {
  ANCHOR_ABI,
  DEVNET_EVM_CHAIN_ID,
  evmAnchorId,
  evmGenesis,
  signPayout,
} from '../../src/evm/anchor.js';
import { useAnvil } from './helpers.js';
import { header, registerArgs } from './anchor-helpers.js';
import {
  anvilEvm,
  decodeLogs,
  errorName,
  EthereumJsEvm,
  type DecodedEvent,
  type TestEvm,
  type TxOutcome,
} from './second-evm.js';

type FnName = Extract<(typeof ANCHOR_ABI)[number], { type: 'function' }>['name'];

/** Short windows so the scenario passes them in a few empty blocks; a finality margin so its rule is exercised. */
const PARAMS = { challengeWindow: 5n, reporterBps: 1000, finality: 2n, claimBond: 10n ** 16n };
/** One limit for every transaction (under EIP-7825's 2^24 cap): gas used never depends on it, and no estimate runs. */
const TX_GAS = 16_000_000n;
/** At least both sides' base fee (anvil starts at 1 gwei and falls over empty blocks; ethereumjs keeps 1 gwei). */
const MAX_FEE = parseGwei('2');
const BASE_FEE = parseGwei('1');
const ANVIL_BALANCE = 10n ** 22n;
const ACCOUNTS = 10;

/** Fixed keys, so a run's signatures (and with them the verifier's gas, which follows the scalars' bits) repeat. */
const fixedKey = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n));
const hex = (b: Uint8Array): Hex => toHex(b);

interface Side {
  readonly evm: TestEvm;
  /** The point this side's contract drew. */
  point?: bigint;
}

interface Call {
  readonly to?: Address;
  readonly data: Hex;
  readonly value?: bigint;
}

/** What a step did on one side, in terms comparable across sides. */
interface Seen {
  readonly status: TxOutcome['status'];
  readonly error?: string;
  readonly gasUsed: bigint;
  readonly blockNumber: bigint;
  readonly events: DecodedEvent[];
}

describe('anchor contract on a second EVM (ethereumjs) agrees with anvil', () => {
  const env = useAnvil();

  it('runs the lifecycle with equal outcomes, revert names, events, gas and accounts', async (t) => {
    // Derived once: each derivation from the mnemonic is a 2048-round PBKDF2.
    const devAccounts = Array.from({ length: ACCOUNTS }, (_, i) => env.account(i));
    const addr = (i: number): Address => devAccounts[i].address;
    const sides: Side[] = [
      { evm: anvilEvm(env) },
      {
        evm: await EthereumJsEvm.create({
          chainId: DEVNET_EVM_CHAIN_ID,
          hardfork: Hardfork.Bpo1,
          // anvil's dev accounts and their genesis balance, so both start from one state.
          alloc: Array.from({ length: ACCOUNTS }, (_, i) => ({
            address: addr(i),
            balance: ANVIL_BALANCE,
          })),
          gasLimit: 100_000_000n,
          baseFee: BASE_FEE,
        }),
      },
    ];
    const [anvil] = sides;
    for (let i = 0; i < ACCOUNTS; i++)
      assert.equal(await anvil.evm.balance(addr(i)), ANVIL_BALANCE, 'anvil genesis balance');
    assert.equal(await anvil.evm.blockNumber(), await sides[1].evm.blockNumber());

    const nonces = new Map<number, number>();
    const gasTable: string[] = [];
    /** Run after every step once the anchor exists: both sides' accounts compared. */
    const afterStep: ((label: string) => Promise<void>)[] = [];

    async function signed(from: number, call: Call, nonce: number): Promise<Hex> {
      return devAccounts[from].signTransaction({
        type: 'eip1559',
        chainId: DEVNET_EVM_CHAIN_ID,
        nonce,
        to: call.to,
        data: call.data,
        value: call.value ?? 0n,
        gas: TX_GAS,
        maxFeePerGas: MAX_FEE,
        maxPriorityFeePerGas: 0n,
      });
    }

    /**
     * Sends one transaction from account `from` to both sides (`call` may differ per side: it is built from that
     * side's state) and asserts they agree, and that the outcome is `expect`: an error name, or the event names.
     */
    async function step(
      label: string,
      from: number,
      call: Call | ((s: Side) => Call),
      expect: { error: string } | { events: string[] },
    ): Promise<{ outcomes: TxOutcome[]; events: DecodedEvent[][] }> {
      const nonce = nonces.get(from) ?? 0;
      nonces.set(from, nonce + 1);
      const calls = sides.map((s) => (typeof call === 'function' ? call(s) : call));
      // Equal calldata is what makes equal gas a claim about the EVMs rather than about their inputs.
      for (const c of calls.slice(1)) assert.deepEqual(c, calls[0], `${label}: the same transaction on both`);
      const raws = await Promise.all(calls.map((c) => signed(from, c, nonce)));
      const outcomes = await Promise.all(sides.map((s, i) => s.evm.sendRaw(raws[i])));
      const seen: Seen[] = outcomes.map((o) => ({
        status: o.status,
        error: o.status === 'reverted' ? errorName(ANCHOR_ABI, o.revertData) : undefined,
        gasUsed: o.gasUsed,
        blockNumber: o.blockNumber,
        events: decodeLogs(ANCHOR_ABI, o.logs),
      }));
      const comparable = seen.map((s) => ({ ...s, events: s.events.map(maskBeacon) }));
      assert.deepEqual(comparable[1], comparable[0], `${label}: ethereumjs and anvil differ`);
      if ('error' in expect) assert.equal(seen[0].error, expect.error, `${label}: revert`);
      else {
        assert.equal(seen[0].status, 'success', `${label}: reverted with ${seen[0].error}`);
        assert.deepEqual(
          seen[0].events.map((e) => e.eventName),
          expect.events,
          `${label}: events`,
        );
      }
      assert.deepEqual(outcomes[1].contractAddress, outcomes[0].contractAddress, `${label}: created address`);
      gasTable.push(`${label}: ${seen[0].gasUsed}${seen[0].error ? ` (${seen[0].error})` : ''}`);
      for (const check of afterStep) await check(label);
      return { outcomes, events: seen.map((s) => s.events) };
    }

    // ---- deployment: the verifier, then the anchor, as deployAnchor sends them ----
    const v = await step('deploy Ed25519Verifier', 0, { data: Ed25519Verifier.bytecode }, { events: [] });
    const verifier = v.outcomes[0].contractAddress!;
    const a = await step(
      'deploy SortitionAnchor',
      0,
      {
        data: encodeDeployData({
          abi: SortitionAnchor.abi,
          bytecode: SortitionAnchor.bytecode,
          args: [
            verifier,
            PARAMS.challengeWindow,
            PARAMS.reporterBps,
            PARAMS.finality,
            PARAMS.claimBond,
            zeroAddress,
          ],
        }),
      },
      { events: [] },
    );
    const anchor = a.outcomes[0].contractAddress!;
    const anchorId = evmAnchorId(DEVNET_EVM_CHAIN_ID, anchor);

    const fn = (name: FnName, args: readonly unknown[], value?: bigint): Call => ({
      to: anchor,
      data: encodeFunctionData({ abi: ANCHOR_ABI, functionName: name, args: args as never } as never),
      value,
    });
    async function read<T>(s: Side, name: FnName, args: readonly unknown[] = []): Promise<T> {
      const data = await s.evm.call(addr(9), anchor, fn(name, args).data);
      return decodeFunctionResult({ abi: ANCHOR_ABI, functionName: name, data } as never) as T;
    }

    // ---- the chain: one registration, two committed states that each give the whole space to one holder ----
    const operator = fixedKey(1);
    const x = fixedKey(2); // holds the space at height 1, then signs it over to y
    const y = fixedKey(3); // holds it at height 2
    const start = 1_000n;
    const end = start + (1n << 20n);
    const amountGwei = 1_000_000_000n;
    const deposit = amountGwei * 10n ** 9n;
    const bond = PARAMS.claimBond;
    const leafOf = (owner: KeyPair, nonce: number): Leaf =>
      makeLeaf({ start, end, owner: owner.publicKey, nonce, terms: new Uint8Array(0) });
    const old = ProbabilityTree.fromLeaves([leafOf(x, 0)]);
    const now = ProbabilityTree.fromLeaves([leafOf(y, 1)]);
    // Room for the steps before expiry: commits stop `finality` blocks before it.
    const expiry = Number(await anvil.evm.blockNumber()) + 16;
    const genesis = evmGenesis(anchorId, {
      operatorKey: operator.publicKey,
      spaceStart: start,
      spaceEnd: end,
      expiry,
      amountGwei,
      name: 'second-evm',
    });
    const id = hex(genesis.chainId);
    const committer = 1;
    const commitAt = (height: number, tree: ProbabilityTree): Call => {
      const s = tree.summary();
      const h = header(genesis.chainId, height, operator, { root: s.digest, min: s.min, max: s.max });
      return fn('commit', [id, hex(h.bytes)]);
    };

    /** Both sides' accounts: every field the settlement moves, and the contract's balance identity on each. */
    async function accounts(label: string): Promise<void> {
      const snaps = await Promise.all(
        sides.map(async (s) => {
          // Read together: anvil answers them in parallel, ethereumjs queues them.
          const [balance, locked, totalOwed, chain, claim, openRequests, doubleSales, ...owed] =
            await Promise.all([
              s.evm.balance(anchor),
              read<bigint>(s, 'locked'),
              read<bigint>(s, 'totalOwed'),
              read<readonly unknown[]>(s, 'chains', [id]),
              read<readonly unknown[]>(s, 'claims', [id]),
              read<bigint>(s, 'openRequests', [id]),
              read<readonly unknown[]>(s, 'doubleSales', [id]),
              ...Array.from({ length: ACCOUNTS }, (_, i) => read<bigint>(s, 'owed', [addr(i)])),
            ]);
          assert.equal(
            balance,
            (locked as bigint) + (totalOwed as bigint),
            `${label} (${s.evm.name}): balance = locked + owed`,
          );
          // The beacon is each side's own block hash.
          const rest = [...(chain as readonly unknown[])];
          rest[12] = 'beacon';
          return { balance, locked, totalOwed, chain: rest, claim, openRequests, doubleSales, owed };
        }),
      );
      assert.deepEqual(snaps[1], snaps[0], `${label}: accounts differ`);
    }
    afterStep.push(accounts);

    await step(
      'register with a value not the amount',
      0,
      fn('register', registerArgs(anchorId, genesis, operator, addr(committer), addr(0)), deposit - 1n),
      { error: 'ValueNotAmount' },
    );
    await step(
      'register',
      0,
      fn('register', registerArgs(anchorId, genesis, operator, addr(committer), addr(0)), deposit),
      { events: ['Registered'] },
    );
    await step('commit by a non-committer', 2, commitAt(1, old), { error: 'NotCommitter' });
    await step('commit height 1', committer, commitAt(1, old), { events: ['Committed'] });
    await step('commit height 2', committer, commitAt(2, now), { events: ['Committed'] });
    await step('commit height 2 again', committer, commitAt(2, now), { error: 'HeightNotIncreasing' });

    // ---- a data request at the last commit, answered with the lookup path ----
    const asked = start + 5n;
    await step('request data at an old height', 6, fn('requestData', [id, 1n, asked], bond), {
      error: 'NotLastCommit',
    });
    const req = await step('request data', 6, fn('requestData', [id, 2n, asked], bond), {
      events: ['DataRequested'],
    });
    const requestId = req.events[0][0].args.requestId as Hex;
    const answer = fn('answerData', [requestId, hex(encodeLookupPath(now.lookupPath(asked)))]);
    await step('answer data', committer, answer, { events: ['DataAnswered'] });
    await step('answer data again', committer, answer, { error: 'AlreadyAnswered' });

    // ---- expiry: commits close `finality` blocks before it, the beacon opens `finality` blocks after ----
    const payoutX = addr(7);
    const payoutY = addr(8);
    const levelsFor = (s: Side, tree: ProbabilityTree) => [
      hex(encodeLookupPath(tree.lookupPath(s.point ?? start))),
    ];
    const claimX = (s: Side, signer = x) =>
      fn(
        'claim',
        [
          id,
          1n,
          levelsFor(s, old),
          payoutX,
          signPayout(signer.secretKey, anchorId, genesis.chainId, payoutX),
          [],
        ],
        bond,
      );
    await step('claim before the beacon block', 3, claimX, { error: 'WrongPhase' });
    const mineUntil = async (next: bigint): Promise<void> => {
      const heads = await Promise.all(sides.map((s) => s.evm.blockNumber()));
      assert.equal(heads[1], heads[0], 'block numbers');
      await Promise.all(sides.map((s) => s.evm.mine(Number(next - heads[0] - 1n))));
    };
    await mineUntil(BigInt(expiry) - PARAMS.finality);
    await step('commit within finality of expiry', committer, commitAt(3, now), { error: 'CommitTooLate' });
    await mineUntil(BigInt(expiry) + PARAMS.finality);
    await step('fix the beacon at the beacon block', 3, fn('fixBeacon', [id]), { error: 'WrongPhase' });
    const fixed = await step('fix the beacon', 3, fn('fixBeacon', [id]), { events: ['BeaconFixed'] });
    for (const [i, s] of sides.entries()) {
      const e = fixed.events[i][0].args;
      assert.equal(e.block_, BigInt(expiry) + PARAMS.finality, 'the beacon block');
      s.point = e.point as bigint;
      assert.ok(s.point >= start && s.point < end, `${s.evm.name}: point in the space`);
      assert.equal(await read<bigint>(s, 'fixBeacon', [id]), s.point);
    }
    t.diagnostic(`points drawn: ${sides.map((s) => `${s.evm.name} ${s.point}`).join(', ')}`);

    // ---- claims and a consent ----
    await step('claim with another key`s payout signature', 3, (s) => claimX(s, y), {
      error: 'BadWinnerSignature',
    });
    await step('claim with the wrong bond', 3, (s) => ({ ...claimX(s), value: bond - 1n }), {
      error: 'WrongBond',
    });
    const claimed = await step('claim for x at height 1', 3, claimX, { events: ['Claimed'] });
    const standing = claimed.events[0][0].args.levels as readonly unknown[];
    await step('timeout inside the window', 6, fn('timeout', [id]), { error: 'WindowOpen' });
    // x signs its contract over to y: the consent that removes x's claim.
    const xLeaf = old.get(start)!;
    const consent = (signer: KeyPair): Call => {
      const op = { kind: 'transfer', newOwner: y.publicKey, terms: new Uint8Array(0) } as const;
      const act = signAction(
        { chainId: genesis.chainId, contractHash: xLeaf.digest, nonce: xLeaf.contract.nonce + 1, op },
        signer.secretKey,
      );
      return fn('challenge', [id, hex(xLeaf.bytes), hex(act.bytes), hex(act.signature), standing]);
    };
    await step('challenge with a consent x never signed', 4, consent(y), { error: 'BadConsentSignature' });
    // The challenger seals its challenge first, so the removed claim's bond is its own (commitReport).
    const sealOf = (c: Call) =>
      fn('commitReport', [
        keccak256(
          encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [addr(4), keccak256(c.data)]),
        ),
      ]);
    await step('seal the challenge', 4, sealOf(consent(x)), { events: [] });
    await step('challenge with x`s consent', 4, consent(x), { events: ['ConsentProven', 'ClaimDefeated'] });
    await step('claim for x again', 3, claimX, { error: 'NotWinnable' });
    const claimY = (s: Side) =>
      fn(
        'claim',
        [id, 2n, levelsFor(s, now), payoutY, signPayout(y.secretKey, anchorId, genesis.chainId, payoutY), []],
        bond,
      );
    await step('claim for y at height 2', 5, claimY, { events: ['Claimed'] });

    // ---- the window passes; settlement and withdrawals ----
    const deadline = (await read<readonly unknown[]>(anvil, 'claims', [id]))[3] as bigint;
    await mineUntil(deadline);
    await step('timeout at the deadline', 6, fn('timeout', [id]), { error: 'WindowOpen' });
    await step('timeout', 6, fn('timeout', [id]), { events: ['Settled'] });
    const safety = (deposit * 2000n) / 10_000n;
    // Who is owed what: the prize to y's payout, the safety share and the data request's bond (whoever answered) to
    // the operator's account, x's bond to the challenger that sealed its challenge, y's bond back to its claimant.
    const credits: [number, bigint][] = [
      [8, deposit - safety],
      [0, safety + bond],
      [4, bond],
      [5, bond],
    ];
    for (const [who, amount] of credits) {
      const before = await Promise.all(sides.map((s) => s.evm.balance(addr(who))));
      const w = await step(`withdraw (account ${who})`, who, fn('withdraw', []), { events: ['Withdrawn'] });
      for (const [i, s] of sides.entries()) {
        const fee = w.outcomes[i].gasUsed * w.outcomes[i].effectiveGasPrice;
        assert.equal(
          await s.evm.balance(addr(who)),
          before[i] + amount - fee,
          `${s.evm.name}: account ${who} paid`,
        );
      }
    }
    await step('withdraw again', 8, fn('withdraw', []), { error: 'NothingOwed' });
    for (const s of sides)
      assert.equal(await s.evm.balance(anchor), 0n, `${s.evm.name}: everything paid out`);
    t.diagnostic(`gas per step (equal on both):\n${gasTable.join('\n')}`);
  });
});

/** BeaconFixed's beacon and point are each side's own (its block hash): compared as present, not as equal. */
function maskBeacon(e: DecodedEvent): DecodedEvent {
  if (e.eventName !== 'BeaconFixed') return e;
  assert.match(String(e.args.beacon), /^0x[0-9a-f]{64}$/);
  assert.notEqual(e.args.beacon, `0x${'0'.repeat(64)}`, 'a beacon from a real block hash');
  return { ...e, args: { ...e.args, beacon: 'per EVM', point: 'per EVM' } };
}
