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
import { ProbabilityTree } from '../../src/tree/tree.js';
import { nodeDigest, STEP_RIGHT } from '../../src/tree/node.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import { signPayout } from '../../src/evm/anchor.js';
import { useAnvil } from './helpers.js';
import { header, newAnchor, registerChain, type Anchor, type Registered } from './anchor-helpers.js';

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
  let prevStart = 1n << 64n;

  before(async () => {
    anchor = await newAnchor(env, 5n, 1000);
  });

  type Judged = readonly [Hex, readonly unknown[]];
  const winnerOf = (root: Uint8Array, point: bigint, operator: Uint8Array, levels: Hex[]) =>
    anchor.read<Judged>('winnerOf', [hexOf(root), point, hexOf(operator), levels]);

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
    await fails(150n, proofFor(top, 150n).levels.slice(0, 2), 'BadClaim');
    await fails(0n, [...proofFor(top, 0n).levels, proofFor(top, 0n).levels[0]], 'BadClaim');
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
    const r = await registerChain(anchor, { start, end: start + width, expiry, committer: env.account(1).address, key: operator, prev: prevStart }); // prettier-ignore
    prevStart = start;
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

  const claimArgs = (r: Registered, height: number, levels: Hex[], winner: Uint8Array, payout: Address) => [
    r.id,
    BigInt(height),
    levels,
    payout,
    signPayout(keys.get(hexOf(winner))!.secretKey, anchor.id, r.genesis.chainId, payout),
  ];

  const claimOf = async (r: Registered) => anchor.read<readonly [Hex, Address, bigint, bigint, Address]>('claims', [r.id]); // prettier-ignore

  it('settles a lottery through nested levels: claim, window, timeout, withdraw', async () => {
    const op = key();
    const base = nextStart;
    const top = hierarchy(base, op);
    const { r, point } = await lottery(1000n, [new ProbabilityTree(), top.tree], op);
    const { levels, winner } = proofFor(top, point);
    const payout = env.account(7).address;
    // Only the winner's signature names a payout address.
    const wrong = [...claimArgs(r, 2, levels, winner, payout)];
    wrong[4] = signPayout(key().secretKey, anchor.id, r.genesis.chainId, payout);
    await anchor.reverts(3, 'claim', wrong, 'BadClaim');
    await anchor.send(3, 'claim', claimArgs(r, 2, levels, winner, payout));
    assert.equal((await claimOf(r))[0], hexOf(winner));
    await anchor.reverts(3, 'timeout', [r.id], 'WindowOpen');
    await anchor.checkAccounts(ids);
    await env.test.mine({ blocks: 6 });
    await anchor.send(3, 'timeout', [r.id]);
    const prize = r.depositWei - r.depositWei / 5n;
    assert.equal(await anchor.read<bigint>('owed', [payout]), prize);
    assert.equal(await anchor.read<bigint>('owed', [env.account(0).address]), r.depositWei / 5n);
    assert.equal((await anchor.read<readonly unknown[]>('chains', [r.id]))[2], 3); // Settled
    await anchor.checkAccounts(ids);
    const before = await env.pub.getBalance({ address: payout });
    const { gasUsed } = await anchor.send(7, 'withdraw', []);
    const gasPrice = (await env.pub.getTransactionReceipt({ hash: (await env.pub.getBlock({ includeTransactions: true })).transactions[0].hash })).effectiveGasPrice; // prettier-ignore
    assert.equal(await env.pub.getBalance({ address: payout }), before + prize - gasUsed * gasPrice);
    await anchor.reverts(7, 'withdraw', [], 'NothingOwed');
    await anchor.reverts(3, 'timeout', [r.id], 'WrongPhase');
    await anchor.checkAccounts(ids);
  });

  it('pays the operator an unallocated point (a chain that never committed)', async () => {
    const { r, point, operator } = await lottery(1n << 20n, []);
    const levels = [hexOf(encodeLookupPath(new ProbabilityTree().lookupPath(point)))];
    await anchor.send(3, 'claim', claimArgs(r, 0, levels, operator.publicKey, env.account(8).address));
    assert.equal((await claimOf(r))[0], hexOf(operator.publicKey));
    await anchor.checkAccounts(ids);
  });

  it('defeats a stale claim in the window with a later committed state, then pays the current owner', async () => {
    const x = key();
    const y = key();
    const start = nextStart;
    const old = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const now = ProbabilityTree.fromLeaves([contract(start, start + 64n, y, 1)]); // transferred: nonce + 1
    const { r, point } = await lottery(64n, [old, now]);
    const stale = [hexOf(encodeLookupPath(old.lookupPath(point)))];
    const fresh = [hexOf(encodeLookupPath(now.lookupPath(point)))];
    await anchor.send(3, 'claim', claimArgs(r, 1, stale, x.publicKey, env.account(8).address));
    await anchor.reverts(4, 'challenge', [r.id, 1n, stale], 'BadClaim'); // not a later state
    await anchor.send(4, 'challenge', [r.id, 2n, fresh]);
    assert.equal((await claimOf(r))[3], 0n, 'the claim is gone');
    await anchor.send(3, 'claim', claimArgs(r, 2, fresh, y.publicKey, env.account(9).address));
    // The stale proof cannot displace the current one.
    await anchor.reverts(3, 'claim', claimArgs(r, 1, stale, x.publicKey, env.account(8).address), 'BadClaim');
    await env.test.mine({ blocks: 6 });
    await anchor.send(3, 'timeout', [r.id]);
    assert.equal(
      await anchor.read<bigint>('owed', [env.account(9).address]),
      r.depositWei - r.depositWei / 5n,
    );
    assert.equal(await anchor.read<bigint>('owed', [env.account(8).address]), 0n);
    await anchor.checkAccounts(ids);
  });

  it('slashes the operator of a point sold twice; the contract committed first keeps the claim', async () => {
    const x = key();
    const z = key();
    const start = nextStart;
    const first = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const resold = ProbabilityTree.fromLeaves([contract(start, start + 64n, z)]); // another owner, no higher nonce
    const { r, point } = await lottery(64n, [first, resold]);
    const p1 = [hexOf(encodeLookupPath(first.lookupPath(point)))];
    const p2 = [hexOf(encodeLookupPath(resold.lookupPath(point)))];
    // Forged: a resale that was never committed, or signed by someone else, slashes nothing.
    const uncommitted = ProbabilityTree.fromLeaves([contract(start, start + 32n, z), contract(start + 32n, start + 64n, z)]); // prettier-ignore
    await anchor.send(3, 'claim', claimArgs(r, 1, p1, x.publicKey, env.account(8).address));
    await anchor.reverts(4, 'challenge', [r.id, 2n, [hexOf(encodeLookupPath(uncommitted.lookupPath(point)))]], 'NotALookupPath'); // prettier-ignore
    const badSig = [...claimArgs(r, 2, p2, z.publicKey, env.account(9).address)];
    badSig[4] = signPayout(x.secretKey, anchor.id, r.genesis.chainId, env.account(9).address);
    await anchor.reverts(3, 'claim', badSig, 'BadClaim');
    await anchor.reverts(3, 'claim', claimArgs(r, 1, p1, x.publicKey, env.account(8).address), 'BadClaim'); // the same state
    assert.equal((await anchor.read<readonly unknown[]>('chains', [r.id]))[3], false, 'not slashed');
    // A genuine resale proven by challenge slashes; a second try finds the operator already slashed.
    await anchor.send(4, 'challenge', [r.id, 2n, p2]);
    assert.equal((await anchor.read<readonly unknown[]>('chains', [r.id]))[3], true, 'slashed');
    assert.equal((await claimOf(r))[0], hexOf(x.publicKey), 'the earlier contract keeps the claim');
    await anchor.checkAccounts(ids);
  });

  it('lets the earlier sale displace a later buyer`s claim, slashing the operator', async () => {
    const x = key();
    const z = key();
    const start = nextStart;
    const first = ProbabilityTree.fromLeaves([contract(start, start + 64n, x)]);
    const resold = ProbabilityTree.fromLeaves([contract(start, start + 64n, z)]);
    const { r, point } = await lottery(64n, [first, resold]);
    const p1 = [hexOf(encodeLookupPath(first.lookupPath(point)))];
    const p2 = [hexOf(encodeLookupPath(resold.lookupPath(point)))];
    // The later buyer claims first; the earlier one's claim displaces it and slashes the operator.
    await anchor.send(3, 'claim', claimArgs(r, 2, p2, z.publicKey, env.account(9).address));
    await anchor.send(3, 'claim', claimArgs(r, 1, p1, x.publicKey, env.account(8).address));
    const c = await anchor.read<readonly unknown[]>('chains', [r.id]);
    assert.equal(c[3], true, 'slashed');
    assert.equal((await claimOf(r))[0], hexOf(x.publicKey));
    assert.equal(await anchor.read<bigint>('owed', [env.account(3).address]), r.depositWei / 5n / 10n);
    await anchor.checkAccounts(ids);
    // Another try with the later sale changes nothing: the earlier claim stands and nothing more is slashed.
    await anchor.send(3, 'claim', claimArgs(r, 2, p2, z.publicKey, env.account(9).address));
    assert.equal((await claimOf(r))[0], hexOf(x.publicKey));
    await anchor.reverts(4, 'challenge', [r.id, 2n, p2], 'AlreadySlashed');
    await env.test.mine({ blocks: 6 });
    await anchor.send(3, 'timeout', [r.id]);
    // The winner gets the prize; the operator's safety share is gone.
    assert.equal(
      await anchor.read<bigint>('owed', [env.account(8).address]),
      r.depositWei - r.depositWei / 5n,
    );
    await anchor.checkAccounts(ids);
  });
});
