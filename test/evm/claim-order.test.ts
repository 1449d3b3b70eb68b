/**
 * The claim order on the contract itself, over random committed histories of one point (anvil): the operator sells,
 * transfers and closes with the owners' signatures, and also resells, re-issues and erases without them, committing
 * each state. Claims from every committed state come in random order, owners' signed actions are shown at random
 * times, and whatever the order, once every fact is in, the standing claim is the rightful holder's: the contract
 * that the chain of owner-signed custody leads to (the operator for space it never sold), and no claim from any
 * committed state ranks above it any more (the order has a top: no loop). The accounts are checked after every step.
 * CLAIM_ORDER_SEED and CLAIM_ORDER_RUNS replay or widen the search; CLAIM_ORDER_TRACE=1 prints each history's moves.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, type Address, type Hex } from 'viem';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { signAction, type OwnerOp, type SignedAction } from '../../src/chain/tx.js';
import { makeLeaf, type Leaf } from '../../src/tree/contract.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import { ANCHOR_ABI, signPayout } from '../../src/evm/anchor.js';
import { useAnvil } from './helpers.js';
import {
  header,
  newAnchor,
  registerChain,
  sealedReport,
  type Anchor,
  type Registered,
} from './anchor-helpers.js';
import { Rng } from '../../bench/fuzz/prng.js';

const hexOf = (b: Uint8Array): Hex => toHex(b);
const NOBODY = '0x0000000000000000000000000000000000000000';
const WIDTH = 16n;

type Step = 'sell' | 'transfer' | 'close' | 'resell' | 'reissue' | 'erase' | 'keep';

interface History {
  /** The contract holding the point at each committed height (index 0 is height 1), null for free space. */
  readonly states: (Leaf | null)[];
  /** Owner-signed actions, each over the contract it gives up. */
  readonly consents: { leaf: Leaf; signed: SignedAction }[];
  /** The contract the custody of owners' signatures leads to; null: the operator's free space. */
  readonly rightful: Leaf | null;
  readonly steps: Step[];
}

/**
 * A random history: the committed state follows every step; the rightful contract follows only sales of space the
 * operator really has free and actions its owner signed.
 */
function history(
  rand: () => number,
  start: bigint,
  chainId: Uint8Array,
  keys: Map<string, KeyPair>,
): History {
  const key = () => {
    const k = generateKeyPair();
    keys.set(hexOf(k.publicKey), k);
    return k;
  };
  const leaf = (owner: KeyPair, nonce: number) =>
    makeLeaf({ start, end: start + WIDTH, owner: owner.publicKey, nonce, terms: new Uint8Array(0) });
  const consent = (l: Leaf, op: OwnerOp) => ({
    leaf: l,
    signed: signAction(
      { chainId, contractHash: l.digest, nonce: l.contract.nonce + 1, op },
      keys.get(hexOf(l.contract.owner))!.secretKey,
    ),
  });
  let state: Leaf | null = null;
  let rightful: Leaf | null = null;
  const states: (Leaf | null)[] = [];
  const consents: History['consents'] = [];
  const steps: Step[] = [];
  const n = 2 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const options: Step[] = state === null ? ['sell', 'keep'] : ['transfer', 'close', 'resell', 'reissue', 'erase', 'keep']; // prettier-ignore
    const step = options[Math.floor(rand() * options.length)];
    steps.push(step);
    const custody = state !== null && rightful !== null && state.digest === rightful.digest;
    if (step === 'sell') {
      state = leaf(key(), 0);
      // Space the operator really has free is its to sell; space it erased from a holder is not.
      if (rightful === null) rightful = state;
    } else if (step === 'transfer' || step === 'close') {
      const next: Leaf | null = step === 'transfer' ? leaf(key(), state!.contract.nonce + 1) : null;
      const op: OwnerOp =
        step === 'transfer'
          ? { kind: 'transfer', newOwner: next!.contract.owner, terms: new Uint8Array(0) }
          : { kind: 'close' };
      consents.push(consent(state!, op));
      if (custody) rightful = next;
      state = next;
    } else if (step === 'resell') state = leaf(key(), 0);
    else if (step === 'reissue') state = leaf(key(), state!.contract.nonce + 1);
    else if (step === 'erase') state = null;
    states.push(state);
  }
  return { states, consents, rightful, steps };
}

function uniform(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.u32() / 0x100000000;
}

describe('anchor contract: the claim order over random histories', () => {
  const env = useAnvil();
  let anchor: Anchor;
  const ids: Uint8Array[] = [];
  const keys = new Map<string, KeyPair>();
  let nextStart = 1n << 40n;
  const bond = 10n ** 16n;

  before(async () => {
    anchor = await newAnchor(env, 100n);
  });

  type Level = { digest: Hex; ident: Hex; chain: Hex };
  type Claimed = readonly [Hex, Address, bigint, bigint, Address, Hex];

  it('the rightful holder stands once every fact is shown, whatever order claims and consents come in', async (t) => {
    const runs = Number(process.env.CLAIM_ORDER_RUNS ?? 16);
    const seed = Number(process.env.CLAIM_ORDER_SEED ?? 20261207);
    const rand = uniform(seed);
    const tally = { claims: 0, accepted: 0, shown: 0, refused: 0, consents: 0, soldTwiceSlashes: 0 };
    for (let run = 0; run < runs; run++) {
      const operator = generateKeyPair();
      keys.set(hexOf(operator.publicKey), operator);
      const start = nextStart;
      nextStart += WIDTH;
      const expiryAt = Number(await env.pub.getBlockNumber()) + 12;
      const r: Registered = await registerChain(anchor, { start, end: start + WIDTH, expiry: expiryAt, committer: env.account(1).address, key: operator }); // prettier-ignore
      ids.push(r.genesis.chainId);
      const h = history(rand, start, r.genesis.chainId, keys);
      if (process.env.CLAIM_ORDER_TRACE) process.stderr.write(`run ${run}: ${h.steps.join(' ')}\n`);
      const trees = h.states.map((l) => (l ? ProbabilityTree.fromLeaves([l]) : new ProbabilityTree()));
      for (const [i, tree] of trees.entries()) {
        const s = tree.summary();
        await anchor.send(1, 'commit', [r.id, hexOf(header(r.genesis.chainId, i + 1, operator, { root: s.digest, min: s.min, max: s.max }).bytes)]); // prettier-ignore
      }
      const head = Number(await env.pub.getBlockNumber());
      if (head <= expiryAt) await env.test.mine({ blocks: expiryAt - head + 1 });
      await anchor.send(3, 'fixBeacon', [r.id]);
      const point = await anchor.read<bigint>('fixBeacon', [r.id]);
      const levelsAt = (height: number) => [hexOf(encodeLookupPath(trees[height - 1].lookupPath(point)))];
      const winnerAt = (height: number) => h.states[height - 1]?.contract.owner ?? operator.publicKey;

      let standing: Level[] = [];
      const refresh = async () => {
        const c = await anchor.read<Claimed>('claims', [r.id]);
        if (c[4] === NOBODY) return (standing = []);
        const [, out] = await anchor.read<readonly [Hex, readonly Level[]]>('judge', [r.id, c[2], levelsAt(Number(c[2]))]); // prettier-ignore
        standing = out.map((l) => ({ digest: l.digest, ident: l.ident, chain: l.chain }));
      };
      const trace = (what: string) => {
        if (process.env.CLAIM_ORDER_TRACE) process.stderr.write(`  ${what}\n`);
      };
      const claim = async (height: number) => {
        trace(`claim ${height}`);
        tally.claims++;
        const payout = env.account(6).address;
        const args = [r.id, BigInt(height), levelsAt(height), payout, signPayout(keys.get(hexOf(winnerAt(height)))!.secretKey, anchor.id, r.genesis.chainId, payout), standing]; // prettier-ignore
        const before = await anchor.read<Claimed>('claims', [r.id]);
        try {
          await env.pub.simulateContract({ address: anchor.address, abi: ANCHOR_ABI, functionName: 'claim', args: args as never, value: bond, account: env.account(3) } as never); // prettier-ignore
        } catch {
          tally.refused++;
          return;
        }
        await anchor.send(3, 'claim', args, bond);
        const after = await anchor.read<Claimed>('claims', [r.id]);
        // A later sale over a standing contract is shown (recorded for the slash) without taking its place.
        if (after[4] !== before[4] || after[5] !== before[5]) tally.accepted++;
        else tally.shown++;
        await refresh();
        await anchor.checkAccounts([r.genesis.chainId]);
      };
      const consent = async (i: number) => {
        trace(`consent ${i}`);
        const { leaf, signed } = h.consents[i];
        const args = [r.id, hexOf(leaf.bytes), hexOf(signed.bytes), hexOf(signed.signature), standing];
        try {
          await sealedReport(anchor, 4, 'challenge', args);
          tally.consents++;
        } catch {
          return; // a contract nobody claimed yet is no chain's
        }
        await refresh();
        await anchor.checkAccounts([r.genesis.chainId]);
      };
      // Everything in random order, claims from every height (some twice), consents among them.
      const moves: (() => Promise<void>)[] = [];
      for (let height = 1; height <= trees.length; height++) {
        moves.push(() => claim(height));
        if (rand() < 0.5) moves.push(() => claim(height));
      }
      for (let i = 0; i < h.consents.length; i++) moves.push(() => consent(i));
      for (let i = moves.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [moves[i], moves[j]] = [moves[j], moves[i]];
      }
      for (const m of moves) await m();
      // Every fact shown: every consent, then every claim once more (a claim displaced before a fact came in).
      for (let i = 0; i < h.consents.length; i++) await consent(i);
      for (let height = 1; height <= trees.length; height++) await claim(height);
      const c = await anchor.read<Claimed>('claims', [r.id]);
      const want = h.rightful ? hexOf(h.rightful.contract.owner) : hexOf(operator.publicKey);
      const what = `run ${run} (${h.steps.join(' ')})`;
      assert.notEqual(c[4], NOBODY, `${what}: a claim stands`);
      assert.equal(c[0], want, `${what}: the standing claim is the rightful holder's`);
      // The top of the order: no claim from any committed state, in any order, displaces it.
      const accepted = tally.accepted;
      for (let height = trees.length; height >= 1; height--) await claim(height);
      assert.equal(tally.accepted, accepted, `${what}: a claim ranked above the rightful one`);
      const left = Number(c[3] - (await env.pub.getBlockNumber())) + 1;
      if (left > 0) await env.test.mine({ blocks: left });
      await anchor.send(5, 'timeout', [r.id]);
      if ((await anchor.read<readonly unknown[]>('chains', [r.id]))[3] === true) tally.soldTwiceSlashes++;
      await anchor.checkAccounts(ids);
    }
    t.diagnostic(`seed ${seed}, ${runs} histories: ${JSON.stringify(tally)}`);
    assert.ok(tally.accepted > runs && tally.refused > 0, 'the histories exercised both outcomes');
  });
});
