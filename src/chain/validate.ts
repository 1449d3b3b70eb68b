/**
 * Block validation: `validateBlock(state, bytes)` checks a whole block against the O(1) chain state and returns
 * the next state. Cheap checks run before signatures, and signatures before the fold over transactions, so a
 * flood of junk costs a validator as little as possible.
 */
import { bytesEqual } from '../codec/canonical.js';
import { ACCEPT, type Verdict } from '../codec/verdict.js';
import { LIMITS } from '../codec/limits.js';
import { taggedHash } from '../crypto/hash.js';
import { verify } from '../crypto/keys.js';
import type { Path } from '../tree/path.js';
import type { Summary } from '../tree/verify.js';
import { decodeBlock, type Block } from './block.js';
import { ChainError } from './errors.js';
import { isAnchor, type GenesisRecord } from './genesis.js';
import { checkHeaderSignature, type Header } from './header.js';
import { beaconOf, type ChainState } from './state.js';
import {
  applyTx,
  applyTxV2,
  checkChildSignature,
  checkOwnerSignature,
  lazy,
  withPaths,
  type PathReaders,
} from './transition.js';
import { decodeTx, decodeTxV2, type Tx } from './tx.js';
import { decodeMultiproof, PartialTree } from '../tree/multiproof.js';
import { txRoot } from './txroot.js';

/**
 * A block's verdict, with what the caller needs next: the next state when valid; when not, the ChainError behind the
 * reject (its transaction index decides whether the operator is at fault, see isOperatorFault). The rules throw
 * ChainError among themselves; this is the one place it becomes a verdict.
 */
export type ValidationResult =
  | {
      readonly ok: true;
      readonly verdict: Verdict;
      readonly state: ChainState;
      readonly block: Block;
      readonly txs: readonly Tx[];
    }
  | { readonly ok: false; readonly verdict: Verdict; readonly error: ChainError; readonly block?: Block };

/** The header checks that link a signed header to the state before it; throws ChainError. */
export function checkLink(state: ChainState, block: Block): void {
  const h = block.signed.header;
  if (!bytesEqual(h.chainId, state.genesis.chainId))
    throw new ChainError('WRONG_CHAIN', 'block of another chain');
  if (h.height <= state.height)
    throw new ChainError('OLD_HEIGHT', `height ${h.height} <= head ${state.height}`);
  if (h.height > state.height + 1)
    throw new ChainError('HEIGHT_GAP', `height ${h.height}, head is ${state.height}`);
  checkHeaderSignature(state.genesis, block.signed);
  if (!bytesEqual(h.prevHash, state.headHash))
    throw new ChainError('WRONG_PARENT', 'previous hash is not the head');
}

/** The anchor's beacon rule: each header signs the previous beacon with the operator key. Throws BAD_BEACON. */
export function checkBeaconSignature(state: ChainState, h: Header): void {
  if (!verify(state.genesis.genesis.operatorKey, taggedHash('beaconSig', state.beacon), h.beaconSig))
    throw new ChainError('BAD_BEACON', 'beacon signature does not verify over the previous beacon');
}

/**
 * Everything after the link: the operator answers for all of it (see isOperatorFault). Returns the next state
 * and the decoded transactions (callers look for child-root commits and genesis records in them).
 */
export function checkTransition(state: ChainState, block: Block): { state: ChainState; txs: Tx[] } {
  const h = block.signed.header;
  if (h.txCount > LIMITS.txsPerBlock)
    throw new ChainError('TOO_MANY_TXS', `${h.txCount} > ${LIMITS.txsPerBlock}`);
  if (block.txs.length !== h.txCount)
    throw new ChainError('TX_COUNT_MISMATCH', 'body and header disagree on tx count');
  if (!bytesEqual(txRoot(block.txs, block.proof), h.txRoot))
    throw new ChainError('TX_ROOT_MISMATCH', 'body does not match the tx root');
  if (h.timeMs < state.timeMs) throw new ChainError('TIME_REGRESSION', `time ${h.timeMs} < ${state.timeMs}`);
  let beacon = state.beacon;
  if (isAnchor(state.genesis.genesis)) {
    checkBeaconSignature(state, h);
    beacon = beaconOf(h.beaconSig);
  } else if (h.beaconSig.length !== 0) throw new ChainError('BAD_BEACON', 'only the anchor carries a beacon');

  let cur: Summary = { digest: state.stateRoot, min: state.stateMin, max: state.stateMax };
  const txs: Tx[] = [];
  if (block.proof === null) {
    for (let i = 0; i < block.txs.length; i++) {
      try {
        const tx = decodeTx(block.txs[i]);
        txs.push(tx);
        cur = applyTx(state.genesis, cur, tx);
      } catch (e) {
        throw ChainError.from(e, i);
      }
    }
  } else {
    // Version 2: the multiproof is checked once against the state before the block (no transaction index: it
    // is the block's), then every transaction acts on it; the new root hashes only what changed.
    const proof = block.proof;
    const tree = guardTree(() => PartialTree.open(decodeMultiproof(proof), cur));
    // Judging keeps no intermediate state: the paths watches read are rebuilt by a replay, only if asked for.
    const replay = lazy(() => blockTxs(state.genesis, block));
    for (let i = 0; i < block.txs.length; i++) {
      try {
        const tx = decodeTxV2(block.txs[i]);
        applyTxV2(state.genesis, tree, tx);
        txs.push(withPaths(tx, new ReplayedPaths(replay, i)));
      } catch (e) {
        throw ChainError.from(e, i);
      }
    }
    cur = guardTree(() => tree.summary());
  }
  if (!bytesEqual(cur.digest, h.stateRoot))
    throw new ChainError('STATE_ROOT_MISMATCH', 'state root differs from the transactions');
  if (cur.min !== h.stateMin || cur.max !== h.stateMax) {
    throw new ChainError('STATE_BOUNDS_MISMATCH', 'allocated bounds differ from the transactions');
  }
  const next: ChainState = {
    genesis: state.genesis,
    height: h.height,
    headHash: block.signed.hash,
    stateRoot: cur.digest,
    stateMin: cur.min,
    stateMax: cur.max,
    timeMs: h.timeMs,
    beacon,
  };
  return { state: next, txs };
}

/**
 * The transactions of a block already judged valid (a stored one), in version 1 form with their paths: for v2 the
 * multiproof is replayed without comparing roots or checking signatures again. Throws ChainError if it does not apply.
 */
export function blockTxs(genesis: GenesisRecord, block: Block): Tx[] {
  if (block.proof === null) return block.txs.map(decodeTx);
  const proof = block.proof;
  const tree = guardTree(() => PartialTree.read(decodeMultiproof(proof)));
  return block.txs.map((t, i) => {
    try {
      const tx = decodeTxV2(t);
      return withPaths(tx, applyTxV2(genesis, tree, tx, false));
    } catch (e) {
      throw ChainError.from(e, i);
    }
  });
}

/**
 * The signature checks of a version 2 block's transactions and no other judgement (the signatures-only bench
 * baseline): each owner or child key is read from the partial tree as the transactions before left it.
 */
export function checkTxSignaturesV2(genesis: GenesisRecord, block: Block): void {
  const proof = block.proof ?? new Uint8Array(0);
  const tree = guardTree(() => PartialTree.read(decodeMultiproof(proof)));
  block.txs.forEach((bytes, i) => {
    try {
      const tx = decodeTxV2(bytes);
      if (tx.kind === 'owner') checkOwnerSignature(tree.get(tx.start)?.contract.owner ?? NO_KEY, tx.signed);
      else if (tx.kind === 'childRoot')
        checkChildSignature(tree.get(tx.start)?.contract.child?.operator ?? NO_KEY, tx.child);
    } catch (e) {
      throw ChainError.from(e, i);
    }
    try {
      applyTxV2(genesis, tree, decodeTxV2(bytes), false);
    } catch {
      // Not judged here: the baseline only keeps the keys of later transactions right.
    }
  });
}

const NO_KEY = new Uint8Array(0);

/** Transaction `i`'s paths from a replay of its block, made only when some transaction's path is read. */
class ReplayedPaths implements PathReaders {
  constructor(
    private readonly replay: () => Tx[],
    private readonly i: number,
  ) {}
  path(): Path {
    return this.replay()[this.i].path;
  }
  insertPath(): Path | null {
    const t = this.replay()[this.i];
    return t.kind === 'owner' ? t.insertPath : null;
  }
}

function guardTree<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw ChainError.from(e);
  }
}

export function validateDecodedBlock(state: ChainState, block: Block): ValidationResult {
  try {
    checkLink(state, block);
    const { state: next, txs } = checkTransition(state, block);
    return { ok: true, verdict: ACCEPT, state: next, block, txs };
  } catch (e) {
    return failed(ChainError.from(e), block);
  }
}

export function validateBlock(state: ChainState, bytes: Uint8Array): ValidationResult {
  let block: Block;
  try {
    block = decodeBlock(bytes);
  } catch (e) {
    return failed(ChainError.from(e));
  }
  return validateDecodedBlock(state, block);
}

function failed(error: ChainError, block?: Block): ValidationResult {
  return block === undefined
    ? { ok: false, verdict: error.verdict(), error }
    : { ok: false, verdict: error.verdict(), error, block };
}
