/**
 * The propagation benchmark's baselines, kept out of the light validator's judging: take the next block of a
 * tracked chain as its head without judging it, so that a node does everything it does with an accepted block except
 * judge it. With `signatures`, the block must first pass every signature check a validator has to make (the
 * header's, the beacon's, each owner's and each committed child header's, against the keys the block itself carries)
 * and nothing else: no proof, root or rule is checked. That is the least work any validator can do per block, so it
 * bounds what judging could ever cost less. Never used on a network: both believe what they are not shown. The app
 * layer injects them into a validator as its judge (src/app/node.ts, `--bench-accept-all`, `--bench-signatures-only`).
 */
import { decodeBlock, type Block } from '../chain/block.js';
import { ChainError } from '../chain/errors.js';
import { isAnchor } from '../chain/genesis.js';
import { checkHeaderSignature } from '../chain/header.js';
import type { ChainState } from '../chain/state.js';
import { checkChildSignature, checkOwnerSignature } from '../chain/transition.js';
import { decodeTx } from '../chain/tx.js';
import { checkBeaconSignature, checkTxSignaturesV2 } from '../chain/validate.js';
import { ignore } from '../codec/verdict.js';
import { notApplied, type BlockOutcome, type Tracker } from './tracker.js';

export function trustBlock(
  tracker: Tracker,
  chainId: Uint8Array,
  bytes: Uint8Array,
  opts: { signatures?: boolean } = {},
): BlockOutcome {
  const state = tracker.state(chainId);
  if (!state) return notApplied(ignore('UNTRACKED'));
  let block: Block;
  try {
    block = decodeBlock(bytes);
  } catch (e) {
    return notApplied(ChainError.from(e).verdict());
  }
  if (block.signed.header.height <= state.height) return notApplied(ignore('DUPLICATE'));
  if (opts.signatures) {
    try {
      checkSignaturesOnly(state, block);
    } catch (e) {
      return notApplied(ChainError.from(e).verdict());
    }
  }
  return tracker.takeUnjudged(chainId, block);
}

/** The signature checks checkLink and checkTransition make, and no other check. */
function checkSignaturesOnly(state: ChainState, block: Block): void {
  checkHeaderSignature(state.genesis, block.signed);
  if (isAnchor(state.genesis.genesis)) checkBeaconSignature(state, block.signed.header);
  if (block.proof !== null) return checkTxSignaturesV2(state.genesis, block);
  block.txs.forEach((bytes, i) => {
    try {
      const tx = decodeTx(bytes);
      if (tx.kind === 'owner') checkOwnerSignature(tx.path.leaf?.contract.owner ?? NO_KEY, tx.signed);
      else if (tx.kind === 'childRoot')
        checkChildSignature(tx.path.leaf?.contract.child?.operator ?? NO_KEY, tx.child);
    } catch (e) {
      throw ChainError.from(e, i);
    }
  });
}

const NO_KEY = new Uint8Array(0);
