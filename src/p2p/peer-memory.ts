// What a node remembers across restarts when it has a peer store on disk (libp2p's own records, in a LevelDB):
// the peers it knew, dialed again at start so a restart needs no bootstrap list, and its bans, so a peer banned
// for misbehaving does not come back by waiting for a restart.
import { Key, type Datastore } from 'interface-datastore';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '@libp2p/interface';
import type { BanList } from './banlist.js';
import type { NetworkLibp2p } from './services.js';

const BANS = new Key('/sortition/bans');
/** Peer-store metadata: when this node last opened a connection to the peer (ms, decimal). */
export const LAST_SEEN = 'sortition/last-seen';

/** Marks a peer as seen now, so a restart dials the peers of the last session first. */
export async function markSeen(libp2p: NetworkLibp2p, peer: PeerId, now = Date.now()): Promise<void> {
  await libp2p.peerStore.merge(peer, { metadata: { [LAST_SEEN]: new TextEncoder().encode(String(now)) } });
}

/** Loads the bans kept by `saveBans`; expired ones are dropped. Anything unreadable is ignored, not fatal. */
export async function loadBans(ds: Datastore, bans: BanList, now = Date.now()): Promise<number> {
  let entries: unknown;
  try {
    entries = JSON.parse(new TextDecoder().decode(await ds.get(BANS)));
  } catch {
    return 0;
  }
  if (!Array.isArray(entries)) return 0;
  let n = 0;
  for (const e of entries) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number' || e[1] <= now) continue;
    bans.ban(e[0], e[1] - now, now);
    n++;
  }
  return n;
}

export async function saveBans(ds: Datastore, bans: BanList): Promise<void> {
  await ds.put(BANS, new TextEncoder().encode(JSON.stringify(bans.entries())));
}

/**
 * Up to `limit` peers of the peer store worth dialing at start: not this node, not banned, with an address;
 * the most recently updated first (libp2p refreshes a record when identify runs on a connection).
 */
export async function rememberedPeers(
  libp2p: NetworkLibp2p,
  bans: BanList,
  limit: number,
): Promise<Multiaddr[]> {
  const self = libp2p.peerId.toString();
  const peers = await libp2p.peerStore.all();
  const out: { addr: Multiaddr; at: number }[] = [];
  for (const p of peers) {
    const id = p.id.toString();
    if (id === self || bans.isBanned(id)) continue;
    const a = p.addresses[0]?.multiaddr;
    if (a === undefined) continue;
    const s = a.toString();
    const seen = p.metadata.get(LAST_SEEN);
    const at = seen === undefined ? 0 : Number(new TextDecoder().decode(seen)) || 0;
    out.push({ addr: multiaddr(s.includes('/p2p/') ? s : `${s}/p2p/${id}`), at });
  }
  return out
    .sort((x, y) => y.at - x.at)
    .slice(0, limit)
    .map((x) => x.addr);
}
