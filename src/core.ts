/**
 * The pure protocol core: wire formats, hashing, keys, the probability-space tree, chain validation and evidence.
 * No I/O and no networking, so a wallet can embed it.
 */
export * from './codec/canonical.js';
export * from './codec/errors.js';
export * from './codec/limits.js';
export * from './codec/u64.js';
export * from './crypto/hash.js';
export * from './crypto/keys.js';
export * from './tree/index.js';
export * from './chain/index.js';
export * from './light/watch.js';
