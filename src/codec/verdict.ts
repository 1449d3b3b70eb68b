/**
 * The one verdict a message or block gets, from the chain rules through the light validator to gossipsub, and the
 * closed set of codes that say why. It sits in the lowest layer because every layer judges or reports: the chain
 * and the light validator (which must not import the network) make verdicts, and the network (which knows nothing
 * of chains) maps them to gossipsub's. The codes are the protocol's: the API answers with them, metrics label by
 * them, docs/protocol.md lists them.
 */

/** The chain rules' failures (src/chain/errors.ts names them ChainErrorCode), decoding first. */
export const CHAIN_ERROR_CODES = [
  // decoding and size
  'DECODE_MALFORMED',
  'DECODE_NONCANONICAL',
  'DECODE_OVERSIZE',
  'TOO_MANY_TXS',
  // header
  'WRONG_CHAIN',
  'BAD_SIGNATURE',
  'OLD_HEIGHT',
  'HEIGHT_GAP',
  'WRONG_PARENT',
  'TIME_REGRESSION',
  'BAD_BEACON',
  'TX_COUNT_MISMATCH',
  'TX_ROOT_MISMATCH',
  'STATE_ROOT_MISMATCH',
  'STATE_BOUNDS_MISMATCH',
  // transactions
  'PROOF_INVALID',
  'PROOF_MISMATCH',
  'OVERLAP',
  'NOT_FOUND',
  'OUT_OF_SPACE',
  'BAD_CONTRACT',
  'BAD_OWNER_SIGNATURE',
  'STALE_NONCE',
  'WRONG_CONTRACT',
  'SPLIT_OUT_OF_RANGE',
  'CONTRACT_IS_CHAIN',
  'NOT_A_CHAIN',
  'BAD_GENESIS',
  'CHILD_WRONG_CHAIN',
  'CHILD_BAD_SIGNATURE',
  'CHILD_HEIGHT_NOT_INCREASING',
  'CHILD_OUT_OF_BOUNDS',
] as const;

/** Why evidence was not taken (src/chain/evidence.ts). */
export const EVIDENCE_ERROR_CODES = [
  'EVIDENCE_MALFORMED',
  'EVIDENCE_UNKNOWN_CHAIN',
  'EVIDENCE_NOT_PROVEN',
] as const;

/** What the light validator decides beyond a block's own validity (src/light/tracker.ts). */
export const TRACKER_CODES = ['UNTRACKED', 'DUPLICATE', 'EQUIVOCATION'] as const;

/**
 * The network's own (src/p2p/gossip.ts): a topic that is not ours or arrived on the wrong validator, no validator,
 * too many validations at once, a validation that did not settle in time, and `INTERNAL`, a validator that threw:
 * a bug of ours, which proves nothing about the message, so it is ignored and never costs the sender.
 */
export const GOSSIP_CODES = [
  'BAD_TOPIC',
  'WRONG_TOPIC',
  'NO_VALIDATOR',
  'OVERLOADED',
  'TIMEOUT',
  'INTERNAL',
] as const;

export const VERDICT_CODES = [
  ...CHAIN_ERROR_CODES,
  ...EVIDENCE_ERROR_CODES,
  ...TRACKER_CODES,
  ...GOSSIP_CODES,
] as const;

export type VerdictCode = (typeof VERDICT_CODES)[number];

/**
 * - `accept`: valid; applied, and relayed.
 * - `reject`: invalid (bad signature, bad proof, malformed). Dropped, and gossipsub lowers its sender's score, so a
 *   peer that keeps sending invalid messages is pruned, graylisted and finally disconnected.
 * - `ignore`: may be fine but is not relayed now (duplicate, from the future, unknown chain, our own bug). No
 *   penalty.
 *
 * Accept has no code; `code?: undefined` on it lets a caller read `v.code` without narrowing first.
 */
export type Verdict =
  | { readonly result: 'accept'; readonly code?: undefined; readonly detail?: undefined }
  | {
      readonly result: 'ignore' | 'reject';
      readonly code: VerdictCode;
      /** Words for a log, never a metric label. */
      readonly detail?: string;
    };

export type VerdictResult = Verdict['result'];

export const ACCEPT: Verdict = { result: 'accept' };

export function ignore(code: VerdictCode, detail?: string): Verdict {
  return detail === undefined ? { result: 'ignore', code } : { result: 'ignore', code, detail };
}

export function reject(code: VerdictCode, detail?: string): Verdict {
  return detail === undefined ? { result: 'reject', code } : { result: 'reject', code, detail };
}

/** A verdict's `code` metric label: its code, or `OK` for an accept (in the codes' casing). */
export function codeLabel(v: Verdict): string {
  return v.code ?? 'OK';
}
