import { encodeBlock } from '../../src/chain/block.js';
import { isAnchor } from '../../src/chain/genesis.js';
import { signHeader, type Header } from '../../src/chain/header.js';
import type { ChainState } from '../../src/chain/state.js';
import { applyTx } from '../../src/chain/transition.js';
import { decodeTx } from '../../src/chain/tx.js';
import { txRoot } from '../../src/chain/txroot.js';
import { taggedHash } from '../../src/crypto/hash.js';
import { sign } from '../../src/crypto/keys.js';
import type { Summary } from '../../src/tree/verify.js';
import type { TestChain } from './chains.js';

/**
 * Builds and signs a block by hand, bypassing the producer's checks, so tests can make every kind of bad block.
 * Header fields default to what an honest operator would sign; the state root is the fold of whatever
 * transactions apply.
 */
export function craft(
  c: TestChain,
  state: ChainState,
  txs: Uint8Array[],
  over: Partial<Header> = {},
  secretKey: Uint8Array = c.key.secretKey,
): Uint8Array {
  let cur: Summary = { digest: state.stateRoot, min: state.stateMin, max: state.stateMax };
  try {
    for (const t of txs) cur = applyTx(c.genesis, cur, decodeTx(t));
  } catch {
    // Leave the root at the last state that applied: the block is meant to fail on its transactions.
  }
  const header: Header = {
    chainId: c.genesis.chainId,
    height: state.height + 1,
    prevHash: state.headHash,
    stateRoot: cur.digest,
    stateMin: cur.min,
    stateMax: cur.max,
    txRoot: txRoot(txs),
    txCount: txs.length,
    timeMs: state.timeMs + 1,
    beaconSig: isAnchor(c.genesis.genesis)
      ? sign(secretKey, taggedHash('beaconSig', state.beacon))
      : new Uint8Array(0),
    ...over,
  };
  return encodeBlock(signHeader(header, secretKey), txs);
}
