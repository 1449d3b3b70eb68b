/**
 * Request intake: a request applied to the producer and what it changed since the last seal (the block's write
 * set), and whether a refused request is one already accepted (a client retrying after an unknown outcome).
 */
import { bytesEqual } from '../codec/canonical.js';
import { toHex } from '../crypto/hash.js';
import type { ChainError } from '../chain/errors.js';
import type { ChainProducer } from '../chain/producer.js';
import type { Leaf } from '../tree/contract.js';
import { contractJson } from './json.js';
import type { OperatorRequest } from './requests.js';
import type { StoredChild } from './store.js';
import type { AuthorisationJson, SubmitResult } from '../api/operator.js';

/** An owner's signed action kept until its block is written (the proof that the old state is superseded). */
export interface PendingAuth {
  readonly digest: Uint8Array;
  readonly start: bigint;
  readonly action: Uint8Array;
  readonly signature: Uint8Array;
}

/** What the transactions since the last seal changed. */
export class Accum {
  readonly dirty = new Map<bigint, Leaf | null>();
  readonly auths = new Map<string, PendingAuth>();
  readonly children: StoredChild[] = [];
  firstSeq: number | null = null;
  lastSeq: number | null = null;
  bytes = 0;

  seq(s: number): void {
    this.firstSeq ??= s;
    this.lastSeq = s;
  }
}

/**
 * Applies a request to the producer and records what it changed in `a`; throws ChainError and changes nothing.
 * `on.changed` hears of every contract it touched, `on.opened` of a child chain it opened.
 */
export function applyRequest(
  p: ChainProducer,
  a: Accum,
  req: OperatorRequest,
  on: { changed(before: Leaf | undefined, after: Leaf | null): void; opened(child: StoredChild): void },
): Uint8Array {
  const op = req.kind === 'owner' ? req.signed.action.op : null;
  const starts = op?.kind === 'split' ? [req.start, op.at] : [req.start];
  const before = starts.map((s) => p.tree.get(s));
  let tx: Uint8Array;
  if (req.kind === 'create')
    tx = p.create({ start: req.start, end: req.end, owner: req.owner, terms: req.terms });
  else if (req.kind === 'owner') tx = p.owner(req.signed, req.start, req.childGenesis ?? undefined);
  else tx = p.childRoot(req.header, req.start);

  starts.forEach((s, i) => {
    const after = p.tree.get(s) ?? null;
    a.dirty.set(s, after);
    on.changed(before[i], after);
  });
  if (req.kind === 'owner') {
    const d = req.signed.action.contractHash;
    a.auths.set(toHex(d), {
      digest: d,
      start: req.start,
      action: req.signed.bytes,
      signature: req.signed.signature,
    });
    if (req.childGenesis) {
      const child = { chainId: req.childGenesis.chainId, start: req.start, genesis: req.childGenesis };
      on.opened(child);
      a.children.push(child);
    }
  }
  a.bytes += tx.length + 8;
  return tx;
}

/**
 * The answer to a request that failed with `e` if it is one already accepted, else null. `current` is the
 * contract at the request's start now; `nextHeight` the height of the block being built.
 */
export async function duplicateOf(
  req: OperatorRequest,
  e: ChainError,
  current: Leaf | undefined,
  nextHeight: number,
  authorisation: (digest: Uint8Array) => Promise<AuthorisationJson | undefined>,
): Promise<SubmitResult | null> {
  const result = (height: number | null): SubmitResult => ({
    status: 'duplicate',
    height: height ?? nextHeight,
    contract: current ? contractJson(current) : null,
  });
  if (req.kind === 'create') {
    const c = current?.contract;
    const same =
      e.code === 'OVERLAP' &&
      c !== undefined &&
      c.end === req.end &&
      c.nonce === 0 &&
      !c.child &&
      bytesEqual(c.owner, req.owner) &&
      bytesEqual(c.terms, req.terms);
    return same ? result(null) : null;
  }
  if (req.kind === 'childRoot') {
    const link = current?.contract.child;
    const h = req.header.header;
    const same =
      e.code === 'CHILD_HEIGHT_NOT_INCREASING' &&
      link !== undefined &&
      link.height === h.height &&
      bytesEqual(link.root, h.stateRoot);
    return same ? result(null) : null;
  }
  if (!['STALE_NONCE', 'WRONG_CONTRACT', 'NOT_FOUND'].includes(e.code)) return null;
  const auth = await authorisation(req.signed.action.contractHash);
  if (!auth) return null;
  const same = auth.action === toHex(req.signed.bytes) && auth.signature === toHex(req.signed.signature);
  return same ? result(auth.height) : null;
}
