/**
 * An operator's own chain is tracked from its first block, before its ancestry is resolved; the node still goes on
 * to track its ancestors (the ancestry pass skips only chains whose whole line is tracked).
 */
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ValidatorNode } from '../../src/node/validator.js';
import { createLogger } from '../../src/runtime/logger.js';
import { anchorAndTop, childChain } from '../helpers/chains.js';
import { waitFor } from '../helpers/net.js';

test("a node operating a chain also tracks the chain's ancestors", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'own-ancestry-'));
  const { anchor, top } = anchorAndTop();
  const child = childChain(top.genesis, 0n, 1000n, 'own');
  const node = new ValidatorNode({
    dataDir: dir,
    listen: ['/ip4/127.0.4.21/tcp/0'],
    bootstrap: [],
    anchorId: anchor.genesis.chainId,
    track: [child.genesis.chainId],
    genesis: [anchor.genesis, top.genesis, child.genesis],
    own: [child.genesis],
    registry: new Registry(),
    log: createLogger('silent', 'own'),
  });
  try {
    await node.start();
    await waitFor(
      () => node.tracker.isTracked(top.genesis.chainId) && node.tracker.isTracked(anchor.genesis.chainId),
      'the parent and the anchor tracked',
      10_000,
    );
  } finally {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
