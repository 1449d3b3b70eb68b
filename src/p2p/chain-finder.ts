// "Who follows chain X?" answered by the Kademlia DHT (@libp2p/kad-dht, the ecosystem's content routing): a node
// announces itself as a provider of every chain it follows, and finds and dials providers of a chain it follows
// when it starts, so a fresh node that knows any one peer of the network (not one of that chain's) reaches the
// chain's peers. Provider records expire and are re-announced by the DHT's own reprovider.
import { CID } from 'multiformats/cid';
import { create as createDigest } from 'multiformats/hashes/digest';
import { sha256 } from '@noble/hashes/sha2.js';
import type { PeerId } from '@libp2p/interface';
import type { P2pLogger } from './options.js';
import type { NetworkLibp2p } from './services.js';

const RAW = 0x55;
const SHA2_256 = 0x12;
const TAG = new TextEncoder().encode('sortition/1/chain-providers\0');

/** The DHT key of a chain's providers: a raw CID of sha256(tag || chain id). */
export function chainCid(chainId: Uint8Array): CID {
  const bytes = new Uint8Array(TAG.length + chainId.length);
  bytes.set(TAG);
  bytes.set(chainId, TAG.length);
  return CID.createV1(RAW, createDigest(SHA2_256, sha256(bytes)));
}

export interface ChainFinderOptions {
  /** Longest a provide or a find may take. */
  readonly timeoutMs?: number;
  /** Providers dialed per find. */
  readonly dials?: number;
}

export class ChainFinder {
  constructor(
    private readonly libp2p: NetworkLibp2p,
    private readonly log: P2pLogger,
    private readonly o: ChainFinderOptions = {},
  ) {}

  /** Announces this node as a follower of `chainId`; false when the DHT has no peer to store the record yet. */
  async provide(chainId: Uint8Array, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.libp2p.contentRouting.provide(chainCid(chainId), { signal: this.signal(signal) });
      return true;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'announcing a chain on the DHT failed');
      return false;
    }
  }

  /**
   * Finds followers of `chainId` and dials those not connected (at most `dials`); returns the peers it connected
   * to. Errors are the DHT's business (no peers yet, a timeout): an empty answer, logged.
   */
  async find(chainId: Uint8Array, signal?: AbortSignal): Promise<PeerId[]> {
    const self = this.libp2p.peerId;
    const want = this.o.dials ?? 4;
    const dialed: PeerId[] = [];
    const s = this.signal(signal);
    try {
      for await (const p of this.libp2p.contentRouting.findProviders(chainCid(chainId), { signal: s })) {
        if (p.id.equals(self) || this.libp2p.getConnections(p.id).length > 0) continue;
        try {
          if (p.multiaddrs.length > 0) await this.libp2p.peerStore.merge(p.id, { multiaddrs: p.multiaddrs });
          await this.libp2p.dial(p.id, { signal: s });
          dialed.push(p.id);
        } catch (err) {
          this.log.debug(
            { peer: p.id.toString(), err: (err as Error).message },
            'dialing a chain provider failed',
          );
        }
        if (dialed.length >= want) break;
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'finding chain providers on the DHT failed');
    }
    return dialed;
  }

  private signal(outer?: AbortSignal): AbortSignal {
    const t = AbortSignal.timeout(this.o.timeoutMs ?? 20_000);
    return outer ? AbortSignal.any([outer, t]) : t;
  }
}
