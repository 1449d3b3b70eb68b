/**
 * The lottery beacon (issue 25 item 3, docs/protocol.md §12): H(beacon, hash of the beacon block B || the seed the
 * operator committed to at registration and revealed after B). Played against the parties who could steer it: the
 * caller of fixBeacon choosing when (a fix long after B, read through the EIP-2935 history contract, draws the
 * same point as one right after B), B's builder (the point cannot be read before the seed is revealed, and the
 * seed cannot be revealed before B is built), the operator (it cannot change its seed, and withholding it slashes
 * its safety share and draws from B's hash alone).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAbiParameters, keccak256, toHex, type Hex } from 'viem';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from 'viem';
import { SortitionAnchor } from '../../src/gen/contracts.js';
import { newAnchor, registerChain, type Anchor, type Registered } from './anchor-helpers.js';
import { useAnvil } from './helpers.js';

const env = useAnvil();
const BURN = '0x000000000000000000000000000000000000dEaD';

/** The contract's beacon: H(beacon, block hash || seed) with the tag's bytes, as docs/protocol.md §12 gives it. */
function beaconOf(blockHash: Hex, seed: Hex): Hex {
  const tag = new TextEncoder().encode('sortition/1/beacon\0');
  return toHex(sha256(new Uint8Array([...tag, ...hexToBytes(blockHash), ...hexToBytes(seed)])));
}

async function mineTo(block: bigint): Promise<void> {
  const head = await env.pub.getBlockNumber();
  if (block > head) await env.test.mine({ blocks: Number(block - head) });
}

describe('anchor contract: the beacon', () => {
  let anchor: Anchor;
  const ids: Uint8Array[] = [];
  const seed: Hex = keccak256(toHex('the operator seed'));
  const seedHash = keccak256(encodeAbiParameters([{ type: 'bytes32' }], [seed]));

  async function chainWithSeed(): Promise<Registered & { expiry: bigint }> {
    anchor ??= await newAnchor(env);
    const expiry = (await env.pub.getBlockNumber()) + 10n;
    const r = await registerChain(anchor, { start: 0n, end: 1n << 40n, expiry: Number(expiry), committer: env.account(1).address, seedHash }); // prettier-ignore
    ids.push(r.genesis.chainId);
    return { ...r, expiry };
  }

  const fixedEvent = async (id: Hex) =>
    (
      await env.pub.getContractEvents({
        address: anchor.address,
        abi: SortitionAnchor.abi,
        eventName: 'BeaconFixed',
        args: { chainId: id },
        fromBlock: 0n,
      })
    )[0].args;

  it('the seed is revealed only after the beacon block, only the committed one; no point before it', async () => {
    const r = await chainWithSeed();
    const finality = await anchor.read<bigint>('finality');
    const b = r.expiry + finality;
    await mineTo(b - 1n);
    // Before B is built, nobody may reveal (B's builder would know the seed) and nothing can be drawn.
    await anchor.reverts(2, 'revealSeed', [r.id, seed], 'WrongPhase');
    await mineTo(b + 1n);
    await anchor.reverts(3, 'fixBeacon', [r.id], 'SeedNotRevealed');
    await anchor.reverts(2, 'revealSeed', [r.id, keccak256(toHex('another seed'))], 'BadSeed');
    await anchor.send(2, 'revealSeed', [r.id, seed]);
    // The beacon is B's hash with the seed, however late it is fixed: a fix 300 blocks on (past BLOCKHASH's 256,
    // through the history contract) draws what one right after B draws.
    const snapshot = await env.test.snapshot();
    await anchor.send(3, 'fixBeacon', [r.id]);
    const early = await fixedEvent(r.id);
    await env.test.revert({ id: snapshot });
    await env.test.mine({ blocks: 300 });
    await anchor.send(3, 'fixBeacon', [r.id]);
    const late = await fixedEvent(r.id);
    assert.deepEqual(late, early, 'the same block, beacon and point');
    const hashOfB = (await env.pub.getBlock({ blockNumber: b })).hash;
    assert.equal(late.block_, b);
    assert.equal(late.beacon, beaconOf(hashOfB, seed));
    assert.equal(await anchor.read<bigint>('fixBeacon', [r.id]), BigInt(late.point!));
    await anchor.checkAccounts(ids);
  });

  it('an operator that withholds its seed a challenge window past the beacon block is slashed; B alone draws', async () => {
    const r = await chainWithSeed();
    const finality = await anchor.read<bigint>('finality');
    const window = await anchor.read<bigint>('challengeWindow');
    const b = r.expiry + finality;
    await mineTo(b + window - 1n);
    await anchor.reverts(3, 'fixBeacon', [r.id], 'SeedNotRevealed');
    await mineTo(b + window);
    const burnt0 = await env.pub.getBalance({ address: BURN });
    const safety = (await anchor.read<readonly unknown[]>('chains', [r.id]))[11] as bigint;
    await anchor.send(3, 'fixBeacon', [r.id]);
    const c = await anchor.read<readonly unknown[]>('chains', [r.id]);
    assert.equal(c[3], true, 'slashed');
    assert.equal(c[11], 0n, 'its safety share gone');
    assert.equal((await env.pub.getBalance({ address: BURN })) - burnt0, safety, 'burnt: nobody is rewarded');
    const fixed = await fixedEvent(r.id);
    const hashOfB = (await env.pub.getBlock({ blockNumber: b })).hash;
    assert.equal(fixed.beacon, beaconOf(hashOfB, `0x${'00'.repeat(32)}`));
    // Too late to reveal now: the lottery is drawn.
    await anchor.reverts(2, 'revealSeed', [r.id, seed], 'WrongPhase');
    await anchor.checkAccounts(ids);
  });
});
