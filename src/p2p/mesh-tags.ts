// One peer-store tag for a peer in any of our gossip meshes, so the connection manager keeps mesh peers when it
// trims connections. gossipsub's own tagging (`tagMeshPeers`) puts one tag per topic on the peer's record, and
// libp2p decodes and re-encodes the whole record on every graft, prune and stream opened (it merges the stream's
// protocol into it): at 1,000 topics that record held 1,000 tags and those merges were a third of an idle node's
// CPU (issue 28). Here the record is written only when a peer enters its first mesh or leaves its last.
import type { PeerId, PeerStore } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { GossipRouter } from './services.js';

export const MESH_TAG = 'sortition-gossip-mesh';
const MESH_TAG_VALUE = 100;

interface MeshEvent {
  readonly detail: { readonly peerId: string; readonly topic: string };
}

export class MeshTagger {
  /** peer -> topics whose mesh holds it (bounded by the meshes themselves). */
  readonly #topics = new Map<string, Set<string>>();

  constructor(
    private readonly gossipsub: GossipRouter,
    private readonly peerStore: PeerStore,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.gossipsub.addEventListener('gossipsub:graft', this.#onGraft);
    this.gossipsub.addEventListener('gossipsub:prune', this.#onPrune);
  }

  stop(): void {
    this.gossipsub.removeEventListener('gossipsub:graft', this.#onGraft);
    this.gossipsub.removeEventListener('gossipsub:prune', this.#onPrune);
    this.#topics.clear();
  }

  /** A disconnected peer is in no mesh; its tag stays on the record until it joins and leaves one again. */
  forget(peer: PeerId | string): void {
    this.#topics.delete(peer.toString());
  }

  /** Peers holding the tag as far as this tagger knows (tests). */
  get tagged(): number {
    return this.#topics.size;
  }

  readonly #onGraft = (evt: MeshEvent): void => {
    const { peerId, topic } = evt.detail;
    let topics = this.#topics.get(peerId);
    if (!topics) this.#topics.set(peerId, (topics = new Set()));
    const first = topics.size === 0;
    topics.add(topic);
    if (first) this.#tag(peerId, { value: MESH_TAG_VALUE });
  };

  readonly #onPrune = (evt: MeshEvent): void => {
    const { peerId, topic } = evt.detail;
    const topics = this.#topics.get(peerId);
    if (!topics?.delete(topic) || topics.size > 0) return;
    this.#topics.delete(peerId);
    this.#tag(peerId, undefined);
  };

  #tag(peerId: string, tag: { value: number } | undefined): void {
    this.peerStore.merge(peerIdFromString(peerId), { tags: { [MESH_TAG]: tag } }).catch(this.onError);
  }
}
