/**
 * Gossip that is valid but useless to this node (IGNOREd evidence: for chains it does not follow, already known)
 * costs nothing under gossipsub's own scoring, which only counts REJECTs; so a peer could flood well-formed messages
 * that each take a validation (issue 27 item 5: 20,000 evidence items for unknown chains in a second took half a
 * core). This keeps a decaying count of the ignored evidence messages each peer relayed (GossipService notes them)
 * and turns it into gossipsub's application-specific score (P5): nothing while the count is below a flood threshold an honest
 * peer never reaches (a few messages a second decay to well under it), then minus one point per message over it,
 * so a flood takes the peer below the disconnect threshold within a second and it is banned.
 */

export interface UselessTrafficOptions {
  /** Ignored messages a peer may have in its decayed count before it is penalised. */
  readonly threshold?: number;
  /** The count halves every `halfLifeMs`. */
  readonly halfLifeMs?: number;
  /** Peers remembered at most (the longest quiet forgotten first). */
  readonly maxPeers?: number;
}

interface Count {
  n: number;
  at: number;
}

export class UselessTraffic {
  private readonly counts = new Map<string, Count>();
  private readonly threshold: number;
  private readonly halfLifeMs: number;
  private readonly maxPeers: number;

  constructor(
    o: UselessTrafficOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.threshold = o.threshold ?? 200;
    this.halfLifeMs = o.halfLifeMs ?? 10_000;
    this.maxPeers = o.maxPeers ?? 10_000;
  }

  private decayed(c: Count, t: number): number {
    return c.n * 0.5 ** ((t - c.at) / this.halfLifeMs);
  }

  /** One more ignored message from `peer`. */
  note(peer: string): void {
    const t = this.now();
    const c = this.counts.get(peer);
    if (c) {
      c.n = this.decayed(c, t) + 1;
      c.at = t;
      this.counts.delete(peer);
      this.counts.set(peer, c);
      return;
    }
    if (this.counts.size >= this.maxPeers) this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(peer, { n: 1, at: t });
  }

  /** Gossipsub's application-specific score of `peer`: 0, or minus its ignored messages over the threshold. */
  score(peer: string): number {
    const c = this.counts.get(peer);
    if (!c) return 0;
    const n = this.decayed(c, this.now());
    return n > this.threshold ? -(n - this.threshold) : 0;
  }
}
