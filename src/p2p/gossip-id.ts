/**
 * The gossip message id without Node's crypto: what a browser peer computes (web/). It must equal
 * `gossipMessageId` in message-id.ts byte for byte, or a browser's IHAVE/IWANT would name messages its Node
 * peers cannot find (test/p2p/gossip-id.test.ts holds them equal).
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** SHA-256 over u32be(len(topic)) || topic || data. */
export function gossipMessageIdPure(topic: string, data: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(topic);
  const buf = new Uint8Array(4 + t.length + data.length);
  new DataView(buf.buffer).setUint32(0, t.length);
  buf.set(t, 4);
  buf.set(data, 4 + t.length);
  return sha256(buf);
}
