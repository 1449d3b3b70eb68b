// Request/response protocol ids, their typed messages, and strict protobuf (de)coding (proto/p2p.proto).
import { decodeCanonical, type MessageType } from '../../codec/canonical.js';
import { DecodeError } from '../../codec/errors.js';
import { toBig, toLong } from '../../codec/u64.js';
import { sortition } from '../../gen/proto.js';
import { ReqRespError, type ReqRespErrorCode } from '../errors.js';
import { CHAIN_ID_LENGTH } from '../topics.js';

const pb = sortition.v1;

export const PROTOCOL_STATUS = '/sortition/1/status/proto';
export const PROTOCOL_BLOCKS_BY_RANGE = '/sortition/1/blocks_by_range/proto';
export const PROTOCOL_EVIDENCE = '/sortition/1/evidence/proto';
export const PROTOCOL_GENESIS = '/sortition/1/genesis/proto';

export const PROTOCOLS = {
  status: PROTOCOL_STATUS,
  blocksByRange: PROTOCOL_BLOCKS_BY_RANGE,
  evidence: PROTOCOL_EVIDENCE,
  genesis: PROTOCOL_GENESIS,
} as const;

export type ProtocolName = keyof typeof PROTOCOLS;
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['status', 'blocksByRange', 'evidence', 'genesis'];

/** The head of one chain as a peer knows it. */
export interface ChainHead {
  chainId: Uint8Array;
  height: bigint;
  /** Empty when height is 0. */
  headHash: Uint8Array;
}

/**
 * Sent by the requester: one page (at most MAX_STATUS_HEADS) of the chains it follows. Answered by the responder
 * with its heads of those of the named chains it follows (docs/protocol.md section 10).
 */
export interface Status {
  heads: ChainHead[];
  /** Responses only: multiaddrs of some of the responder's peers (peer exchange). */
  peers?: string[];
}

/** Peer addresses in one status response at most. */
export const MAX_STATUS_PEERS = 16;

export interface BlocksByRangeRequest {
  chainId: Uint8Array;
  startHeight: bigint;
  count: number;
}

export interface EvidenceRequest {
  chainId: Uint8Array;
  /** Evidence hashes wanted; empty for "any, up to maxCount". */
  ids: Uint8Array[];
  maxCount: number;
}

export interface GenesisRequest {
  chainIds: Uint8Array[];
}

/** Chain ids in one genesis request at most. */
export const MAX_GENESIS_IDS = 64;

/** Status heads in one message (a page) at most: a node following more chains sends several pages. */
export const MAX_STATUS_HEADS = 64;

// ---------------------------------------------------------------------------------------------------------
// uint64 <-> bigint, and strict decoding: the codec's (src/codec), the same rules as for chain messages.

export const toU64 = toLong;
export const fromU64 = toBig;

/** protobufjs hands out Buffers under Node; the API gives plain Uint8Array views (no copy). */
export function plainBytes(b: Uint8Array | null | undefined): Uint8Array {
  if (b === null || b === undefined) return new Uint8Array();
  return Object.getPrototypeOf(b) === Uint8Array.prototype
    ? b
    : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A request/response message that breaks the protocol's shape rules: the codec's DECODE_MALFORMED. */
function malformed(message: string): DecodeError {
  return new DecodeError('DECODE_MALFORMED', message);
}

/** Unknown fields, trailing bytes and non-canonical encodings are errors (frames bound the size already). */
export function decodeStrict<T extends object>(type: MessageType<T>, bytes: Uint8Array): T {
  return decodeCanonical(type, bytes, Number.MAX_SAFE_INTEGER, 'req/resp message');
}

export { DecodeError };

// ---------------------------------------------------------------------------------------------------------
// Error frames

const CODE_TO_PB: Partial<Record<ReqRespErrorCode, sortition.v1.ReqRespErrorCode>> = {
  INVALID_REQUEST: pb.ReqRespErrorCode.REQRESP_ERROR_INVALID_REQUEST,
  SERVER_ERROR: pb.ReqRespErrorCode.REQRESP_ERROR_SERVER_ERROR,
  RATE_LIMITED: pb.ReqRespErrorCode.REQRESP_ERROR_RATE_LIMITED,
  RESOURCE_UNAVAILABLE: pb.ReqRespErrorCode.REQRESP_ERROR_RESOURCE_UNAVAILABLE,
};

/** Codes a responder sends; any other failure is reported as server_error. */
export const RESPONDER_CODES: ReadonlySet<ReqRespErrorCode> = new Set(
  Object.keys(CODE_TO_PB) as ReqRespErrorCode[],
);

function pbError(code: ReqRespErrorCode, message: string): sortition.v1.ReqRespError.$Properties {
  return {
    code: CODE_TO_PB[code] ?? pb.ReqRespErrorCode.REQRESP_ERROR_SERVER_ERROR,
    // At most 256 bytes of UTF-8, a character cut in two dropped; TextEncoder rather than Buffer, so that a
    // browser peer (web/) can use this module too.
    message: new TextDecoder()
      .decode(new TextEncoder().encode(message).subarray(0, 256))
      .replace(/\uFFFD+$/, ''),
  };
}

function errorFromPb(
  err: sortition.v1.ReqRespError.$Properties,
  protocol: string,
  peer: string,
): ReqRespError {
  const entry = Object.entries(CODE_TO_PB).find(([, v]) => v === err.code);
  const code = (entry?.[0] as ReqRespErrorCode | undefined) ?? 'SERVER_ERROR';
  return new ReqRespError(code, `peer answered ${code}: ${err.message ?? ''}`, { protocol, peer });
}

// ---------------------------------------------------------------------------------------------------------
// Per-protocol codecs

function headToPb(h: ChainHead): sortition.v1.PeerChainHead.$Properties {
  return { chainId: h.chainId, height: toU64(h.height), headHash: h.headHash };
}

function headFromPb(h: sortition.v1.PeerChainHead.$Properties): ChainHead {
  return { chainId: plainBytes(h.chainId), height: fromU64(h.height), headHash: plainBytes(h.headHash) };
}

function checkStatus(status: Status): void {
  if (status.heads.length > MAX_STATUS_HEADS) throw malformed(`more than ${MAX_STATUS_HEADS} heads`);
  for (const h of status.heads) {
    if (h.chainId.length !== CHAIN_ID_LENGTH) throw malformed('chain id must be 32 bytes');
    if (h.headHash.length !== 0 && h.headHash.length !== 32) throw malformed('head hash must be 32 bytes');
  }
}

export const statusCodec = {
  encodeRequest(s: Status): Uint8Array {
    return pb.StatusRequest.encode({ heads: s.heads.map(headToPb) }).finish();
  },
  decodeRequest(bytes: Uint8Array): Status {
    const m = decodeStrict(pb.StatusRequest, bytes);
    const s = { heads: (m.heads ?? []).map(headFromPb) };
    checkStatus(s);
    return s;
  },
  encodeResponse(s: Status): Uint8Array {
    return pb.StatusResponse.encode({
      heads: s.heads.map(headToPb),
      peers: (s.peers ?? []).slice(0, MAX_STATUS_PEERS),
    }).finish();
  },
  encodeError(code: ReqRespErrorCode, message: string): Uint8Array {
    return pb.StatusResponse.encode({ error: pbError(code, message) }).finish();
  },
  /** Decodes one response frame; throws the peer's error if the frame carries one. */
  decodeResponse(bytes: Uint8Array, protocol: string, peer: string): Status {
    const m = decodeStrict(pb.StatusResponse, bytes);
    if (m.error) throw errorFromPb(m.error, protocol, peer);
    const peers = m.peers ?? [];
    if (peers.length > MAX_STATUS_PEERS || peers.some((a) => a.length > 256)) {
      throw malformed(`at most ${MAX_STATUS_PEERS} peer addresses of at most 256 characters`);
    }
    const s = { heads: (m.heads ?? []).map(headFromPb), peers };
    checkStatus(s);
    return s;
  },
};

export const blocksByRangeCodec = {
  encodeRequest(r: BlocksByRangeRequest): Uint8Array {
    return pb.BlocksByRangeRequest.encode({
      chainId: r.chainId,
      startHeight: toU64(r.startHeight),
      count: r.count,
    }).finish();
  },
  decodeRequest(bytes: Uint8Array): BlocksByRangeRequest {
    const m = decodeStrict(pb.BlocksByRangeRequest, bytes);
    const r = { chainId: plainBytes(m.chainId), startHeight: fromU64(m.startHeight), count: m.count ?? 0 };
    if (r.chainId.length !== CHAIN_ID_LENGTH) throw malformed('chain id must be 32 bytes');
    if (r.count < 1) throw malformed('count must be at least 1');
    return r;
  },
  encodeResponse(block: Uint8Array): Uint8Array {
    return pb.BlocksByRangeResponse.encode({ block }).finish();
  },
  encodeError(code: ReqRespErrorCode, message: string): Uint8Array {
    return pb.BlocksByRangeResponse.encode({ error: pbError(code, message) }).finish();
  },
  decodeResponse(bytes: Uint8Array, protocol: string, peer: string): Uint8Array {
    const m = decodeStrict(pb.BlocksByRangeResponse, bytes);
    if (m.error) throw errorFromPb(m.error, protocol, peer);
    if (!m.block || m.block.length === 0) throw malformed('empty block');
    return plainBytes(m.block);
  },
};

export const evidenceCodec = {
  encodeRequest(r: EvidenceRequest): Uint8Array {
    return pb.EvidenceRequest.encode({ chainId: r.chainId, ids: r.ids, maxCount: r.maxCount }).finish();
  },
  decodeRequest(bytes: Uint8Array): EvidenceRequest {
    const m = decodeStrict(pb.EvidenceRequest, bytes);
    const r = {
      chainId: plainBytes(m.chainId),
      ids: (m.ids ?? []).map(plainBytes),
      maxCount: m.maxCount ?? 0,
    };
    if (r.chainId.length !== CHAIN_ID_LENGTH) throw malformed('chain id must be 32 bytes');
    if (r.ids.some((id) => id.length !== 32)) throw malformed('evidence ids must be 32 bytes');
    if (r.ids.length === 0 && r.maxCount < 1) throw malformed('either ids or max_count');
    return r;
  },
  encodeResponse(evidence: Uint8Array): Uint8Array {
    return pb.EvidenceResponse.encode({ evidence }).finish();
  },
  encodeError(code: ReqRespErrorCode, message: string): Uint8Array {
    return pb.EvidenceResponse.encode({ error: pbError(code, message) }).finish();
  },
  decodeResponse(bytes: Uint8Array, protocol: string, peer: string): Uint8Array {
    const m = decodeStrict(pb.EvidenceResponse, bytes);
    if (m.error) throw errorFromPb(m.error, protocol, peer);
    if (!m.evidence || m.evidence.length === 0) throw malformed('empty evidence');
    return plainBytes(m.evidence);
  },
};

/** How many items an evidence request may be answered with (before the responder's own limit). */
export function evidenceRequestLimit(r: EvidenceRequest): number {
  return r.ids.length > 0 ? r.ids.length : r.maxCount;
}

export const genesisCodec = {
  encodeRequest(r: GenesisRequest): Uint8Array {
    return pb.GenesisRequest.encode({ chainIds: r.chainIds }).finish();
  },
  decodeRequest(bytes: Uint8Array): GenesisRequest {
    const m = decodeStrict(pb.GenesisRequest, bytes);
    const r = { chainIds: (m.chainIds ?? []).map(plainBytes) };
    if (r.chainIds.length < 1 || r.chainIds.length > MAX_GENESIS_IDS) {
      throw malformed(`between 1 and ${MAX_GENESIS_IDS} chain ids`);
    }
    if (r.chainIds.some((id) => id.length !== CHAIN_ID_LENGTH)) throw malformed('chain id must be 32 bytes');
    return r;
  },
  encodeResponse(genesis: Uint8Array): Uint8Array {
    return pb.GenesisResponse.encode({ genesis }).finish();
  },
  encodeError(code: ReqRespErrorCode, message: string): Uint8Array {
    return pb.GenesisResponse.encode({ error: pbError(code, message) }).finish();
  },
  decodeResponse(bytes: Uint8Array, protocol: string, peer: string): Uint8Array {
    const m = decodeStrict(pb.GenesisResponse, bytes);
    if (m.error) throw errorFromPb(m.error, protocol, peer);
    if (!m.genesis || m.genesis.length === 0) throw malformed('empty genesis');
    return plainBytes(m.genesis);
  },
};
