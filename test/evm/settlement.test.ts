/**
 * Settlement on a real EVM (anvil): the on-chain lookup rule through nested levels at interval edges and in gaps
 * (against the TS tree), forged proofs, and real lotteries: claim, challenge window, timeout and withdrawal; a
 * stale claim defeated by a later committed state; a point sold twice slashing its operator. The accounts are
 * checked after every step.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, type Address, type Hex } from 'viem';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { makeLeaf, type ChildLink, type Leaf } from '../../src/tree/contract.js';
import { signAction, type OwnerOp } from '../../src/chain/tx.js';
import { SortitionAnchor } from '../../src/gen/contracts.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { nodeDigest, STEP_RIGHT } from '../../src/tree/node.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import { deployAnchor, signPayout } from '../../src/evm/anchor.js';
import { useAnvil } from './helpers.js';
import {
  header,
  newAnchor,
  registerChain,
  sealedReport,
  type Anchor,
  type Registered,
} from './anchor-helpers.js';

const hexOf = (b: Uint8Array): Hex => toHex(b);

/** Every key used as owner or operator, so whoever wins can sign its payout. */
const keys = new Map<string, KeyPair>();
function key(): KeyPair {
  const k = generateKeyPair();
  keys.set(hexOf(k.publicKey), k);
  return k;
}

function contract(start: bigint, end: bigint, owner: KeyPair, nonce = 0, child?: ChildLink): Leaf {
  return makeLeaf({ start, end, owner: owner.publicKey, nonce, terms: new Uint8Array(0), child });
}

interface Level {
  readonly tree: ProbabilityTree;
  readonly operator: KeyPair;
  /** Child chains by the start of the contract holding them. */
  readonly children: Map<bigint, Level>;
}

function link(child: Level, id: number): ChildLink {
  const chain = new Uint8Array(32).fill(id);
  return {
    chain,
    operator: child.operator.publicKey,
    height: child.tree.size === 0 ? 0 : 3,
    root: child.tree.root,
  };
}

/** The levels of a winner proof for `point` and the winner the TS tree gives. */
function proofFor(top: Level, point: bigint): { levels: Hex[]; winner: Uint8Array } {
  const levels: Hex[] = [];
  let cur: Level | undefined = top;
  let winner = top.operator.publicKey;
  while (cur) {
    levels.push(hexOf(encodeLookupPath(cur.tree.lookupPath(point))));
    const found = cur.tree.lookup(point);
    winner = cur.operator.publicKey;
    if (found.kind === 'gap') break;
    const c = found.leaf.contract;
    if (!c.child) return { levels, winner: c.owner };
    winner = c.child.operator;
    const next = cur.children.get(c.start);
    if (!next || next.tree.size === 0) break;
    cur = next;
  }
  return { levels, winner };
}

/**
 * A three-level hierarchy over [base, base + 1000): a plain contract at [0, 100); a child chain C at [100, 200)
 * holding [100, 120) and a grandchild G at [150, 200) that holds only [150, 151); an empty child D at [300, 400).
 */
function hierarchy(base: bigint, operator: KeyPair): Level {
  const g: Level = { tree: ProbabilityTree.fromLeaves([contract(base + 150n, base + 151n, key())]), operator: key(), children: new Map() }; // prettier-ignore
  const cLeaves = [
    contract(base + 100n, base + 120n, key()),
    contract(base + 150n, base + 200n, key(), 0, link(g, 3)),
  ];
  const c: Level = { tree: ProbabilityTree.fromLeaves(cLeaves), operator: key(), children: new Map([[base + 150n, g]]) }; // prettier-ignore
  const d: Level = { tree: new ProbabilityTree(), operator: key(), children: new Map() };
  const top = [
    contract(base, base + 100n, key()),
    contract(base + 100n, base + 200n, key(), 0, link(c, 1)),
    contract(base + 300n, base + 400n, key(), 0, link(d, 2)),
  ];
  return { tree: ProbabilityTree.fromLeaves(top), operator, children: new Map([[base + 100n, c], [base + 300n, d]]) }; // prettier-ignore
}

describe('anchor contract: settlement', () => {
  const env = useAnvil();
  let anchor: Anchor;
  const ids: Uint8Array[] = [];
  let nextStart = 0n;

  before(async () => {
    anchor = await newAnchor(env, 5n, 1000);
  });

  type Judged = readonly [Hex, readonly unknown[]];
  const winnerOf = (root: Uint8Array, point: bigint, operator: Uint8Array, levels: Hex[]) =>
    anchor.read<Judged>('winnerOf', [hexOf(root), point, hexOf(operator), hexOf(new Uint8Array(32)), levels]);

  it('finds the winner through nested levels at interval edges and in gaps, as the TS tree does', async (t) => {
    const op = key();
    const top = hierarchy(0n, op);
    // Starts are inside, ends outside; gaps go to the operator of the chain they are in.
    const points = [0n, 99n, 100n, 119n, 120n, 149n, 150n, 151n, 199n, 200n, 299n, 300n, 399n, 400n, 999n];
    const seen = new Set<string>();
    for (const p of points) {
      const { levels, winner } = proofFor(top, p);
      const [got] = await winnerOf(top.tree.root, p, op.publicKey, levels);
      assert.equal(got, hexOf(winner), `point ${p}`);
      seen.add(`${levels.length}:${got === hexOf(op.publicKey) ? 'op' : 'other'}`);
    }
    t.diagnostic(`level counts and winners seen: ${[...seen].sort().join(' ')}`);
    assert.equal(
      (await winnerOf(top.tree.root, 150n, op.publicKey, proofFor(top, 150n).levels))[1].length,
      3,
    );
  });

  it('rejects forged winner proofs', async () => {
    const op = key();
    const top = hierarchy(0n, op);
    const root = top.tree.root;
    const fails = async (point: bigint, levels: Hex[], error: string) => {
      await assert.rejects(winnerOf(root, point, op.publicKey, levels), (e: Error) =>
        e.message.includes(error),
      );
    };
    // A path for another point: a sibling covers this one.
    await fails(150n, proofFor(top, 0n).levels, 'NotALookupPath');
    // The nested level left out, or an extra level under a plain contract.
    await fails(150n, proofFor(top, 150n).levels.slice(0, 2), 'ChildLevelMissing');
    await fails(0n, [...proofFor(top, 0n).levels, proofFor(top, 0n).levels[0]], 'LevelsBelowPlainContract');
    // A level from another tree.
    await fails(150n, [proofFor(top, 150n).levels[0], proofFor(top, 150n).levels[0]], 'NotALookupPath');
    // Non-canonical path bytes.
    await fails(0n, [`${proofFor(top, 0n).levels[0]}00`], 'Malformed');
    // A root built over overlapping leaves, [0, 100) and [50, 150): its hashes match, the ordering rule does not.
    const a = contract(0n, 100n, key());
    const b = contract(50n, 150n, key());
    const bad = nodeDigest(58, 0n, 100n, 50n, 150n, a.digest, b.digest);
    const path = { steps: Uint8Array.of(58 | STEP_RIGHT), siblings: [a.digest], siblingMin: [0n], siblingMax: [100n], leaf: b }; // prettier-ignore
    await assert.rejects(winnerOf(bad, 60n, op.publicKey, [hexOf(encodeLookupPath(path))]), (e: Error) =>
      e.message.includes('left.max > right.min'),
    );
    // A sibling whose start does not branch at the step's crit bit.
    const c = contract(1n << 40n, (1n << 40n) + 10n, key());
    const bad2 = nodeDigest(5, 0n, 100n, 1n << 40n, (1n << 40n) + 10n, a.digest, c.digest);
    const path2 = { steps: Uint8Array.of(5 | STEP_RIGHT), siblings: [a.digest], siblingMin: [0n], siblingMax: [100n], leaf: c }; // prettier-ignore
    await assert.rejects(
      winnerOf(bad2, 1n << 40n, op.publicKey, [hexOf(encodeLookupPath(path2))]),
      (e: Error) => e.message.includes('sibling off the crit bit'),
    );
  });

  /** Registers a chain over [start, start + width) that expires a few blocks on, and commits `trees` in order. */
  async function lottery(width: bigint, trees: ProbabilityTree[], operator = key()) {
    const start = nextStart;
    nextStart += width;
    const expiry = Number(await env.pub.getBlockNumber()) + trees.length + 3;
    const r = await registerChain(anchor, { start, end: start + width, expiry, committer: env.account(1).address, key: operator }); // prettier-ignore
    ids.push(r.genesis.chainId);
    for (const [i, tree] of trees.entries()) {
      const s = tree.summary();
      await anchor.send(1, 'commit', [r.id, hexOf(header(r.genesis.chainId, i + 1, operator, { root: s.digest, min: s.min, max: s.max }).bytes)]); // prettier-ignore
    }
    await anchor.checkAccounts(ids);
    const now = Number(await env.pub.getBlockNumber());
    if (now <= expiry) await env.test.mine({ blocks: expiry - now + 1 });
    await anchor.send(3, 'fixBeacon', [r.id]);
    const point = await anchor.read<bigint>('fixBeacon', [r.id]);
    assert.ok(point >= start && point < start + width);
    return { r, point, operator };
  }

  type Level = { digest: Hex; ident: Hex; chain: Hex };
  type Claimed = readonly [Hex, Address, bigint, bigint, Address, Hex];
  const claimOf = async (r: Registered) => anchor.read<Claimed>('claims', [r.id]);
  const NOBODY = '0x0000000000000000000000000000000000000000';
  /** The standing claim's levels, as the contract judged them (what the next claim or challenge names). */
  const standing = new Map<Hex, Level[]>();
  const bond = 10n ** 16n;

  async function judged(r: Registered, height: number, levels: Hex[]): Promise<Level[]> {
    const [, out] = await anchor.read<readonly [Hex, readonly Level[]]>('judge', [
      r.id,
      BigInt(height),
      levels,
    ]);
    return out.map((l) => ({ digest: l.digest, ident: l.ident, chain: l.chain }));
  }

  /** Claims at `height` for the winner of `levels`, paid to account `to`, from account `from`. */
  async function claim(
    r: Registered,
    height: number,
    levels: Hex[],
    winner: Uint8Array,
    to: number,
    from = 3,
  ) {
    const payout = env.account(to).address;
    const args = [r.id, BigInt(height), levels, payout, signPayout(keys.get(hexOf(winner))!.secretKey, anchor.id, r.genesis.chainId, payout), standing.get(r.id) ?? []]; // prettier-ignore
    const res = await anchor.send(from, 'claim', args, bond);
    const c = await claimOf(r);
    if (c[4] === NOBODY) standing.delete(r.id);
    else if (c[2] === BigInt(height)) standing.set(r.id, await judged(r, height, levels));
    await anchor.checkAccounts(ids);
    return res;
  }

  function claimFails(r: Registered, height: number, levels: Hex[], winner: Uint8Array, error: string) {
    const payout = env.account(9).address;
    const args = [r.id, BigInt(height), levels, payout, signPayout(keys.get(hexOf(winner))!.secretKey, anchor.id, r.genesis.chainId, payout), standing.get(r.id) ?? []]; // prettier-ignore
    return anchor.reverts(3, 'claim', args, error, bond);
  }

  /** The owner of `leaf` in chain `chain` signs `op` over it, and account `from` shows it to the contract. */
  function consentArgs(r: Registered, chain: Uint8Array, leaf: Leaf, op: OwnerOp, signer?: KeyPair) {
    const owner = signer ?? keys.get(hexOf(leaf.contract.owner))!;
    const a = signAction({ chainId: chain, contractHash: leaf.digest, nonce: leaf.contract.nonce + 1, op }, owner.secretKey); // prettier-ignore
    return [r.id, hexOf(leaf.bytes), hexOf(a.bytes), hexOf(a.signature), standing.get(r.id) ?? []];
  }

  async function consent(r: Registered, chain: Uint8Array, leaf: Leaf, op: OwnerOp, from = 4) {
    const res = await sealedReport(anchor, from, 'challenge', consentArgs(r, chain, leaf, op));
    if ((await claimOf(r))[4] === NOBODY) standing.delete(r.id);
    await anchor.checkAccounts(ids);
    return res;
  }

  async function timeout(r: Registered) {
    const c = await claimOf(r);
    const head = await env.pub.getBlockNumber();
    const until = c[4] === NOBODY ? await anchor.read<bigint>('finalDeadline', [r.id]) : c[3];
    if (head <= until) await env.test.mine({ blocks: Number(until - head) + 1 });
    await anchor.send(5, 'timeout', [r.id]);
    await anchor.checkAccounts(ids);
  }

  const owed = (to: number) => anchor.read<bigint>('owed', [env.account(to).address]);
  /** What accounts were owed before a test's settlement, so each test checks only what it paid. */
  let base = new Map<number, bigint>();
  const snapshot = async () => {
    base = new Map();
    for (const a of [3, 4, 5, 6, 7, 8, 9]) base.set(a, await owed(a));
  };
  const gained = async (to: number) => (await owed(to)) - (base.get(to) ?? 0n);
  const slashed = async (r: Registered) =>
    (await anchor.read<readonly unknown[]>('chains', [r.id]))[3] === true;
  const prizeOf = (r: Registered) => r.depositWei - r.depositWei / 5n;
  const transfer = (to: KeyPair): OwnerOp => ({
    kind: 'transfer',
    newOwner: to.publicKey,
    terms: new Uint8Array(0),
  });
  const path = (tree: ProbabilityTree, point: bigint) => [hexOf(encodeLookupPath(tree.lookupPath(point)))];

  it('settles a lottery through nested levels: claim, window, timeout, withdraw', async () => {
    const op = key();
    const base = nextStart;
    const top = hierarchy(base, op);
    const { r, point } = await lottery(1000n, [new ProbabilityTree(), top.tree], op);
    const { levels, winner } = proofFor(top, point);
    const payout = env.account(7).address;
    // Only the winner's signature names a payout address, and a claim carries the bond.
    const wrong = [
      r.id,
      2n,
      levels,
      payout,
      signPayout(key().secretKey, anchor.id, r.genesis.chainId, payout),
      [],
    ];
    await anchor.reverts(3, 'claim', wrong, 'BadWinnerSignature', bond);
    await anchor.reverts(3, 'claim', [...wrong.slice(0, 4), signPayout(keys.get(hexOf(winner))!.secretKey, anchor.id, r.genesis.chainId, payout), []], 'WrongBond', 1n); // prettier-ignore
    await claim(r, 2, levels, winner, 7);
    assert.equal((await claimOf(r))[0], hexOf(winner));
    await anchor.reverts(3, 'timeout', [r.id], 'WindowOpen');
    await env.test.mine({ blocks: 6 });
    const before3 = await owed(3);
    await anchor.send(3, 'timeout', [r.id]);
    assert.equal(await owed(7), prizeOf(r));
    assert.equal(await owed(3), before3 + bond, 'the bond back to its claimant');
    assert.equal(await anchor.read<bigint>('owed', [env.account(0).address]), r.depositWei / 5n);
    assert.equal((await anchor.read<readonly unknown[]>('chains', [r.id]))[2], 3); // Settled
    await anchor.checkAccounts(ids);
    const before = await env.pub.getBalance({ address: payout });
    const { gasUsed } = await anchor.send(7, 'withdraw', []);
    const gasPrice = (await env.pub.getTransactionReceipt({ hash: (await env.pub.getBlock({ includeTransactions: true })).transactions[0].hash })).effectiveGasPrice; // prettier-ignore
    assert.equal(await env.pub.getBalance({ address: payout }), before + prizeOf(r) - gasUsed * gasPrice);
    await anchor.reverts(7, 'withdraw', [], 'NothingOwed');
    await anchor.reverts(3, 'timeout', [r.id], 'WrongPhase');
    await anchor.checkAccounts(ids);
  });

  it('pays the operator an unallocated point (a chain that never committed)', async () => {
    const { r, point, operator } = await lottery(1n << 20n, []);
    await claim(r, 0, path(new ProbabilityTree(), point), operator.publicKey, 8);
    assert.equal((await claimOf(r))[0], hexOf(operator.publicKey));
  });

  it('attack: the operator erases the space before expiry and claims the point as unallocated; the holder is paid', async () => {
    await snapshot();
    const x = key();
    const start = nextStart;
    const sold = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const erased = new ProbabilityTree(); // committed with a junk-free signature: a commit checks none
    const { r, point, operator } = await lottery(64n, [sold, erased]);
    await claim(r, 2, path(erased, point), operator.publicKey, 6); // the operator first, from the later state
    await claim(r, 1, path(sold, point), x.publicKey, 8); // the holder's earlier proof ranks above
    assert.equal((await claimOf(r))[0], hexOf(x.publicKey));
    await claimFails(r, 2, path(erased, point), operator.publicKey, 'NotBetter');
    await timeout(r);
    assert.equal(await gained(8), prizeOf(r), 'the holder is paid');
    assert.equal(await gained(6), 0n, 'the operator gets nothing');
    assert.equal(await slashed(r), false, 'erasing is not selling twice: the operator keeps its share');
  });

  it('attack: a nonce-bump resale to a key the operator holds loses to the holder and slashes the operator', async () => {
    await snapshot();
    const x = key();
    const mine = key(); // the operator's own key
    const start = nextStart;
    const first = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const resold = ProbabilityTree.fromLeaves([contract(start, start + 64n, mine, 1)]); // nonce + 1, no signature of x
    const { r, point } = await lottery(64n, [first, resold]);
    await claim(r, 2, path(resold, point), mine.publicKey, 6);
    await claim(r, 1, path(first, point), x.publicKey, 8, 4);
    assert.equal((await claimOf(r))[0], hexOf(x.publicKey));
    assert.deepEqual(await anchor.read<readonly unknown[]>('doubleSales', [r.id]), [
      1n,
      env.account(4).address,
    ]);
    // A consent the holder never signed: signed by the operator's key over the holder's contract.
    const forged = consentArgs(r, r.genesis.chainId, first.get(start)!, transfer(mine), mine);
    await anchor.reverts(4, 'challenge', forged, 'BadConsentSignature');
    await timeout(r);
    assert.equal(await gained(8), prizeOf(r), 'the holder is paid');
    assert.equal(await gained(6), 0n);
    assert.equal(await slashed(r), true, 'sold twice: the safety share is gone');
    assert.equal(await gained(4), bond + r.depositWei / 5n / 10n, "the bond back and the reporter's reward");
  });

  it('a transfer the owner signed defeats the old owner`s claim; the buyer is paid and nobody is slashed', async () => {
    await snapshot();
    const x = key();
    const y = key();
    const start = nextStart;
    const old = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const now = ProbabilityTree.fromLeaves([contract(start, start + 64n, y, 1)]);
    const { r, point } = await lottery(64n, [old, now]);
    await claim(r, 1, path(old, point), x.publicKey, 8); // the seller claims with the state it sold
    // The buyer's later state alone does not rank above the seller's: it is shown, not standing.
    await claim(r, 2, path(now, point), y.publicKey, 9, 5);
    assert.equal((await claimOf(r))[0], hexOf(x.publicKey));
    assert.deepEqual(await anchor.read<readonly unknown[]>('doubleSales', [r.id]), [
      1n,
      env.account(5).address,
    ]);
    // The seller's signed transfer: the claim is removed and its bond paid to the challenger.
    const before = await gained(4);
    await consent(r, r.genesis.chainId, old.get(start)!, transfer(y));
    assert.equal((await claimOf(r))[4], NOBODY);
    assert.equal(await gained(4), before + bond);
    assert.deepEqual(await anchor.read<readonly unknown[]>('doubleSales', [r.id]), [
      0n,
      env.account(5).address,
    ]);
    await claimFails(r, 1, path(old, point), x.publicKey, 'NotWinnable'); // a contract given up never stands
    await claim(r, 2, path(now, point), y.publicKey, 9);
    await claimFails(r, 1, path(old, point), x.publicKey, 'NotBetter');
    await timeout(r);
    assert.equal(await gained(9), prizeOf(r));
    assert.equal(await gained(8), 0n);
    assert.equal(await slashed(r), false);
  });

  it('attack: a child operator erases a nested level; the holder in the child chain is paid', async () => {
    await snapshot();
    const op = key();
    const childOp = key();
    const h = key();
    const start = nextStart;
    const child = ProbabilityTree.fromLeaves([contract(start, start + 64n, h)]);
    const chain = new Uint8Array(32).fill(9);
    const holding = (height: number, tree: ProbabilityTree) =>
      contract(start, start + 64n, key(), 0, { chain, operator: childOp.publicKey, height, root: tree.root });
    const owner = key();
    const withChild = (height: number, tree: ProbabilityTree) =>
      makeLeaf({ ...holding(height, tree).contract, owner: owner.publicKey });
    const t1 = ProbabilityTree.fromLeaves([withChild(3, child)]);
    const t2 = ProbabilityTree.fromLeaves([withChild(5, new ProbabilityTree())]); // the child's root erased
    const { r, point } = await lottery(64n, [t1, t2], op);
    await claim(r, 2, path(t2, point), childOp.publicKey, 6); // the child's operator: its chain is empty now
    await claim(r, 1, [...path(t1, point), ...path(child, point)], h.publicKey, 8);
    assert.equal((await claimOf(r))[0], hexOf(h.publicKey));
    await claimFails(r, 2, path(t2, point), childOp.publicKey, 'NotBetter');
    await timeout(r);
    assert.equal(await gained(8), prizeOf(r));
    assert.equal(await slashed(r), false);
  });

  it('ends whatever claimants do: no loop of claims, and an unclaimed chain burns its prize after the final deadline', async () => {
    await snapshot();
    const x = key();
    const w = key();
    const start = nextStart;
    const a = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const b = ProbabilityTree.fromLeaves([contract(start, start + 64n, w)]); // resold without consent
    const { r, point, operator } = await lottery(64n, [a, b, a, new ProbabilityTree()]);
    await claim(r, 4, path(new ProbabilityTree(), point), operator.publicKey, 6);
    await claim(r, 2, path(b, point), w.publicKey, 7);
    await claim(r, 1, path(a, point), x.publicKey, 8);
    // Every other state now ranks below the standing one, whatever order they come in.
    await claimFails(r, 3, path(a, point), x.publicKey, 'SameWinner');
    await claimFails(r, 4, path(new ProbabilityTree(), point), operator.publicKey, 'NotBetter');
    assert.equal((await claimOf(r))[0], hexOf(x.publicKey));
    const final = await anchor.read<bigint>('finalDeadline', [r.id]);
    const c = await claimOf(r);
    assert.ok(c[3] <= final, 'the window ends by the final deadline');
    await timeout(r);
    assert.equal(await gained(8), prizeOf(r));

    // Nobody claims: after the final deadline the safety share goes back and the prize is burnt.
    const burnt = await env.pub.getBalance({ address: '0x000000000000000000000000000000000000dEaD' });
    const { r: q } = await lottery(16n, []);
    const opBefore = await anchor.read<bigint>('owed', [env.account(0).address]);
    await anchor.reverts(5, 'timeout', [q.id], 'NoClaim');
    await timeout(q);
    assert.equal(await anchor.read<bigint>('owed', [env.account(0).address]), opBefore + q.depositWei / 5n);
    assert.equal((await env.pub.getBalance({ address: '0x000000000000000000000000000000000000dEaD' })) - burnt, prizeOf(q)); // prettier-ignore
  });

  it('data request: an operator that does not publish a path on chain in the window is slashed; one that does is paid the bond', async () => {
    await snapshot();
    const x = key();
    const start = nextStart;
    const tree = ProbabilityTree.fromLeaves([
      contract(start, start + 32n, x),
      contract(start + 40n, start + 64n, key()),
    ]);
    const expiry = Number(await env.pub.getBlockNumber()) + 40;
    nextStart += 64n;
    const r = await registerChain(anchor, { start, end: start + 64n, expiry, committer: env.account(1).address }); // prettier-ignore
    ids.push(r.genesis.chainId);
    const s0 = tree.summary();
    await anchor.send(1, 'commit', [r.id, hexOf(header(r.genesis.chainId, 1, r.key, { root: s0.digest, min: s0.min, max: s0.max }).bytes)]); // prettier-ignore
    // Only for a committed height, a point of the chain's space, with the bond; once per (height, point).
    await anchor.reverts(7, 'requestData', [r.id, 2n, start + 5n], 'NoCommitAtHeight', bond);
    await anchor.send(1, 'commit', [r.id, hexOf(header(r.genesis.chainId, 2, r.key, { root: s0.digest, min: s0.min, max: s0.max }).bytes)]); // prettier-ignore
    await anchor.send(1, 'commit', [r.id, hexOf(header(r.genesis.chainId, 3, r.key, { root: s0.digest, min: s0.min, max: s0.max }).bytes)]); // prettier-ignore
    // Only the last commit: an old height would let anyone slash an operator that pruned that tree.
    await anchor.reverts(7, 'requestData', [r.id, 2n, start + 5n], 'NotLastCommit', bond);
    await anchor.reverts(7, 'requestData', [r.id, 3n, start + 64n], 'PointOutOfSpace', bond);
    await anchor.reverts(7, 'requestData', [r.id, 3n, start + 5n], 'WrongBond', 1n);
    const requested = async (point: bigint) => {
      await anchor.send(7, 'requestData', [r.id, 3n, point], bond);
      const ev = await env.pub.getContractEvents({ address: anchor.address, abi: SortitionAnchor.abi, eventName: 'DataRequested', args: { chainId: r.id } }); // prettier-ignore
      await anchor.checkAccounts(ids);
      return ev[ev.length - 1].args.requestId!;
    };
    const answered = await requested(start + 5n);
    const ignored = await requested(start + 35n); // a gap: its path proves the point unallocated
    await anchor.reverts(7, 'requestData', [r.id, 3n, start + 5n], 'AlreadyRequested', bond);
    // A path for another point, or from another tree, is no answer.
    await anchor.reverts(6, 'answerData', [answered, path(tree, start + 45n)[0]], 'NotALookupPath');
    await anchor.reverts(6, 'answerData', [answered, path(ProbabilityTree.fromLeaves([contract(start, start + 32n, key())]), start + 5n)[0]], 'NotALookupPath'); // prettier-ignore
    // Account 6 answers, not the operator (account 0, which registered): anyone may, as a copier of the operator's
    // answer from the mempool would. The bond is the operator's all the same, so copying an answer never pays.
    const operatorBefore = await gained(0);
    await anchor.send(6, 'answerData', [answered, path(tree, start + 5n)[0]]);
    await anchor.checkAccounts(ids);
    assert.equal(await gained(6), 0n, 'the sender of an answer is not paid');
    assert.equal((await gained(0)) - operatorBefore, bond, "the bond is credited to the chain's operator");
    const published = await env.pub.getContractEvents({ address: anchor.address, abi: SortitionAnchor.abi, eventName: 'DataAnswered', args: { chainId: r.id } }); // prettier-ignore
    assert.equal(published[0].args.path, path(tree, start + 5n)[0], 'the path is on chain for the holder');
    await anchor.reverts(6, 'answerData', [answered, path(tree, start + 5n)[0]], 'AlreadyAnswered');
    // The other request goes unanswered: nobody slashes before the deadline; after it, the requester is repaid.
    await anchor.reverts(5, 'slashWithheld', [ignored], 'WindowOpen');
    await env.test.mine({ blocks: 21 });
    assert.equal(await slashed(r), false);
    await anchor.send(5, 'slashWithheld', [ignored]);
    assert.equal(await slashed(r), true, 'the operator withheld: slashed');
    assert.equal(
      await gained(7),
      bond + r.depositWei / 5n / 10n,
      "the requester's bond and the reporter's reward",
    );
    await anchor.checkAccounts(ids);
    await anchor.reverts(5, 'slashWithheld', [ignored], 'AlreadyAnswered');
  });

  it('a data request left open holds settlement until it is answered or slashed', async () => {
    const x = key();
    const start = nextStart;
    const tree = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const { r, point } = await lottery(64n, [tree]);
    await claim(r, 1, path(tree, point), x.publicKey, 8);
    await anchor.send(7, 'requestData', [r.id, 1n, point], bond);
    const ev = await env.pub.getContractEvents({ address: anchor.address, abi: SortitionAnchor.abi, eventName: 'DataRequested', args: { chainId: r.id } }); // prettier-ignore
    await env.test.mine({ blocks: 6 });
    await anchor.reverts(5, 'timeout', [r.id], 'DataPending');
    await anchor.send(6, 'answerData', [ev[0].args.requestId!, path(tree, point)[0]]);
    await anchor.send(5, 'timeout', [r.id]);
    await anchor.checkAccounts(ids);
  });

  it('refuses a challenge window of 0 or 2^64-1, an unbounded reporter share, and a verifier that is no contract', async () => {
    const v = (await deployAnchor(env.wallet(0), env.pub)).verifier;
    const bad = async (args: readonly unknown[]) => {
      await assert.rejects(
        env.pub.simulateContract({ account: env.account(0), abi: SortitionAnchor.abi, bytecode: SortitionAnchor.bytecode, args } as never).then(() => env.wallet(0).deployContract({ abi: SortitionAnchor.abi, bytecode: SortitionAnchor.bytecode, args: args as never })).then((hash) => env.pub.waitForTransactionReceipt({ hash })).then((rc) => assert.equal(rc.status, 'success')), // prettier-ignore
      );
    };
    await bad([v, 0n, 1000, 0n, 0n]);
    await bad([v, 2n ** 64n - 1n, 1000, 0n, 0n]);
    await bad([v, 20n, 10_000, 0n, 0n]);
    await bad([env.account(3).address, 20n, 1000, 0n, 0n]);
    await bad([v, 20n, 1000, 129n, 0n]);
  });
});
