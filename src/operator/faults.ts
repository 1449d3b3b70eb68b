/**
 * Fault injection for devnets: an operator that cheats on purpose, so that validators and the anchor can be seen
 * to catch it. Off by default and refused unless the devnet flag is set. Each fault fires once, at height H or, if
 * no peer is in the chain's gossip mesh then, at the first later height at which one is (so a fault is never
 * wasted on an empty network, and a testnet's watcher sees it however late it joins):
 *
 * - `equivocate@H`: at height H the operator signs and publishes two different blocks (the real one and an empty
 *   one with a later time), which makes equivocation evidence.
 * - `invalid@H`: before the real block H, the operator publishes (raw, past its own validator) a signed block at H
 *   whose transition is invalid: a create overlapping a sold contract (or, in an empty tree, a create outside the
 *   space or a false state root), which makes invalid-transition evidence.
 * - `root-mismatch@H`: the operator seals header X at H and submits X to its parent as usual, but gossips a
 *   different header Y at H, which makes child-root mismatch evidence once the parent commits X.
 *
 * Blocks are built by hand as `test/helpers/craft.ts` does, bypassing the producer's checks. The faults are a
 * `PublishPolicy` wrapped around the honest one (`faultyPublishing`), handed to the service by whoever builds it
 * (the app layer, tests): the service's own pipeline has no fault branches.
 */
import { encodeBlock, decodeBlock, type Block } from '../chain/block.js';
import { isAnchor, type GenesisRecord } from '../chain/genesis.js';
import { signHeader, type Header } from '../chain/header.js';
import type { ChainState } from '../chain/state.js';
import { applyTx } from '../chain/transition.js';
import { decodeTx, encodeTx } from '../chain/tx.js';
import { txRoot } from '../chain/txroot.js';
import { U64_MAX } from '../codec/u64.js';
import { taggedHash } from '../crypto/hash.js';
import { sign } from '../crypto/keys.js';
import { makeLeaf } from '../tree/contract.js';
import type { ProbabilityTree } from '../tree/tree.js';
import type { Summary } from '../tree/verify.js';
import { ConfigError } from '../runtime/config.js';
import type { Logger } from '../runtime/logger.js';
import type { Outgoing, PublishPolicy, WrittenBlock } from './publish.js';
import type { BlockSink } from './types.js';

export type FaultKind = 'equivocate' | 'invalid' | 'root-mismatch';

export interface Fault {
  readonly kind: FaultKind;
  readonly height: number;
}

const KINDS: readonly FaultKind[] = ['equivocate', 'invalid', 'root-mismatch'];

/** Parses `kind@height` specs; refuses any fault unless `devnet` is set. */
export function parseFaults(specs: readonly string[], devnet: boolean): Fault[] {
  if (specs.length === 0) return [];
  if (!devnet) throw new ConfigError('--fault is for devnets only: it needs --devnet');
  return specs.map((s) => {
    const m = /^([a-z-]+)@([1-9][0-9]*)$/.exec(s.trim());
    if (!m || !KINDS.includes(m[1] as FaultKind)) {
      throw new ConfigError(
        `--fault ${JSON.stringify(s)}: expected ${KINDS.map((k) => `${k}@H`).join(', ')}`,
      );
    }
    const height = Number(m[2]);
    if (!Number.isSafeInteger(height)) throw new ConfigError(`--fault ${s}: height too large`);
    return { kind: m[1] as FaultKind, height };
  });
}

/** Signs a block over `txs` on top of `state`; the state root is the fold of the transactions that apply. */
export function craftBlock(
  genesis: GenesisRecord,
  secretKey: Uint8Array,
  state: ChainState,
  txs: Uint8Array[],
  over: Partial<Header> = {},
): Block {
  let cur: Summary = { digest: state.stateRoot, min: state.stateMin, max: state.stateMax };
  try {
    for (const t of txs) cur = applyTx(genesis, cur, decodeTx(t));
  } catch {
    // The block is meant to fail on its transactions: the root stays at the last state that applied.
  }
  const header: Header = {
    chainId: genesis.chainId,
    height: state.height + 1,
    prevHash: state.headHash,
    stateRoot: cur.digest,
    stateMin: cur.min,
    stateMax: cur.max,
    txRoot: txRoot(txs),
    txCount: txs.length,
    timeMs: state.timeMs + 1,
    beaconSig: isAnchor(genesis.genesis)
      ? sign(secretKey, taggedHash('beaconSig', state.beacon))
      : new Uint8Array(0),
    ...over,
  };
  return decodeBlock(encodeBlock(signHeader(header, secretKey), txs));
}

/** A valid block at the same height as `real`, built on the same state, with another hash (no transactions). */
export function alternativeBlock(
  genesis: GenesisRecord,
  secretKey: Uint8Array,
  prev: ChainState,
  real: Block,
): Block {
  return craftBlock(genesis, secretKey, prev, [], {
    timeMs: Math.max(real.signed.header.timeMs, prev.timeMs) + 1,
  });
}

/** A signed block on `prev` whose transition fails with an operator fault. `tree` is the state of `prev`. */
export function invalidBlock(
  genesis: GenesisRecord,
  secretKey: Uint8Array,
  prev: ChainState,
  tree: ProbabilityTree,
): Block {
  const owner = genesis.genesis.operatorKey;
  const terms = new Uint8Array(0);
  const sold = tree.leaves().next();
  if (!sold.done) {
    // Sell again the first point of a contract that is already sold: a double-spend (OVERLAP).
    const s = sold.value.contract.start;
    const leaf = makeLeaf({ start: s, end: s + 1n, owner, nonce: 0, terms });
    return craftBlock(genesis, secretKey, prev, [encodeTx({ kind: 'create', leaf, path: tree.keyPath(s) })]);
  }
  const { spaceStart, spaceEnd } = genesis.genesis;
  if (spaceEnd < U64_MAX) {
    // Sell space the chain does not have (OUT_OF_SPACE).
    const leaf = makeLeaf({ start: spaceEnd, end: spaceEnd + 1n, owner, nonce: 0, terms });
    return craftBlock(genesis, secretKey, prev, [
      encodeTx({ kind: 'create', leaf, path: tree.keyPath(spaceEnd) }),
    ]);
  }
  // A valid sale under a state root that does not follow from it (STATE_ROOT_MISMATCH).
  const leaf = makeLeaf({ start: spaceStart, end: spaceStart + 1n, owner, nonce: 0, terms });
  return craftBlock(
    genesis,
    secretKey,
    prev,
    [encodeTx({ kind: 'create', leaf, path: tree.keyPath(spaceStart) })],
    {
      stateRoot: prev.stateRoot,
      stateMin: prev.stateMin,
      stateMax: prev.stateMax,
    },
  );
}

/**
 * Publishing with `faults` injected (every other block goes out as the honest policy sends it). Faulty blocks are built when the real block is written,
 * on the committed state before it (the only moment its tree is at hand).
 */
export function faultyPublishing(o: {
  readonly faults: readonly Fault[];
  readonly genesis: GenesisRecord;
  readonly secretKey: Uint8Array;
  /** Asked for the chain's mesh peers: a fault waits for a listener. */
  readonly sink: Pick<BlockSink, 'meshPeers'>;
  readonly log: Logger;
}): PublishPolicy {
  const fired = new Set<Fault>();
  let firstWritten: number | null = null;
  /** After a root-mismatch fault the network holds another block at that height: publish past the validator. */
  let diverged = false;
  const chainId = o.genesis.chainId;
  return {
    get raw() {
      return diverged;
    },
    written(w: WrittenBlock): () => readonly Outgoing[] {
      const h = w.height;
      // A restarted operator already past a fault's height does not fire it.
      firstWritten ??= h;
      const due = o.faults.filter(
        (f) =>
          !fired.has(f) &&
          f.height >= firstWritten! &&
          h >= f.height &&
          (o.sink.meshPeers?.(chainId) ?? 1) > 0,
      );
      const pre: Block[] = [];
      const post: Block[] = [];
      let instead: Block | null = null;
      for (const f of due) {
        fired.add(f);
        if (f.kind === 'invalid') pre.push(invalidBlock(o.genesis, o.secretKey, w.prev, w.prevTree));
        else if (f.kind === 'equivocate')
          post.push(alternativeBlock(o.genesis, o.secretKey, w.prev, w.block));
        else instead = alternativeBlock(o.genesis, o.secretKey, w.prev, w.block);
        o.log.warn({ fault: f.kind, height: h }, 'fault injection: publishing a faulty block');
      }
      return () => {
        const list = [
          ...pre.map((b) => ({ bytes: b.bytes, raw: true })),
          { bytes: (instead ?? w.block).bytes, raw: diverged },
          ...post.map((b) => ({ bytes: b.bytes, raw: true })),
        ];
        if (instead) diverged = true;
        return list;
      };
    },
  };
}
