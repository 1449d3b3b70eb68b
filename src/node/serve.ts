/**
 * What the node answers on request/response: its heads (status, with peer exchange), stored blocks by range, the
 * evidence it holds, and the genesis records it knows.
 */
import type { PeerId } from '@libp2p/interface';
import { bytesEqual, toHex } from '../codec/bytes.js';
import type { Tracker } from '../light/tracker.js';
import { routableAddress } from '../p2p/addresses.js';
import type { NetworkNode } from '../p2p/libp2p.js';
import { MAX_STATUS_HEADS, type ChainHead, type Status } from '../p2p/reqresp/messages.js';
import type { ReqRespHandlers } from '../p2p/reqresp/reqresp.js';

export interface ServeOptions {
  readonly tracker: Tracker;
  readonly network: () => NetworkNode;
  /** Stored blocks of a chain from `start`, at most `count`, after the writes queued so far. */
  readonly blocks: (chainId: Uint8Array, start: number, count: number) => Promise<Uint8Array[]>;
  /** A peer told us its heads. */
  readonly observe: (peer: PeerId, status: Status) => void;
}

function headOf(tracker: Tracker, id: Uint8Array): ChainHead {
  const s = tracker.state(id)!;
  return { chainId: id, height: BigInt(s.height), headHash: s.height ? s.headHash : new Uint8Array(0) };
}

/**
 * Our heads in status pages of at most MAX_STATUS_HEADS (docs/protocol.md section 10): a node follows any number
 * of chains, a status message carries 64. Always at least one page, so a node that follows nothing yet still asks
 * (and gets peer exchange).
 */
export function statusPages(tracker: Tracker): Status[] {
  const ids = tracker.trackedIds();
  const pages: Status[] = [];
  for (let i = 0; i < ids.length; i += MAX_STATUS_HEADS)
    pages.push({ heads: ids.slice(i, i + MAX_STATUS_HEADS).map((id) => headOf(tracker, id)) });
  return pages.length ? pages : [{ heads: [] }];
}

/**
 * The answer to a status page: our heads of the chains the requester named that we track. A peer only uses heads
 * of chains it follows, so this is everything it needs, and it is bounded by its page whatever we follow.
 */
export function answerStatus(tracker: Tracker, asked: Status): Status {
  const seen = new Set<string>();
  const heads: ChainHead[] = [];
  for (const h of asked.heads) {
    const k = toHex(h.chainId);
    if (seen.has(k) || !tracker.isTracked(h.chainId)) continue;
    seen.add(k);
    heads.push(headOf(tracker, h.chainId));
  }
  return { heads };
}

export function serveHandlers(o: ServeOptions): ReqRespHandlers {
  return {
    status: async (peerStatus, peer) => {
      o.observe(peer, peerStatus);
      return {
        ...answerStatus(o.tracker, peerStatus),
        peers: await peerAddresses(o.network(), peer.toString()),
      };
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
