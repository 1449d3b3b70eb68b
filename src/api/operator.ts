/**
 * The operator's HTTP API as its clients see it: the JSON bodies it answers with and where its bearer token lives.
 * Shared by the operator that serves them and by whoever reads them (the app's bootstrap, the CLI, the devnet load
 * generator, the EVM committer's status), none of which imports the operator. Bytes travel as lowercase hex,
 * positions in the probability space and other 64-bit values as decimal strings.
 */

/** The token file in an operator's data directory: operator-only calls need `Authorization: Bearer <token>`. */
export const TOKEN_FILE = 'api-token';

export interface ChildLinkJson {
  readonly chain: string;
  readonly operator: string;
  readonly height: number;
  readonly root: string;
}

export interface ContractJson {
  readonly start: string;
  readonly end: string;
  readonly owner: string;
  readonly nonce: number;
  readonly terms: string;
  readonly child: ChildLinkJson | null;
  /** The encoded Contract (the tree leaf) and its digest, which an owner action names. */
  readonly leaf: string;
  readonly digest: string;
}

export interface ProofJson {
  /** Encoded Path (proto `Path`) of the committed contract. */
  readonly path: string;
  readonly height: number;
  readonly stateRoot: string;
  readonly headHash: string;
  /** The encoded SignedHeader the path is against. */
  readonly signedHeader: string;
}

/** `GET /v1/contracts/:start`. */
export interface ContractView {
  readonly chainId: string;
  readonly start: string;
  /** Including acknowledged changes not yet in a block: what the owner's next action must name. */
  readonly contract: ContractJson | null;
  /** The contract in the state of the head block (null: not in it). */
  readonly committed: ContractJson | null;
  /** Membership of `committed` in the head block's state. */
  readonly proof: ProofJson | null;
  /** Whether acknowledged, unsealed changes touch this contract. */
  readonly pending: boolean;
}

/** The answer to an accepted (or repeated) request. */
export interface SubmitResult {
  /** `accepted`: new, durable in the request log; `duplicate`: the same request was already accepted. */
  readonly status: 'accepted' | 'duplicate';
  /** Hash of the transaction (tag `tx`); absent for duplicates. */
  readonly tx?: string;
  /** The height of the block that will carry it (or did). */
  readonly height: number;
  /** The contract after the request (for child-root commits: the contract holding the child chain). */
  readonly contract: ContractJson | null;
}

export interface ChainInfo {
  readonly chainId: string;
  readonly genesis: string;
  readonly name: string;
  readonly operatorKey: string;
  readonly spaceStart: string;
  readonly spaceEnd: string;
  readonly parentChain: string | null;
  readonly parentContract: string | null;
  readonly head: {
    readonly height: number;
    readonly hash: string;
    readonly stateRoot: string;
    readonly timeMs: number;
    readonly signedHeader: string | null;
  };
  readonly pendingTxs: number;
  /** The genesis expiry: the anchor height at which the chain settles (0: never). */
  readonly expiry: number;
  /**
   * The earliest of `expiry` and the parent's `effectiveExpiry` as the parent last reported it (0: never): a chain
   * expires with its parent, whatever level it sits at.
   */
  readonly effectiveExpiry: number;
  /**
   * The anchor's height as this operator knows it: the anchor chain's head, passed down from parent to child
   * (null: unknown, e.g. a chain on the EVM anchor, whose committer stops it at its expiry). A chain whose own
   * expiry it reaches expires.
   */
  readonly anchorHeight: number | null;
  /**
   * The chain expired on its anchor, or its parent did: it seals no more blocks and refuses requests (EXPIRED).
   * Absent from operators older than the field (read as false).
   */
  readonly expired: boolean;
  readonly expiredReason: string | null;
  /**
   * False while the parent's contract does not hold this chain (not yet, or it holds another chain): the operator
   * refuses requests with NOT_ANCHORED, and `notAnchoredReason` says why.
   */
  readonly anchored: boolean;
  readonly notAnchoredReason: string | null;
  readonly contracts: number;
  readonly upstream: UpstreamStatus | null;
}

export interface UpstreamStatus {
  readonly url: string;
  /** Highest height submitted to the parent and acknowledged by it. */
  readonly acceptedHeight: number;
  /** Highest sealed height handed to the submitter. */
  readonly latestHeight: number;
  readonly lastError: string | null;
}

/** The owner's signature that superseded a contract state: the proof that the old state is no longer valid. */
export interface AuthorisationJson {
  /** Digest of the superseded contract state. */
  readonly digest: string;
  readonly start: string;
  readonly action: string;
  readonly signature: string;
  /** Block that carried it; null while pending. */
  readonly height: number | null;
}
