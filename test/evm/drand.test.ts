/**
 * The drand beacon (issue 25 item 3, docs/protocol.md §12): a chain registered with a drand round draws from that
 * round's randomness, verified on chain with the EIP-2537 precompiles; commits stop when the round is published.
 * Played against the parties who could steer a block-hash beacon: the expiry block's builder (two different beacon
 * blocks draw the same point for the drand chain, and different points for a block-hash chain beside it), whoever
 * posts the round (only the network's signature verifies), the operator (commits after the round is out are
 * refused, so nobody knows the point while the committed state can change), and a network that goes silent (the
 * draw falls back to a later block's hash after a window, so settlement still ends).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, type Address, type Hex } from 'viem';
import { DrandBeacon, SortitionAnchor } from '../../src/gen/contracts.js';
import {
  DEV_DRAND,
  DEV_DRAND_SECRET,
  DrandError,
  QUICKNET,
  drandConstructorArgs,
  firstRoundAfter,
  g1ForEvm,
  httpDrandSource,
  roundTime,
  signRound,
  verifyRound,
} from '../../src/evm/drand.js';
import { generateKeyPair, sign } from '../../src/crypto/keys.js';
import { createLogger } from '../../src/runtime/logger.js';
import { decodeGenesis } from '../../src/chain/genesis.js';
import { fileJournal } from '../../src/evm/journal.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { defer } from '../helpers/cleanup.js';
import { header, newAnchor, registerChain, type Anchor } from './anchor-helpers.js';
import { devKey, useAnvil } from './helpers.js';

const env = useAnvil();
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'drand');

/** quicknet round 657413 as the League of Entropy published it (drand-verify's test vector). */
const QUICKNET_ROUND = 657413n;
const QUICKNET_SIG = hexToBytes(
  'b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b',
);
const QUICKNET_RANDOMNESS = '0xfc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587';

async function deployBeacon(network = QUICKNET): Promise<Address> {
  const hash = await env.wallet(0).deployContract({
    abi: DrandBeacon.abi,
    bytecode: DrandBeacon.bytecode,
    args: drandConstructorArgs(network),
  });
  return (await env.pub.waitForTransactionReceipt({ hash })).contractAddress!;
}

async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const m = /reverted with the following reason:\n(\w+)|Error: (\w+)\(\)/.exec(
      String((e as Error).message),
    );
    return m?.[1] ?? m?.[2] ?? String((e as Error).message).split('\n')[0];
  }
  return 'no revert';
}

function beaconOf(h: Hex): Hex {
  const tag = new TextEncoder().encode('sortition/1/beacon\0');
  return toHex(sha256(new Uint8Array([...tag, ...hexToBytes(h.slice(2)), ...new Uint8Array(32)])));
}

async function now(): Promise<bigint> {
  return (await env.pub.getBlock({ blockTag: 'latest' })).timestamp;
}

describe('drand on chain', () => {
  it("verifies a real quicknet round and gives drand's own randomness; anything else is refused", async (t) => {
    assert.ok(verifyRound(QUICKNET, QUICKNET_ROUND, QUICKNET_SIG), 'the vector is quicknet’s');
    const address = await deployBeacon();
    const call = (round: bigint, sig: Hex) =>
      env.pub.readContract({ address, abi: DrandBeacon.abi, functionName: 'randomness', args: [round, sig] });
    assert.equal(await call(QUICKNET_ROUND, g1ForEvm(QUICKNET_SIG)), QUICKNET_RANDOMNESS);
    assert.equal(QUICKNET_RANDOMNESS, `0x${bytesToHex(sha256(QUICKNET_SIG))}`);
    // Another round, another key's signature, a garbage point, a short one: BadSignature, never a wrong answer.
    assert.match(await revertName(call(QUICKNET_ROUND + 1n, g1ForEvm(QUICKNET_SIG))), /BadSignature/);
    assert.match(await revertName(call(QUICKNET_ROUND, g1ForEvm(signRound(DEV_DRAND_SECRET, QUICKNET_ROUND)))), /BadSignature/); // prettier-ignore
    assert.match(await revertName(call(QUICKNET_ROUND, `0x${'11'.repeat(128)}`)), /BadSignature/);
    assert.match(await revertName(call(QUICKNET_ROUND, `0x${'00'.repeat(127)}`)), /BadSignature/);
    const gas = await env.pub.estimateContractGas({
      address,
      abi: DrandBeacon.abi,
      functionName: 'post',
      args: [QUICKNET_ROUND, g1ForEvm(QUICKNET_SIG)],
      account: env.account(0),
    });
    t.diagnostic(`DrandBeacon.post (a quicknet round verified and kept): ${gas} gas`);
    const [time] = await env.pub.readContract({ address, abi: DrandBeacon.abi, functionName: 'round', args: [QUICKNET_ROUND] }); // prettier-ignore
    assert.equal(time, roundTime(QUICKNET, QUICKNET_ROUND));
  });

  describe('the anchor draws from a drand round', () => {
    let anchor: Anchor;
    const ids: Uint8Array[] = [];
    const committer = () => env.account(1).address;
    const track = <T extends { id: Hex }>(r: T): T => {
      ids.push(hexToBytes(r.id.slice(2)));
      return r;
    };

    async function commit(id: Hex, key: ReturnType<typeof generateKeyPair>, height: number) {
      const h = header(hexToBytes(id.slice(2)), height, key);
      return anchor.send(1, 'commit', [id, toHex(h.bytes)]);
    }

    it('a round already published is refused at registration; commits stop when the round is out', async () => {
      anchor = await newAnchor(env, 20n, 1000, 10n ** 16n, DEV_DRAND);
      const expiry = Number(await env.pub.getBlockNumber()) + 1000;
      const past = firstRoundAfter(DEV_DRAND, await now()) - 1n;
      await assert.rejects(
        registerChain(anchor, {
          start: 0n,
          end: 1n << 30n,
          expiry,
          committer: committer(),
          beaconRound: past,
        }),
        /BeaconRoundTooSoon/,
      );
      const round = firstRoundAfter(DEV_DRAND, (await now()) + 60n);
      const r = track(await registerChain(anchor, { start: 0n, end: 1n << 30n, expiry, committer: committer(), beaconRound: round })); // prettier-ignore
      const c = await anchor.read<readonly unknown[]>('chains', [r.id]);
      assert.equal(c[14], round);
      assert.equal(c[15], roundTime(DEV_DRAND, round));
      await commit(r.id, r.key, 1);
      // The round's time comes: from then on its signature may be public, so no commit can change what it draws.
      await env.test.setNextBlockTimestamp({ timestamp: roundTime(DEV_DRAND, round) });
      await env.test.mine({ blocks: 1 });
      await assert.rejects(commit(r.id, r.key, 2), /CommitTooLate/);
    });

    it("the expiry block's builder cannot move the point: two beacon blocks, one draw (a block-hash chain moves)", async () => {
      anchor ??= await newAnchor(env, 20n, 1000, 10n ** 16n, DEV_DRAND);
      const expiry = (await env.pub.getBlockNumber()) + 5n;
      const round = firstRoundAfter(DEV_DRAND, (await now()) + 30n);
      const base = { start: 0n, end: 1n << 40n, expiry: Number(expiry), committer: committer() };
      const drandChain = track(await registerChain(anchor, { ...base, beaconRound: round }));
      const hashChain = track(await registerChain(anchor, base));
      await env.test.mine({ blocks: Number(expiry - 1n - (await env.pub.getBlockNumber())) });
      const snapshot = await env.test.snapshot();
      const draw = async (grind: number) => {
        // The builder of the beacon block B = expiry (finality 0) picks its contents and time.
        await env.test.setNextBlockTimestamp({ timestamp: (await now()) + BigInt(1 + grind) });
        await env.wallet(5).sendTransaction({ to: env.account(6).address, value: BigInt(1 + grind) });
        const b = await env.pub.getBlock({ blockTag: 'latest' });
        assert.equal(b.number, expiry);
        await assert.rejects(anchor.send(3, 'fixBeacon', [drandChain.id]), /BeaconNotPosted/);
        // Past the round's time anyone posts it; only its one valid signature verifies.
        await env.test.setNextBlockTimestamp({ timestamp: roundTime(DEV_DRAND, round) + 1n });
        const d = await anchor.read<Address>('drand');
        const bad = g1ForEvm(signRound(DEV_DRAND_SECRET, round + 1n));
        await assert.rejects(
          env
            .wallet(4)
            .writeContract({ address: d, abi: DrandBeacon.abi, functionName: 'post', args: [round, bad] }),
          /BadSignature/,
        );
        const sig = g1ForEvm(signRound(DEV_DRAND_SECRET, round));
        const h = await env.wallet(4).writeContract({ address: d, abi: DrandBeacon.abi, functionName: 'post', args: [round, sig] }); // prettier-ignore
        await env.pub.waitForTransactionReceipt({ hash: h });
        await anchor.send(3, 'fixBeacon', [drandChain.id]);
        await anchor.send(3, 'fixBeacon', [hashChain.id]);
        const fixed = async (id: Hex) =>
          (await env.pub.getContractEvents({ address: anchor.address, abi: SortitionAnchor.abi, eventName: 'BeaconFixed', args: { chainId: id }, fromBlock: 0n }))[0].args; // prettier-ignore
        return { drand: await fixed(drandChain.id), hash: await fixed(hashChain.id), b: b.hash };
      };
      const first = await draw(0);
      await env.test.revert({ id: snapshot });
      const second = await draw(7);
      assert.notEqual(first.b, second.b, 'two different beacon blocks');
      assert.equal(second.drand.point, first.drand.point, 'the drand chain draws the same point');
      assert.equal(second.drand.beacon, first.drand.beacon);
      const randomness = toHex(sha256(signRound(DEV_DRAND_SECRET, round)));
      assert.equal(first.drand.beacon, beaconOf(randomness), 'H(beacon, the round’s randomness || 0)');
      assert.notEqual(
        second.hash.beacon,
        first.hash.beacon,
        'the block-hash chain’s draw moved with the block',
      );
      await anchor.checkAccounts(ids);
    });

    it('a round nobody posts for a window: the draw falls back to the hash of the block a window after B', async () => {
      anchor ??= await newAnchor(env, 20n, 1000, 10n ** 16n, DEV_DRAND);
      const expiry = (await env.pub.getBlockNumber()) + 3n;
      const round = firstRoundAfter(DEV_DRAND, (await now()) + 30n);
      const r = await registerChain(anchor, { start: 0n, end: 1n << 20n, expiry: Number(expiry), committer: committer(), beaconRound: round }); // prettier-ignore
      const window = await anchor.read<bigint>('challengeWindow');
      const b = expiry + window;
      // Up to B + window (the next block's number), the draw waits for the round.
      await env.test.mine({ blocks: Number(b - 1n - (await env.pub.getBlockNumber())) });
      await assert.rejects(anchor.send(3, 'fixBeacon', [r.id]), /BeaconNotPosted/);
      await env.test.mine({ blocks: 1 });
      await anchor.send(3, 'fixBeacon', [r.id]);
      const c = await anchor.read<readonly unknown[]>('chains', [r.id]);
      assert.equal(c[12], beaconOf((await env.pub.getBlock({ blockNumber: b })).hash));
    });
  });

  it('an operator registers with the round after its expiry and posts it; a settler could too', async (t) => {
    const anchor = await newAnchor(env, 20n, 1000, 10n ** 16n, DEV_DRAND);
    const dir = await mkdtemp(join(tmpdir(), 'evm-drand-'));
    defer(t, () => rm(dir, { recursive: true, force: true }));
    const key = generateKeyPair();
    const evm = await EvmAnchor.open({
      rpcUrl: env.anvil.rpcUrl,
      address: anchor.address,
      key: devKey(env, 8),
      journal: fileJournal(join(dir, 'journal')),
      log,
      pollMs: 20,
    });
    const expiry = Number(await env.pub.getBlockNumber()) + 5;
    const reg = await evm.registerChain({ operatorKey: key.publicKey, amount: 1000n, expiry, deposit: 1_000_000n, sign: (m) => sign(key.secretKey, m) }); // prettier-ignore
    const chainId = decodeGenesis(reg.genesis!).chainId;
    const c = await evm.chain(chainId);
    assert.ok(c.beaconRound > 0n, 'the node chose a round');
    assert.ok(c.beaconTime > (await now()), 'published after registration');
    assert.equal(await evm.postDrandRound(chainId), 'waiting', 'not before its time');
    await env.test.mine({ blocks: 6 });
    await env.test.setNextBlockTimestamp({ timestamp: c.beaconTime });
    await env.test.mine({ blocks: 1 });
    assert.equal(await evm.postDrandRound(chainId), 'posted');
    assert.equal(
      await evm.drandPosted(c.beaconRound),
      toHex(sha256(signRound(DEV_DRAND_SECRET, c.beaconRound))),
    );
    await anchor.send(3, 'fixBeacon', [toHex(chainId)]);
    assert.equal((await evm.chain(chainId)).phase, 'settling');
  });
});

describe('a drand HTTP relay', () => {
  it('is believed only with a valid signature; too early is null, a lie is DRAND_BAD_SIGNATURE', async (t) => {
    let lie = false;
    const server = createServer((req, res) => {
      const round = BigInt(/\/public\/(\d+)$/.exec(req.url ?? '')?.[1] ?? '0');
      if (roundTime(DEV_DRAND, round) > BigInt(Math.floor(Date.now() / 1000))) {
        res.writeHead(425).end();
        return;
      }
      const sig = signRound(DEV_DRAND_SECRET, lie ? round + 1n : round);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          round: Number(round),
          signature: bytesToHex(sig),
          randomness: bytesToHex(sha256(sig)),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    defer(t, () => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const src = httpDrandSource(DEV_DRAND, url);
    const nowS = BigInt(Math.floor(Date.now() / 1000));
    const round = firstRoundAfter(DEV_DRAND, nowS) - 5n;
    assert.deepEqual(await src.signature(round, nowS), signRound(DEV_DRAND_SECRET, round));
    assert.equal(await src.signature(round + 1000n, nowS + 2000n), null, 'the relay has not published it');
    lie = true;
    await assert.rejects(src.signature(round, nowS), (e: unknown) => e instanceof DrandError && e.code === 'DRAND_BAD_SIGNATURE'); // prettier-ignore
  });
});
