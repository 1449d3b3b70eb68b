/**
 * A node that cannot see its chains' anchor says so (issue 27 item 4): a chain registered in the EVM anchor contract
 * names the contract's anchor id as its parent, which has no genesis record anywhere; a node started without
 * --evm-rpc/--anchor-address (a nested chain's operator, say) asks its peers for it in vain, and now logs a warning
 * naming the options. With the external anchor configured it does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ValidatorNode } from '../../src/node/validator.js';
import { anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { testNet, waitFor } from '../helpers/net.js';

/** A node whose log lines are kept, its chain's anchor unknown to it unless `external`. */
async function node(dir: string, peer: ValidatorNode, external: boolean) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE, 'top');
  const n = new ValidatorNode({
    dataDir: dir,
    listen: ['/ip4/127.0.0.47/tcp/0'],
    bootstrap: [peer.multiaddrs()[0]],
    track: [top.genesis.chainId],
    genesis: [top.genesis],
    ...(external ? { anchorId: anchor.genesis.chainId, externalAnchor: true } : {}),
    registry: new Registry(),
    log: pino({ level: 'info' }, sink),
    syncIntervalMs: 1000,
  });
  await n.start();
  return { n, lines };
}

const warned = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => /pass --evm-rpc and --anchor-address/.test(String(l.msg)));

test('a node whose chain names an anchor no peer holds warns once that it needs --evm-rpc and --anchor-address', async () => {
  const net = await testNet();
  const dir = await mkdtemp(join(tmpdir(), 'ancestry-warning-'));
  try {
    const peer = await net.start({ ip: '127.0.0.48', genesis: [], track: [] });
    const blind = await node(join(dir, 'blind'), peer, false);
    try {
      await waitFor(() => warned(blind.lines).length > 0, 'the warning', 30_000);
      const w = warned(blind.lines)[0];
      assert.equal(w.level, 40);
      assert.match(String(w.msg), /SORTITION_EVM_RPC, SORTITION_ANCHOR_ADDRESS/);
    } finally {
      await blind.n.stop();
    }
    const seeing = await node(join(dir, 'seeing'), peer, true);
    try {
      await waitFor(() => seeing.n.tracker.trackedIds().length > 0, 'the chain tracked', 30_000);
      assert.equal(warned(seeing.lines).length, 0);
    } finally {
      await seeing.n.stop();
    }
  } finally {
    await net.close();
    await rm(dir, { recursive: true, force: true });
  }
});
