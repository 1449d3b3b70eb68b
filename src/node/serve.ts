/**
 * What the node answers on request/response: its heads (status, with peer exchange), stored blocks by range, the
 * evidence it holds, and the genesis records it knows.
 */
import type { PeerId } from '@libp2p/interface';
import { bytesEqual } from '../codec/bytes.js';
import type { Tracker } from '../light/tracker.js';
import { routableAddress } from '../p2p/addresses.js';
import type { NetworkNode } from '../p2p/libp2p.js';
import type { Status } from '../p2p/reqresp/messages.js';
import type { ReqRespHandlers } from '../p2p/reqresp/reqresp.js';

export interface ServeOptions {
  readonly tracker: Tracker;
  readonly network: () => NetworkNode;
  /** Stored blocks of a chain from `start`, at most `count`, after the writes queued so far. */
  readonly blocks: (chainId: Uint8Array, start: number, count: number) => Promise<Uint8Array[]>;
  /** A peer told us its heads. */
  readonly observe: (peer: PeerId, status: Status) => void;
}

/** The heads of the tracked chains, as the status protocol carries them. */
export function ourStatus(tracker: Tracker): Status {
  return {
    heads: tracker.trackedIds().map((id) => {
      const s = tracker.state(id)!;
      return { chainId: id, height: BigInt(s.height), headHash: s.height ? s.headHash : new Uint8Array(0) };
    }),
  };
}

export function serveHandlers(o: ServeOptions): ReqRespHandlers {
  return {
    status: async (peerStatus, peer) => {
      o.observe(peer, peerStatus);
      return { ...ourStatus(o.tracker), peers: await peerAddresses(o.network(), peer.toString()) };
    },
    blocksByRange: (req) => serveBlocks(o, req.chainId, Number(req.startHeight), req.count),
    evidence: (req) => serveEvidence(o.tracker, req.chainId, req.ids, req.maxCount),
    genesis: (req) =>
      req.chainIds.map((id) => o.tracker.genesisOf(id)?.bytes).filter((b): b is Uint8Array => !!b),
  };
}

async function* serveBlocks(
  o: ServeOptions,
  chainId: Uint8Array,
  start: number,
  count: number,
): AsyncGenerator<Uint8Array> {
  yield* await o.blocks(chainId, start, Math.min(count, 64));
}

function serveEvidence(tracker: Tracker, chainId: Uint8Array, ids: Uint8Array[], max: number): Uint8Array[] {
  const all = tracker.evidence().filter((e) => bytesEqual(e.chainId, chainId));
  const pick = ids.length ? all.filter((e) => ids.some((id) => bytesEqual(id, e.id))) : all;
  return pick.slice(0, Math.max(max, ids.length)).map((e) => e.bytes);
}

/** A routable listen address of each connected peer other than the asking one, for peer exchange. */
async function peerAddresses(network: NetworkNode, except: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of network.getConnectedPeers()) {
    const id = p.toString();
    if (id === except) continue;
    const known = await network.libp2p.peerStore.get(p).catch(() => null);
    const remote = network.libp2p.getConnections(p)[0]?.remoteAddr.toString();
    const addr = routableAddress(known?.addresses.map((a) => a.multiaddr.toString()) ?? [], remote);
    if (addr) out.push(`${addr}/p2p/${id}`);
    if (out.length >= 16) break;
  }
  return out;
}
