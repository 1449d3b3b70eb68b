/**
 * Gossip message ids. The id proper is SHA-256 over the topic and the data (StrictNoSign messages carry no author
 * or sequence number), so two copies of a block from two peers are one message. Each block arrives once per mesh
 * peer, so most arrivals are duplicates: the fast id (xxHash64, as Lodestar uses) finds them before the SHA-256 and
 * the rest of gossipsub's checks. xxHash is no commitment, so its seed is drawn per process: a peer that cannot
 * know the seed cannot craft a message whose fast id collides with an honest one to have the honest one dropped.
 */
import { createHash, randomBytes } from 'node:crypto';
import xxhash from 'xxhash-wasm';

/** SHA-256 over u32be(len(topic)) || topic || data. */
export function gossipMessageId(topic: string, data: Uint8Array): Uint8Array {
  const t = Buffer.from(topic, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return new Uint8Array(createHash('sha256').update(len).update(t).update(data).digest());
}

/** What gossipsub hands a fast message id function: the raw RPC message. */
export interface RawGossipMessage {
  readonly topic: string;
  readonly data?: Uint8Array;
}

/** A seeded fast-id function over topic and data, with its seed fixed for the life of the process. */
export async function createFastMessageId(): Promise<(msg: RawGossipMessage) => string> {
  const { h64Raw } = await xxhash();
  const seed = randomBytes(8).readBigUInt64BE();
  const enc = new TextEncoder();
  const topicSeeds = new Map<string, bigint>();
  return (msg) => {
    let ts = topicSeeds.get(msg.topic);
    if (ts === undefined) {
      ts = h64Raw(enc.encode(msg.topic), seed);
      // Topics are few (one per tracked chain and kind); the bound only guards against a flood of names.
      if (topicSeeds.size < 4096) topicSeeds.set(msg.topic, ts);
    }
    return h64Raw(msg.data ?? new Uint8Array(0), ts).toString(36);
  };
}
