// Peer bans with an expiry, consulted by the connection gater of the libp2p node.
import type { PeerId } from '@libp2p/interface';

/** Time-limited bans by peer id, consulted by the connection gater. */
export class BanList {
  readonly #until = new Map<string, number>();

  ban(peer: PeerId | string, durationMs: number, now = Date.now()): void {
    const id = peer.toString();
    // Identities are free, so bans of peers that never come back would pile up: expired ones go here.
    for (const [k, until] of this.#until) if (until <= now) this.#until.delete(k);
    this.#until.set(id, Math.max(this.#until.get(id) ?? 0, now + durationMs));
  }

  get size(): number {
    return this.#until.size;
  }

  unban(peer: PeerId | string): void {
    this.#until.delete(peer.toString());
  }

  isBanned(peer: PeerId | string, now = Date.now()): boolean {
    const id = peer.toString();
    const until = this.#until.get(id);
    if (until === undefined) return false;
    if (until <= now) {
      this.#until.delete(id);
      return false;
    }
    return true;
  }

  /** Every ban that still runs, with its end (ms since the epoch): what a peer store on disk keeps. */
  entries(now = Date.now()): [string, number][] {
    return [...this.#until].filter(([, until]) => until > now);
  }

  /** Currently banned peer ids. */
  list(now = Date.now()): string[] {
    return [...this.#until.keys()].filter((id) => this.isBanned(id, now));
  }
}
