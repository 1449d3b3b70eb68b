// Helpers shared by the p2p tests: real nodes on loopback, each on its own 127.0.0.x address.
import { createNetworkNode, type NetworkNode, type NetworkNodeOptions } from '../../src/p2p/libp2p.js';
import type { GossipService } from '../../src/p2p/gossip.js';
import { stringifyTopic, type GossipTopic } from '../../src/p2p/topics.js';

export async function startNode(
  host: string,
  opts: Partial<NetworkNodeOptions> = {},
  started: NetworkNode[] = [],
): Promise<NetworkNode> {
  const node = await createNetworkNode({
    listen: [`/ip4/${host}/tcp/0`],
    gossip: { heartbeatIntervalMs: 200, ...opts.gossip },
    redial: { initialDelayMs: 50, maxDelayMs: 500, checkIntervalMs: 500, ...opts.redial },
    ...opts,
  });
  started.push(node);
  await node.start();
  return node;
}

/** The node's first listen address including /p2p/<peer id>. */
export function addrOf(node: NetworkNode): string {
  const addr = node.getMultiaddrs()[0];
  if (addr === undefined) throw new Error('node has no listen address');
  const s = addr.toString();
  return s.includes('/p2p/') ? s : `${s}/p2p/${node.peerId.toString()}`;
}

export async function stopAll(nodes: Array<{ stop(): Promise<void> }>): Promise<void> {
  await Promise.allSettled(nodes.map((n) => n.stop()));
}

export function bytes(n: number, fill = 1): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** A 32-byte chain id. */
export function chainId(seed: number): Uint8Array {
  return new Uint8Array(32).fill(seed);
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what?: string;
}

/** Polls `predicate` until true; throws after `timeoutMs` (default 10 s). Never a fixed sleep. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  opts: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** Waits until at least `minPeers` peers are in the gossip mesh of `topic`. */
export function waitForMesh(
  gossip: GossipService,
  topic: GossipTopic,
  minPeers = 1,
  opts: WaitOptions = {},
): Promise<void> {
  return waitUntil(() => gossip.getMeshPeers(topic).length >= minPeers, {
    ...opts,
    what: `${minPeers} mesh peer(s) on ${stringifyTopic(topic)}`,
  });
}
