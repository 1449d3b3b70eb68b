/**
 * The anchor: the root of trust that top-level chains register with, commit their roots to, draw randomness
 * from, and answer to with their deposit when evidence shows they cheated. On a devnet it is an operator of the
 * anchor chain (`DevnetAnchor`); behind this interface a real main chain can replace it.
 */
import { CodedError } from '../codec/errors.js';
import type { EvidenceKind } from '../chain/evidence.js';

export type AnchorErrorCode = 'BAD_REQUEST' | 'OUT_OF_SPACE' | 'NOT_REGISTERED' | 'EVIDENCE_NOT_SLASHABLE';

/** A request any anchor refuses (the devnet anchor and the EVM anchor alike). */
export class AnchorError extends CodedError<AnchorErrorCode> {
  override readonly name = 'AnchorError';
}

export interface RegistrationRequest {
  /** The key that will own the registered interval and operate the chain living in it. */
  readonly operatorKey: Uint8Array;
  /** Value locked for the chain: the width of the interval of the anchor's space it gets. */
  readonly amount: bigint;
  /** EVM anchor only (its contract takes the genesis itself): the chain's expiry, name and deposit in gwei. */
  readonly expiry?: number;
  readonly name?: string;
  readonly deposit?: bigint;
  /**
   * EVM anchor only: signs with the operator key (Ed25519). The contract registers a chain only with its operator's
   * signature over the anchor, the chain, the committer and the sender, so nobody can take the chain id first.
   */
  readonly sign?: (message: Uint8Array) => Uint8Array;
}

export interface Registration {
  readonly anchorChainId: Uint8Array;
  /** The anchor contract [start, end) the chain lives in (its genesis names `start` as parent contract). */
  readonly start: bigint;
  readonly end: bigint;
  readonly operatorKey: Uint8Array;
  readonly amount: bigint;
  /** Set when the anchor registered a genesis record itself (the EVM anchor): the chain's genesis. */
  readonly genesis?: Uint8Array;
}

export interface CommitResult {
  /** `accepted`: the anchor will commit the header in its next block; `duplicate`: it already has. */
  readonly status: 'accepted' | 'duplicate';
  readonly height: number;
}

export interface EvidenceRecord {
  /** Evidence id (tag `evidence`). */
  readonly id: Uint8Array;
  readonly kind: EvidenceKind;
  /** The chain whose operator the evidence convicts, and the height. */
  readonly chainId: Uint8Array;
  readonly height: number;
  /** The top-level chain's registration the accused chain descends from; its deposit answers for it. */
  readonly registration: Registration;
  /** Amount slashed by this record: the registered amount, or 0 when that registration was slashed before. */
  readonly slashed: bigint;
  /** Anchor head height when the evidence was recorded. */
  readonly anchorHeight: number;
  readonly timeMs: number;
}

export interface Anchor {
  /** The anchor chain's id (genesis with an empty parent). */
  chainId(): Promise<Uint8Array>;
  /** Sells the next free interval of width `amount` of the anchor's space to the operator key. */
  registerChain(req: RegistrationRequest): Promise<Registration>;
  /** Commits a top-level chain's signed header (encoded SignedHeader) into the anchor. */
  commitRoot(signedHeader: Uint8Array): Promise<CommitResult>;
  /** The randomness beacon after the anchor block at `height` (height 0: the chain id); undefined: not yet. */
  beacon(height: number): Promise<Uint8Array | undefined>;
  /**
   * Verifies evidence (with the genesis records of the accused chain and its ancestors below the anchor; they
   * authenticate themselves by hash) and slashes the registration the accused chain descends from.
   */
  recordEvidence(evidence: Uint8Array, genesisRecords: readonly Uint8Array[]): Promise<EvidenceRecord>;
  /** Every slashing recorded, oldest first. */
  slashed(): Promise<EvidenceRecord[]>;
}
