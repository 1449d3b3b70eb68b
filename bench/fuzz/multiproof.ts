/**
 * Block multiproofs (docs/protocol.md §14): honest version 2 blocks over random trees, each judged next to the
 * version 1 block of the same transactions (both must be accepted, with one root), then mutated in the ways the
 * anchors' bugs went: a leaf the block needs left in a stub (a descent into a stub), a node given both as a stub
 * and expanded, trailing entries, wrong structure bits and crit bits, stub ranges and digests changed, byte flips,
 * and a proof altered without re-signing. Every mutation re-signed by the operator must be rejected (PROOF_INVALID or
 * PROOF_MISMATCH, an operator fault); an unsigned one gets TX_ROOT_MISMATCH; a larger proof (more leaves revealed)
 * is still valid and must be accepted.
 */
import { bytesEqual } from '../../src/codec/canonical.js';
import { encodeBlock, type Block } from '../../src/chain/block.js';
import { isOperatorFault, type ChainErrorCode } from '../../src/chain/errors.js';
import { makeGenesis } from '../../src/chain/genesis.js';
import { signHeader } from '../../src/chain/header.js';
import { ChainProducer } from '../../src/chain/producer.js';
import type { ChainState } from '../../src/chain/state.js';
import { signAction } from '../../src/chain/tx.js';
import { txRoot } from '../../src/chain/txroot.js';
import { validateBlock, type ValidationResult } from '../../src/chain/validate.js';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { makeLeaf, type Leaf } from '../../src/tree/contract.js';
import { decodeMultiproof, encodeMultiproof, type MultiproofParts } from '../../src/tree/multiproof.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import type { Tally } from './judge.js';
import type { Rng } from './prng.js';
import { flipBit } from './world.js';

export const MULTIPROOF_KIND = 'multiproof';
const SPACE = 1n << 32n;

interface World {
  readonly op: KeyPair;
  readonly state: ChainState;
  readonly tree: ProbabilityTree;
  readonly v2: Block;
  readonly v1: Block;
  readonly after: Uint8Array;
}

/** A random tree, and one block of random valid transactions on it, sealed in both versions. */
function world(rng: Rng, op: KeyPair, alice: KeyPair): World {
  const genesis = makeGenesis({
    operatorKey: op.publicKey,
    spaceStart: 0n,
    spaceEnd: SPACE,
    parentChain: rng.bytes(32),
    parentContract: 0n,
    expiry: 100,
    amount: SPACE,
    name: 'fuzz-mp',
    salt: rng.bytes(16),
  });
  const leaves: Leaf[] = [];
  const n = 1 + rng.int(rng.pick([4, 40, 400]));
  const width = SPACE / BigInt(n);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.2)) continue;
    const s = BigInt(i) * width + rng.big(0n, width / 2n);
    const e = s + 1n + rng.big(0n, width / 2n - 1n);
    leaves.push(makeLeaf({ start: s, end: e, owner: alice.publicKey, nonce: 0, terms: new Uint8Array(0) }));
  }
  const tree = ProbabilityTree.fromLeaves(leaves);
  const root = tree.summary();
  const state: ChainState = {
    genesis,
    height: 4,
    headHash: rng.bytes(32),
    stateRoot: root.digest,
    stateMin: root.min,
    stateMax: root.max,
    timeMs: 10,
    beacon: genesis.chainId,
  };
  const p2 = new ChainProducer(genesis, op.secretKey, { tree: tree.clone(), state }, { version: 2 });
  const p1 = new ChainProducer(genesis, op.secretKey, { tree: tree.clone(), state });
  const count = 1 + rng.int(12);
  for (let i = 0; i < count; i++) {
    const cur = [...p2.tree.leaves()];
    const x = rng.int(10);
    const both = (f: (p: ChainProducer) => void) => {
      try {
        f(p2);
      } catch {
        return; // an invalid draw: not in the block
      }
      f(p1);
    };
    if (x < 3 || cur.length === 0) {
      const s = rng.big(0n, SPACE - 64n);
      const e = s + 1n + rng.big(0n, 64n);
      both((p) => p.create({ start: s, end: e, owner: alice.publicKey }));
      continue;
    }
    const l = rng.pick(cur);
    const c = l.contract;
    const act = (o: Parameters<typeof signAction>[0]['op']) =>
      signAction(
        { chainId: genesis.chainId, contractHash: l.digest, nonce: c.nonce + 1, op: o },
        alice.secretKey,
      );
    // One signed action for both producers, so their trees stay equal.
    if (x < 6) {
      const a = act({ kind: 'transfer', newOwner: alice.publicKey, terms: rng.bytes(32) });
      both((p) => p.owner(a, c.start));
    } else if (x < 8 && c.end - c.start > 1n) {
      const a = act({
        kind: 'split',
        at: rng.big(c.start + 1n, c.end),
        rightOwner: alice.publicKey,
        rightTerms: new Uint8Array(0),
      });
      both((p) => p.owner(a, c.start));
    } else {
      const a = act({ kind: 'close' });
      both((p) => p.owner(a, c.start));
    }
  }
  const v2 = p2.seal(11).block;
  const v1 = p1.seal(11).block;
  return { op, state, tree, v2, v1, after: p2.tree.root };
}

/** The v2 block with `proof` in place of its multiproof, re-signed by the operator unless `resign` is false. */
function withProof(w: World, proof: Uint8Array, resign = true): Uint8Array {
  const h = w.v2.signed.header;
  const signed = resign ? signHeader({ ...h, txRoot: txRoot(w.v2.txs, proof) }, w.op.secretKey) : w.v2.signed;
  return encodeBlock(signed, w.v2.txs, proof);
}

function pack(bits: readonly number[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((v, i) => (out[i >> 3] |= v << (7 - (i & 7))));
  return out;
}

function bitsOf(p: MultiproofParts): number[] {
  const nodes = p.crits.length + p.stubs.length + p.leaves.length;
  const n = p.crits.length + 2 * (nodes - p.crits.length);
  return Array.from({ length: n }, (_, i) => (p.structure[i >> 3] >> (7 - (i & 7))) & 1);
}

type Mutation = {
  readonly name: string;
  readonly proof: Uint8Array;
  readonly expect: 'valid' | 'invalid' | 'unsigned';
};

function mutate(w: World, rng: Rng): Mutation | null {
  const bytes = w.v2.proof!;
  const parts = decodeMultiproof(bytes);
  const revealed = parts.leaves.map((l) => l.contract.start);
  const enc = (p: Partial<MultiproofParts>) => encodeMultiproof({ ...parts, ...p });
  const m = rng.int(11);
  switch (m) {
    case 0: {
      // A leaf the block's descents reach, left inside a stub.
      if (revealed.length === 0) return null;
      const drop = rng.pick(revealed);
      return {
        name: 'stub-descend',
        proof: encodeMultiproof(w.tree.multiproof(revealed.filter((s) => s !== drop))),
        expect: 'invalid',
      };
    }
    case 1: {
      const extra = [...w.tree.leaves()].filter(() => rng.chance(0.2)).map((l) => l.contract.start);
      return {
        name: 'superset',
        proof: encodeMultiproof(w.tree.multiproof([...revealed, ...extra])),
        expect: 'valid',
      };
    }
    case 2: {
      // A node given both as a stub and expanded: the root as a stub, then its expansion.
      if (parts.crits.length === 0) return null;
      const top = w.tree.summary();
      return {
        name: 'stub-and-expanded',
        proof: enc({
          structure: pack([0, 0, ...bitsOf(parts)]),
          stubs: [top.digest, ...parts.stubs],
          stubMin: [top.min, ...parts.stubMin],
          stubMax: [top.max, ...parts.stubMax],
        }),
        expect: 'invalid',
      };
    }
    case 3: {
      // An expanded node also listed as a stub somewhere in the stub list.
      const i = rng.int(parts.stubs.length + 1);
      const top = w.tree.summary();
      const ins = <T>(xs: readonly T[], x: T) => [...xs.slice(0, i), x, ...xs.slice(i)];
      return {
        name: 'expanded-also-stub',
        proof: enc({
          stubs: ins(parts.stubs, top.digest),
          stubMin: ins(parts.stubMin, top.min),
          stubMax: ins(parts.stubMax, top.max),
        }),
        expect: 'invalid',
      };
    }
    case 4: {
      const which = rng.int(4);
      const l =
        parts.leaves[0] ??
        makeLeaf({ start: 1n, end: 2n, owner: w.op.publicKey, nonce: 0, terms: new Uint8Array(0) });
      const p: Partial<MultiproofParts> =
        which === 0
          ? { leaves: [...parts.leaves, l] }
          : which === 1
            ? {
                stubs: [...parts.stubs, rng.bytes(32)],
                stubMin: [...parts.stubMin, 1n],
                stubMax: [...parts.stubMax, 9n],
              }
            : which === 2
              ? { crits: Uint8Array.from([...parts.crits, 63]) }
              : { structure: Uint8Array.from([...parts.structure, rng.int(256)]) };
      return { name: 'trailing', proof: enc(p), expect: 'invalid' };
    }
    case 5: {
      const bits = bitsOf(parts);
      if (bits.length === 0) return null;
      bits[rng.int(bits.length)] ^= 1;
      return { name: 'structure-bit', proof: enc({ structure: pack(bits) }), expect: 'invalid' };
    }
    case 6: {
      if (parts.crits.length === 0) return null;
      const crits = Uint8Array.from(parts.crits);
      const i = rng.int(crits.length);
      const v = rng.int(70);
      if (v === crits[i]) return null;
      crits[i] = v;
      return { name: 'crit', proof: enc({ crits }), expect: 'invalid' };
    }
    case 7: {
      if (parts.stubs.length === 0) return null;
      const i = rng.int(parts.stubs.length);
      const d = rng.pick([-1n, 1n, rng.u64() % SPACE]);
      const bump = (xs: readonly bigint[]) => xs.map((x, j) => (j === i ? (x + d) & ((1n << 64n) - 1n) : x));
      return rng.chance(0.5)
        ? { name: 'stub-min', proof: enc({ stubMin: bump(parts.stubMin) }), expect: 'invalid' }
        : { name: 'stub-max', proof: enc({ stubMax: bump(parts.stubMax) }), expect: 'invalid' };
    }
    case 8: {
      if (parts.leaves.length === 0) return null;
      const i = rng.int(parts.leaves.length);
      const c = parts.leaves[i].contract;
      const other = makeLeaf({ ...c, nonce: c.nonce + 1 });
      return {
        name: 'leaf',
        proof: enc({ leaves: parts.leaves.map((l, j) => (j === i ? other : l)) }),
        expect: 'invalid',
      };
    }
    case 9:
      if (bytes.length === 0) return null;
      return { name: 'byte-flip', proof: flipBit(bytes, rng), expect: 'invalid' };
    default:
      if (bytes.length === 0) return null;
      return { name: 'unsigned', proof: flipBit(bytes, rng), expect: 'unsigned' };
  }
}

const code = (r: ValidationResult): string => (r.ok ? 'accepted' : r.error.code);

/** Runs `count` inputs (honest controls and mutations) before `deadline`; returns how many ran. */
export function multiproofCampaign(rng: Rng, tally: Tally, count: number, deadline: number): number {
  let done = 0;
  const op = generateKeyPair();
  const alice = generateKeyPair();
  const K = MULTIPROOF_KIND;
  while (done < count && performance.now() < deadline) {
    const w = world(rng, op, alice);
    // Controls: the honest block of each version is accepted with the producer's root.
    for (const [version, b] of [
      [2, w.v2],
      [1, w.v1],
    ] as const) {
      const out = tally.call(
        K,
        () => `honest v${version} block`,
        () => validateBlock(w.state, b.bytes),
      );
      done++;
      const ok = out.ok && out.value.ok && bytesEqual(out.value.state.stateRoot, w.after);
      tally.input(K, ok);
      if (out.ok && !ok) tally.note(K, 'rejectedValid', `honest v${version} block: ${code(out.value)}`);
    }
    for (let j = 0; j < 24 && done < count; j++) {
      const mu = mutate(w, rng);
      if (!mu || bytesEqual(mu.proof, w.v2.proof!)) continue;
      const bytes = withProof(w, mu.proof, mu.expect !== 'unsigned');
      const out = tally.call(
        K,
        () => mu.name,
        () => validateBlock(w.state, bytes),
      );
      done++;
      if (!out.ok) {
        tally.input(K);
        continue;
      }
      const r = out.value;
      tally.input(K, r.ok);
      if (mu.expect === 'valid') {
        if (!r.ok || !bytesEqual(r.state.stateRoot, w.after))
          tally.note(K, 'rejectedValid', `${mu.name}: ${code(r)}`);
        continue;
      }
      if (r.ok) {
        tally.note(K, 'acceptedInvalid', `${mu.name} accepted`);
        continue;
      }
      const want: readonly ChainErrorCode[] =
        mu.expect === 'unsigned' ? ['TX_ROOT_MISMATCH'] : ['PROOF_INVALID', 'PROOF_MISMATCH'];
      // A mutated proof judged by any other rule, or (re-signed) not charged to the operator, is a wrong verdict.
      const fault = mu.expect === 'unsigned' ? !isOperatorFault(r.error) : isOperatorFault(r.error);
      if (!want.includes(r.error.code) || !fault)
        tally.note(
          K,
          'acceptedInvalid',
          `${mu.name}: judged ${r.error.code} (${r.error.message.slice(0, 80)})`,
        );
    }
  }
  return done;
}
