import type { Header } from '../../src/chain/header.js';
import type { ChainState } from '../../src/chain/state.js';
import { craftBlock } from '../../src/operator/faults.js';
import type { TestChain } from './chains.js';

/**
 * Builds and signs a block by hand, bypassing the producer's checks, so tests can make every kind of bad block
 * (the operator's fault injection builds its blocks the same way). Header fields default to what an honest
 * operator would sign; the state root is the fold of whatever transactions apply.
 */
export function craft(
  c: TestChain,
  state: ChainState,
  txs: Uint8Array[],
  over: Partial<Header> = {},
  secretKey: Uint8Array = c.key.secretKey,
): Uint8Array {
  return craftBlock(c.genesis, secretKey, state, txs, over).bytes;
}
