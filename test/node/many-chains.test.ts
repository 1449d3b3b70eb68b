/**
 * A validator following more chains than one status message holds (64) syncs the blocks waiting on all of them
 * from a peer, and its health names the chain no connected peer follows (issue 28: from 64 chains sync never
 * started, and /v1/health said healthy with every chain at height 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/codec/bytes.js';
import { MAX_STATUS_HEADS } from '../../src/p2p/reqresp/messages.js';
import { anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { testNet, waitFor } from '../helpers/net.js';

const CHAINS = 100;
const BLOCKS = 2;

test(`a validator tracking ${CHAINS} chains syncs blocks waiting from a peer; an unfollowed chain is unhealthy`, async () => {
  assert.ok(CHAINS + 1 > MAX_STATUS_HEADS, 'more chains than one status page');
  const net = await testNet();
  try {
    const anchor = anchorChain();
    const chains = Array.from({ length: CHAINS }, (_, i) =>
      childChain(anchor.genesis, BigInt(i) * SPACE, BigInt(i + 1) * SPACE, `c${i}`),
    );
    const lonely = childChain(anchor.genesis, BigInt(CHAINS) * SPACE, BigInt(CHAINS + 1) * SPACE, 'lonely');
    const ids = chains.map((c) => c.genesis.chainId);
    const genesis = [anchor.genesis, ...chains.map((c) => c.genesis)];

    const a = await net.start({ ip: '127.0.4.1', genesis, track: ids, anchorId: anchor.genesis.chainId });
    await waitFor(() => ids.every((id) => a.tracker.isTracked(id)), 'the source tracks every chain');
    for (const c of chains)
      for (let h = 1; h <= BLOCKS; h++) {
        const v = await a.publishBlock(c.genesis.chainId, c.producer.seal(h).block.bytes);
        assert.equal(v.result, 'accept');
      }

    // Blocks are waiting on every chain before the second validator exists: only status and sync bring them.
    const b = await net.start({
      ip: '127.0.4.2',
      genesis: [...genesis, lonely.genesis],
      track: [...ids, lonely.genesis.chainId],
      anchorId: anchor.genesis.chainId,
      bootstrap: [a],
    });
    await waitFor(
      () => ids.every((id) => (b.tracker.state(id)?.height ?? 0) === BLOCKS),
      `every chain synced to ${BLOCKS}`,
      45_000,
    );

    const h = b.health({ minPeers: 1, maxLag: 0 });
    assert.equal(h.healthy, false);
    const byId = new Map(h.chains.map((c) => [c.chainId, c]));
    for (const id of ids) {
      const c = byId.get(toHex(id))!;
      assert.deepEqual(
        { height: c.height, peerHead: c.peerHead, lag: c.lag },
        { height: 2, peerHead: 2, lag: 0 },
      );
      assert.ok(c.peers >= 1);
    }
    assert.equal(byId.get(toHex(lonely.genesis.chainId))!.peers, 0);
    const lonelyLabel = toHex(lonely.genesis.chainId).slice(0, 16);
    assert.deepEqual(
      h.reasons,
      [`1 chain(s) no connected peer has told us about: ${lonelyLabel}`],
      'only the chain nobody follows is a reason',
    );
  } finally {
    await net.close();
  }
});
