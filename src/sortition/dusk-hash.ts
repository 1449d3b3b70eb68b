// Dusk deterministic-sortition hash and score.
// Reference: dusk-network/rusk consensus/src/user/sortition.rs, the layout introduced by rusk PR #917
// (H(seed || round || step || counter), merged 2023-08) and replaced by PR #1238 (round dropped, 2024-01):
//   Sha3_256(seed || round.to_le_bytes() [u64] || step.to_le_bytes() [u8] || counter.to_le_bytes() [u32])
//   score = BigInt::from_bytes_be(hash) % total_weight
// The version of sortition.rs matched here has `step: u8` and `Seed::from([3; 48])` test vectors
// (test_sortition_hash = [134, 22, 162, ...], test_generate_sortition_score = 66422677 / 22757716).

import { sha3_256 } from '@noble/hashes/sha3.js';
import { SortitionError } from './errors.js';
import { bytesToBigIntBE, concatBytes, uintToBytesLE } from './bytes.js';

export const U64_MAX = (1n << 64n) - 1n;
export const U32_MAX = 0xffff_ffff;

/** SHA3-256(seed || round u64 LE || step u8 || creditIndex u32 LE). */
export function sortitionHash(
  seed: Uint8Array,
  round: bigint,
  step: number,
  creditIndex: number,
): Uint8Array {
  if (round < 0n || round > U64_MAX)
    throw new SortitionError('INVALID_ARGUMENT', `round ${round} is not a u64`);
  if (!Number.isInteger(step) || step < 0 || step > 0xff) {
    throw new SortitionError('INVALID_ARGUMENT', `step ${step} is not a u8`);
  }
  if (!Number.isInteger(creditIndex) || creditIndex < 0 || creditIndex > U32_MAX) {
    throw new SortitionError('INVALID_ARGUMENT', `credit index ${creditIndex} is not a u32`);
  }
  return sha3_256(
    concatBytes(seed, uintToBytesLE(round, 8), Uint8Array.of(step), uintToBytesLE(BigInt(creditIndex), 4)),
  );
}

/** The hash read as a big-endian integer, reduced modulo the total weight (which must be positive). */
export function sortitionScore(hash: Uint8Array, totalWeight: bigint): bigint {
  if (totalWeight <= 0n) throw new SortitionError('EMPTY_POOL', 'total weight must be positive');
  return bytesToBigIntBE(hash) % totalWeight;
}
