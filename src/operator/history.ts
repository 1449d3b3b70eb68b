/**
 * The operator's tree at an earlier height, rebuilt from the head by undoing stored blocks. Every transaction
 * carries the contract state it replaced (its path's leaf), so a block undoes from its own bytes, and this works
 * after a restart too. Settlement needs it: a claim proves the point against the root the EVM contract holds at
 * its last committed height, which trails the head by the blocks whose commits were in flight (or refused) when
 * the chain expired.
 */
import { bytesEqual } from '../codec/canonical.js';
import { decodeBlock, type Block } from '../chain/block.js';
import type { SignedHeader } from '../chain/header.js';
import { decodeTx, decodeTxV2 } from '../chain/tx.js';
import type { Leaf } from '../tree/contract.js';
import { decodeMultiproof } from '../tree/multiproof.js';
import { ProbabilityTree } from '../tree/tree.js';

/** How many blocks below the head a view may be rebuilt: each costs its transactions, the copy costs the tree. */
export const MAX_REWIND = 1024;

/** Undoes one block's transactions on `tree` (the state after the block), last first. */
export function undoBlock(tree: ProbabilityTree, blockBytes: Uint8Array): void {
  const block = decodeBlock(blockBytes);
  if (block.version === 2) return undoMultiproofBlock(tree, block);
  const { txs } = block;
  for (let i = txs.length - 1; i >= 0; i--) {
    const tx = decodeTx(txs[i]);
    if (tx.kind === 'create') {
      tree.remove(tx.leaf.contract.start);
      continue;
    }
    // Owner actions and child roots name the contract they change: its state before is the path's leaf.
    const before = tx.path.leaf;
    if (!before) throw new Error('a stored transaction names no contract');
    if (tx.kind === 'owner') {
      const op = tx.signed.action.op;
      if (op.kind === 'close') {
        tree.insert(before);
        continue;
      }
      if (op.kind === 'split') tree.remove(op.at);
    }
    tree.replace(before);
  }
}

/**
 * A version 2 block's transactions carry no paths; its multiproof holds, as full leaves, the pre-block state of
 * every contract the block acts on. So the block undoes as a whole: every contract it touched or created goes, and
 * the multiproof's leaves come back (a leaf it only revealed is unchanged, and replacing it is a no-op).
 */
function undoMultiproofBlock(tree: ProbabilityTree, block: Block): void {
  const touched: bigint[] = [];
  for (const bytes of block.txs) {
    const tx = decodeTxV2(bytes);
    if (tx.kind === 'create') touched.push(tx.leaf.contract.start);
    else {
      touched.push(tx.start);
      if (tx.kind === 'owner' && tx.signed.action.op.kind === 'split') touched.push(tx.signed.action.op.at);
    }
  }
  for (const start of touched) if (tree.get(start)) tree.remove(start);
  const before = block.proof && block.proof.length > 0 ? decodeMultiproof(block.proof).leaves : [];
  for (const leaf of before) {
    if (tree.get(leaf.contract.start)) tree.replace(leaf);
    else tree.insert(leaf);
  }
}

/**
 * The tree at `height` and its signed header, from the head's contracts (`leaves`, at `headHeight`) and the
 * stored blocks; null if `height` is not in [1, headHeight] or more than MAX_REWIND below the head. The result is
 * checked against the header's state root, so a damaged store cannot yield a wrong proof.
 */
export async function treeAt(
  leaves: Iterable<Leaf>,
  headHeight: number,
  height: number,
  block: (h: number) => Promise<Uint8Array | undefined>,
): Promise<{ tree: ProbabilityTree; header: SignedHeader } | null> {
  if (height < 1 || height > headHeight || headHeight - height > MAX_REWIND) return null;
  const tree = ProbabilityTree.fromLeaves([...leaves]);
  for (let h = headHeight; h > height; h--) {
    const bytes = await block(h);
    if (!bytes) return null;
    undoBlock(tree, bytes);
  }
  const at = await block(height);
  if (!at) return null;
  const header = decodeBlock(at).signed;
  if (!bytesEqual(tree.root, header.header.stateRoot))
    throw new Error(`the tree rebuilt at height ${height} does not match that block's state root`);
  return { tree, header };
}
