// Request/response protocol ids, their typed messages, and strict protobuf (de)coding (proto/p2p.proto).
import * as protobuf from 'protobufjs/minimal.js';
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

/** Sent by the requester and answered by the responder: the chains each follows. */
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

/** Status heads in one message at most. */
export const MAX_STATUS_HEADS = 64;

// ---------------------------------------------------------------------------------------------------------
// uint64 <-> bigint. The generated code uses long.js values (--force-long).

type PbLong = NonNullable<sortition.v1.BlocksByRangeRequest.$Properties['startHeight']>;
const LongCtor = protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): PbLong };
const U64_MAX = (1n << 64n) - 1n;

export function toU64(v: bigint): PbLong {
  if (v < 0n || v > U64_MAX) throw new RangeError(`not a uint64: ${v}`);
  return LongCtor.fromString(v.toString(), true);
}

export function fromU64(v: PbLong | number | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  return BigInt(v.toString());
}

/** protobufjs hands out Buffers under Node; the API gives plain Uint8Array views (no copy). */
export function plainBytes(b: Uint8Array | null | undefined): Uint8Array {
  if (b === null || b === undefined) return new Uint8Array();
  return Object.getPrototypeOf(b) === Uint8Array.prototype
    ? b
    : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------------------------------------------------
// Strict decoding: unknown fields, trailing bytes and non-canonical encodings are errors.

interface PbType<T> {
  encode(m: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function hasUnknowns(value: unknown, depth = 0): boolean {
  if (depth > 8 || typeof value !== 'object' || value === null || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) return value.some((v) => hasUnknowns(v, depth + 1));
  const rec = value as Record<string, unknown>;
  const unknowns = rec.$unknowns;
  if (Array.isArray(unknowns) && unknowns.length > 0) return true;
  return Object.values(rec).some((v) => hasUnknowns(v, depth + 1));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export function decodeStrict<T>(type: PbType<T>, bytes: Uint8Array): T {
  let msg: T;
  try {
    msg = type.decode(bytes);
  } catch (err) {
    throw new DecodeError(`undecodable: ${(err as Error).message}`);
  }
  if (hasUnknowns(msg)) throw new DecodeError('unknown fields');
  if (!bytesEqual(type.encode(msg).finish(), bytes)) throw new DecodeError('non-canonical encoding');
  return msg;
}

// ---------------------------------------------------------------------------------------------------------
// Error frames

const CODE_TO_PB: Partial<Record<ReqRespErrorCode, sortition.v1.ReqRespErrorCode>> = {
  invalid_request: pb.ReqRespErrorCode.REQRESP_ERROR_INVALID_REQUEST,
  server_error: pb.ReqRespErrorCode.REQRESP_ERROR_SERVER_ERROR,
  rate_limited: pb.ReqRespErrorCode.REQRESP_ERROR_RATE_LIMITED,
  resource_unavailable: pb.ReqRespErrorCode.REQRESP_ERROR_RESOURCE_UNAVAILABLE,
};

/** Codes a responder sends; any other failure is reported as server_error. */
export const RESPONDER_CODES: ReadonlySet<ReqRespErrorCode> = new Set(
  Object.keys(CODE_TO_PB) as ReqRespErrorCode[],
);

function pbError(code: ReqRespErrorCode, message: string): sortition.v1.ReqRespError.$Properties {
  return {
    code: CODE_TO_PB[code] ?? pb.ReqRespErrorCode.REQRESP_ERROR_SERVER_ERROR,
    message: Buffer.from(message, 'utf8')
      .subarray(0, 256)
      .toString('utf8')
      .replace(/\uFFFD+$/, ''),
  };
}

function errorFromPb(
  err: sortition.v1.ReqRespError.$Properties,
  protocol: string,
  peer: string,
): ReqRespError {
  const entry = Object.entries(CODE_TO_PB).find(([, v]) => v === err.code);
  const code = (entry?.[0] as ReqRespErrorCode | undefined) ?? 'server_error';
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
  if (status.heads.length > MAX_STATUS_HEADS) throw new DecodeError(`more than ${MAX_STATUS_HEADS} heads`);
  for (const h of status.heads) {
    if (h.chainId.length !== CHAIN_ID_LENGTH) throw new DecodeError('chain id must be 32 bytes');
    if (h.headHash.length !== 0 && h.headHash.length !== 32)
      throw new DecodeError('head hash must be 32 bytes');
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
      throw new DecodeError(`at most ${MAX_STATUS_PEERS} peer addresses of at most 256 characters`);
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
    if (r.chainId.length !== CHAIN_ID_LENGTH) throw new DecodeError('chain id must be 32 bytes');
    if (r.count < 1) throw new DecodeError('count must be at least 1');
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
    if (!m.block || m.block.length === 0) throw new DecodeError('empty block');
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
    if (r.chainId.length !== CHAIN_ID_LENGTH) throw new DecodeError('chain id must be 32 bytes');
    if (r.ids.some((id) => id.length !== 32)) throw new DecodeError('evidence ids must be 32 bytes');
    if (r.ids.length === 0 && r.maxCount < 1) throw new DecodeError('either ids or max_count');
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
    if (!m.evidence || m.evidence.length === 0) throw new DecodeError('empty evidence');
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
      throw new DecodeError(`between 1 and ${MAX_GENESIS_IDS} chain ids`);
    }
    if (r.chainIds.some((id) => id.length !== CHAIN_ID_LENGTH))
      throw new DecodeError('chain id must be 32 bytes');
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
    if (!m.genesis || m.genesis.length === 0) throw new DecodeError('empty genesis');
    return plainBytes(m.genesis);
  },
};
