/**
 * The state transition, one transaction at a time, holding nothing but the current root: each transaction
 * carries the paths it needs against the state left by the one before it. The operator runs the same function
 * before it signs, so it can never publish what validators would reject.
 */
import { bytesEqual } from '../codec/canonical.js';
import { verify } from '../crypto/keys.js';
import { makeLeaf, type Contract, type Leaf } from '../tree/contract.js';
import { EMPTY_ROOT } from '../tree/node.js';
import { verifyInsert, verifyRemove, verifyReplace, type Summary } from '../tree/verify.js';
import { ChainError } from './errors.js';
import type { GenesisRecord } from './genesis.js';
import type { SignedHeader } from './header.js';
import { actionHash, type SignedAction, type Tx } from './tx.js';

function fail(code: ConstructorParameters<typeof ChainError>[0], msg: string): never {
  throw new ChainError(code, msg);
}

function inSpace(g: GenesisRecord, c: Contract): boolean {
  return g.genesis.spaceStart <= c.start && c.end <= g.genesis.spaceEnd;
}

function requireLeaf(leaf: Leaf | null): Leaf {
  return leaf ?? fail('NOT_FOUND', 'the path ends in the empty tree');
}

/** An owner action must be signed by the contract's current owner. Throws BAD_OWNER_SIGNATURE. */
export function checkOwnerSignature(owner: Uint8Array, signed: SignedAction): void {
  if (!verify(owner, actionHash(signed.bytes), signed.signature))
    fail('BAD_OWNER_SIGNATURE', 'not signed by the owner');
}

/** A committed child header must be signed by the child chain's operator. Throws CHILD_BAD_SIGNATURE. */
export function checkChildSignature(operator: Uint8Array, child: SignedHeader): void {
  if (!verify(operator, child.hash, child.signature))
    fail('CHILD_BAD_SIGNATURE', "child header is not signed by the child's operator");
}

/** Applies one decoded transaction to the state summary `cur` of the chain `g`; throws ChainError. */
export function applyTx(g: GenesisRecord, cur: Summary, tx: Tx): Summary {
  try {
    return apply(g, cur, tx);
  } catch (e) {
    throw ChainError.from(e);
  }
}

function apply(g: GenesisRecord, cur: Summary, tx: Tx): Summary {
  if (tx.kind === 'create') {
    const c = tx.leaf.contract;
    if (!inSpace(g, c)) fail('OUT_OF_SPACE', `[${c.start}, ${c.end}) is outside the chain's space`);
    if (c.nonce !== 0 || c.child)
      fail('BAD_CONTRACT', 'a new contract starts at nonce 0 without a child chain');
    return verifyInsert(cur.digest, tx.path, tx.leaf);
  }

  if (tx.kind === 'childRoot') {
    const old = requireLeaf(tx.path.leaf);
    const link = old.contract.child ?? fail('NOT_A_CHAIN', 'the contract has no child chain');
    const h = tx.child.header;
    if (!bytesEqual(h.chainId, link.chain)) fail('CHILD_WRONG_CHAIN', 'child header names another chain');
    checkChildSignature(link.operator, tx.child);
    if (h.height <= link.height)
      fail('CHILD_HEIGHT_NOT_INCREASING', `child height ${h.height} <= ${link.height}`);
    const empty = bytesEqual(h.stateRoot, EMPTY_ROOT);
    if (!empty && (h.stateMin < old.contract.start || h.stateMax > old.contract.end)) {
      fail('CHILD_OUT_OF_BOUNDS', "child root's bounds leave the contract's interval");
    }
    const next = makeLeaf({ ...old.contract, child: { ...link, height: h.height, root: h.stateRoot } });
    return verifyReplace(cur.digest, tx.path, next);
  }

  const { action } = tx.signed;
  const old = requireLeaf(tx.path.leaf);
  const c = old.contract;
  if (!bytesEqual(action.chainId, g.chainId)) fail('WRONG_CHAIN', 'the action was signed for another chain');
  if (action.nonce !== c.nonce + 1) fail('STALE_NONCE', `nonce ${action.nonce}, expected ${c.nonce + 1}`);
  if (!bytesEqual(action.contractHash, old.digest))
    fail('WRONG_CONTRACT', 'the action names another contract state');
  checkOwnerSignature(c.owner, tx.signed);
  const op = action.op;
  if ((op.kind === 'split') !== (tx.insertPath !== null))
    fail('PROOF_INVALID', 'an insert path belongs to splits only');
  if ((op.kind === 'openChild') !== (tx.childGenesis !== null))
    fail('BAD_GENESIS', 'a genesis belongs to open-child only');
  const nonce = action.nonce;

  switch (op.kind) {
    case 'transfer':
      return verifyReplace(
        cur.digest,
        tx.path,
        makeLeaf({ ...c, owner: op.newOwner, terms: op.terms, nonce }),
      );
    case 'close':
      if (c.child) fail('CONTRACT_IS_CHAIN', 'a contract holding a chain cannot be closed');
      return verifyRemove(cur.digest, tx.path);
    case 'split': {
      if (c.child) fail('CONTRACT_IS_CHAIN', 'a contract holding a chain cannot be split');
      if (op.at <= c.start || op.at >= c.end)
        fail('SPLIT_OUT_OF_RANGE', `split point ${op.at} not inside the contract`);
      const mid = verifyReplace(cur.digest, tx.path, makeLeaf({ ...c, end: op.at, nonce }));
      const right = makeLeaf({ start: op.at, end: c.end, owner: op.rightOwner, terms: op.rightTerms, nonce });
      return verifyInsert(mid.digest, tx.insertPath!, right);
    }
    case 'openChild': {
      if (c.child) fail('CONTRACT_IS_CHAIN', 'the contract already holds a chain');
      const child = tx.childGenesis!;
      const cg = child.genesis;
      if (!bytesEqual(child.chainId, op.chainId))
        fail('BAD_GENESIS', 'genesis does not hash to the named chain id');
      if (!bytesEqual(cg.parentChain, g.chainId) || cg.parentContract !== c.start) {
        fail('BAD_GENESIS', 'child genesis names another parent');
      }
      if (cg.spaceStart !== c.start || cg.spaceEnd !== c.end)
        fail('BAD_GENESIS', "child space is not the contract's interval");
      const link = { chain: child.chainId, operator: cg.operatorKey, height: 0, root: EMPTY_ROOT };
      return verifyReplace(cur.digest, tx.path, makeLeaf({ ...c, nonce, child: link }));
    }
  }
}
