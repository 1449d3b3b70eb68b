/**
 * Counts of the cryptographic work done, so a benchmark can time exactly the hashing and signature checking a
 * validation required, raw, next to the validation itself. An increment per call; nothing else.
 */
/** `nodeHashes`: the tree's inner-node digests among `hashes`. */
export const cryptoStats = { hashes: 0, hashedBytes: 0, verifies: 0, nodeHashes: 0 };

export function resetCryptoStats(): void {
  cryptoStats.hashes = 0;
  cryptoStats.hashedBytes = 0;
  cryptoStats.verifies = 0;
  cryptoStats.nodeHashes = 0;
}
