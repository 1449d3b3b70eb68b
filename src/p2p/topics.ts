// Gossip topics: typed objects and their canonical string names.
//
//   /sortition/1/<chain-id-hex>/blocks/proto   one topic per chain, carries encoded Block (chain.proto)
//   /sortition/1/evidence/proto                one topic for all chains, carries encoded Evidence
//
// The string form is canonical (lowercase hex, exactly 32-byte chain ids), so two nodes that follow the same
// chain always agree on the topic name, and parseTopic(stringifyTopic(t)) round-trips.
import { fromHex, toHex } from '../codec/bytes.js';
import { TopicParseError } from './errors.js';

export const TOPIC_PREFIX = '/sortition/1';
export const TOPIC_ENCODING = 'proto';
/** Chain ids are SHA-256 digests (the hash of the chain's Genesis record). */
export const CHAIN_ID_LENGTH = 32;

export type GossipTopic = { kind: 'blocks'; chainId: Uint8Array } | { kind: 'evidence' };
export type GossipTopicKind = GossipTopic['kind'];
export const GOSSIP_TOPIC_KINDS: readonly GossipTopicKind[] = ['blocks', 'evidence'];

export function blocksTopic(chainId: Uint8Array): GossipTopic {
  return { kind: 'blocks', chainId };
}

export const EVIDENCE_TOPIC: GossipTopic = Object.freeze({ kind: 'evidence' });

const HEX_RE = /^[0-9a-f]+$/;

export const bytesToHex = toHex;

/** Canonical topic name. Throws TopicParseError for a chain id that is not 32 bytes. */
export function stringifyTopic(topic: GossipTopic): string {
  switch (topic.kind) {
    case 'blocks':
      if (!(topic.chainId instanceof Uint8Array) || topic.chainId.length !== CHAIN_ID_LENGTH) {
        throw new TopicParseError(
          `${TOPIC_PREFIX}/?/blocks/${TOPIC_ENCODING}`,
          `chain id must be ${CHAIN_ID_LENGTH} bytes`,
        );
      }
      return `${TOPIC_PREFIX}/${bytesToHex(topic.chainId)}/blocks/${TOPIC_ENCODING}`;
    case 'evidence':
      return `${TOPIC_PREFIX}/evidence/${TOPIC_ENCODING}`;
    default: {
      const never: never = topic;
      throw new TopicParseError(String((never as { kind?: unknown }).kind), 'unknown topic kind');
    }
  }
}

/** Parses a canonical topic name; anything else throws TopicParseError. */
export function parseTopic(name: string): GossipTopic {
  if (typeof name !== 'string') throw new TopicParseError(String(name), 'not a string');
  if (name.length > 200) throw new TopicParseError(name, 'too long');
  // ['', 'sortition', '1', ...rest]
  const parts = name.split('/');
  if (parts.length < 4 || parts[0] !== '' || `/${parts[1]}/${parts[2]}` !== TOPIC_PREFIX) {
    throw new TopicParseError(name, `does not start with ${TOPIC_PREFIX}/`);
  }
  const rest = parts.slice(3);
  if (rest[rest.length - 1] !== TOPIC_ENCODING) {
    throw new TopicParseError(name, `encoding must be ${TOPIC_ENCODING}`);
  }
  if (rest.length === 2 && rest[0] === 'evidence') return { kind: 'evidence' };
  if (rest.length === 3 && rest[1] === 'blocks') {
    const hex = rest[0];
    if (hex.length !== CHAIN_ID_LENGTH * 2 || !HEX_RE.test(hex)) {
      throw new TopicParseError(name, `chain id must be ${CHAIN_ID_LENGTH * 2} lowercase hex digits`);
    }
    return { kind: 'blocks', chainId: fromHex(hex) };
  }
  throw new TopicParseError(name, 'unknown topic');
}

/** parseTopic that returns undefined instead of throwing. */
export function tryParseTopic(name: string): GossipTopic | undefined {
  try {
    return parseTopic(name);
  } catch {
    return undefined;
  }
}

export function topicsEqual(a: GossipTopic, b: GossipTopic): boolean {
  return stringifyTopic(a) === stringifyTopic(b);
}
