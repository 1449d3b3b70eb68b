/**
 * Hard bounds on everything a peer can make a node decode or compute. They are protocol constants: a message
 * over a bound is invalid, not merely unwelcome, so every honest node reaches the same verdict.
 */
export const LIMITS = {
  /** A whole encoded block (signed header and transactions). */
  blockBytes: 32 * 1024 * 1024,
  txsPerBlock: 20_000,
  /** One encoded transaction. */
  txBytes: 16 * 1024,
  /** Signed header, genesis record, contract. */
  headerBytes: 1024,
  genesisBytes: 1024,
  contractBytes: 512,
  /** Crit-bit positions strictly increase along a path over 64-bit keys, so no path is longer than this. */
  pathDepth: 64,
  evidenceBytes: 33 * 1024 * 1024,
  nameBytes: 64,
  saltBytes: 32,
} as const;
