import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortition } from '../../src/gen/proto.js';
import { TreeError, type TreeErrorCode } from '../../src/tree/errors.js';
import {
  decodeMultiproof,
  encodeMultiproof,
  MultiproofWriter,
  PartialTree,
  type MultiproofParts,
} from '../../src/tree/multiproof.js';
import { EMPTY_ROOT } from '../../src/tree/node.js';
import { pathToProto } from '../../src/tree/path.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import type { Summary } from '../../src/tree/verify.js';
import { leaf } from '../helpers/contracts.js';
import { ofLeaf, ofNode } from '../helpers/hand-tree.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` disjoint leaves at random places in [0, 2^20). */
function randomTree(rand: () => number, n: number): ProbabilityTree {
  const t = new ProbabilityTree();
  while (t.size < n) {
    const s = BigInt(Math.floor(rand() * (1 << 20)));
    const e = s + 1n + BigInt(Math.floor(rand() * 64));
    try {
      t.insert(leaf(s, e));
    } catch {
      // overlaps an earlier one: draw again
    }
  }
  return t;
}

function expectTreeError(f: () => unknown, code: TreeErrorCode, what: string): void {
  assert.throws(f, (e: unknown) => e instanceof TreeError && e.code === code, what);
}

const pathHex = (p: ReturnType<typeof PartialTree.pathAt>) =>
  hex(sortition.v1.Path.encode(pathToProto(p)).finish());

test('honest multiproofs: checked once, they give the full tree root after the same operations and its paths', () => {
  const rand = rng(7);
  for (let round = 0; round < 60; round++) {
    const full = randomTree(rand, 1 + Math.floor(rand() * 40));
    const before = full.clone();
    const starts = [...full.leaves()].map((l) => l.contract.start);
    const reached: bigint[] = [];
    const partialOps: ((p: PartialTree) => void)[] = [];
    for (let i = 0; i < 6; i++) {
      const pick = starts[Math.floor(rand() * starts.length)];
      const cur = full.get(pick);
      const kind = rand();
      if (!cur) continue;
      if (kind < 0.3) {
        const next = leaf(pick, cur.contract.end, 2, cur.contract.nonce + 1);
        reached.push(pick);
        full.replace(next);
        partialOps.push((p) => p.replace(next));
      } else if (kind < 0.5 && full.size > 1) {
        reached.push(pick);
        full.remove(pick);
        partialOps.push((p) => p.remove(pick));
      } else {
        const s = BigInt(Math.floor(rand() * (1 << 20)));
        const fresh = leaf(s, s + 1n);
        if (full.lookup(s).kind !== 'gap' || full.get(s)) continue;
        const r = full.reach(s);
        if (r !== undefined) reached.push(r);
        try {
          full.insert(fresh);
        } catch {
          continue;
        }
        partialOps.push((p) => p.insert(fresh));
      }
    }
    const parts = decodeMultiproof(encodeMultiproof(before.multiproof(reached)));
    const p = PartialTree.open(parts, before.summary());
    for (const f of partialOps) f(p);
    const got = p.summary();
    const want = full.summary();
    assert.equal(hex(got.digest), hex(want.digest), `round ${round}`);
    assert.equal(got.min, want.min);
    assert.equal(got.max, want.max);
    // The paths a watch reads are the full tree's.
    for (const l of full.leaves()) {
      const k = l.contract.start;
      if (reached.includes(k))
        assert.equal(pathHex(PartialTree.pathAt(p.state, k)), pathHex(full.keyPath(k)));
    }
  }
});

test('the empty tree has the empty multiproof; a tree revealing nothing is one stub', () => {
  const empty = new ProbabilityTree();
  const parts = empty.multiproof([]);
  assert.equal(encodeMultiproof(parts).length, 0);
  const p = PartialTree.open(parts, { digest: EMPTY_ROOT, min: 0n, max: 0n });
  p.insert(leaf(5n, 9n));
  assert.equal(hex(p.summary().digest), hex(leaf(5n, 9n).digest));

  const t = ProbabilityTree.fromLeaves([leaf(0n, 4n), leaf(8n, 12n), leaf(16n, 20n)]);
  const stub = t.multiproof([]);
  assert.equal(stub.stubs.length, 1);
  PartialTree.open(stub, t.summary());
  // A root stub's range is not in its digest: it is checked against the state's.
  expectTreeError(() => PartialTree.open(stub, { ...t.summary(), max: 21n }), 'PROOF_MISMATCH', 'root range');
  expectTreeError(
    () => PartialTree.open(stub, { digest: EMPTY_ROOT, min: 0n, max: 0n }),
    'PROOF_MISMATCH',
    'other root',
  );
});

/** A fixed tree and a multiproof of it revealing one leaf, to break rule by rule. */
function fixture(): { tree: ProbabilityTree; parts: MultiproofParts; root: Summary } {
  const tree = ProbabilityTree.fromLeaves([
    leaf(0n, 4n),
    leaf(8n, 12n),
    leaf(16n, 20n),
    leaf(32n, 40n),
    leaf(64n, 70n),
  ]);
  return { tree, parts: tree.multiproof([8n]), root: tree.summary() };
}

test('descending into a stub is PROOF_INVALID, for every operation', () => {
  const { tree, parts, root } = fixture();
  const open = () => PartialTree.open(parts, root);
  // 8 is revealed; 64 sits in a stub.
  assert.ok(open().get(8n));
  expectTreeError(() => open().get(64n), 'PROOF_INVALID', 'get');
  expectTreeError(() => open().replace(leaf(64n, 70n, 2)), 'PROOF_INVALID', 'replace');
  expectTreeError(() => open().remove(64n), 'PROOF_INVALID', 'remove');
  expectTreeError(() => open().insert(leaf(50n, 52n)), 'PROOF_INVALID', 'insert');
  expectTreeError(() => PartialTree.pathAt(open().state, 64n), 'PROOF_INVALID', 'path');
  // Inserting next to a revealed leaf works and is the full tree's insert.
  const p = open();
  p.insert(leaf(13n, 15n));
  tree.insert(leaf(13n, 15n));
  assert.equal(hex(p.summary().digest), hex(tree.root));
});

test('insert and replace keep the verifier checks: overlap, same start, a longer interval reaching the next', () => {
  const { parts, root } = fixture();
  const open = () => PartialTree.open(parts, root);
  expectTreeError(() => open().insert(leaf(8n, 9n)), 'OVERLAP', 'same start');
  expectTreeError(() => open().insert(leaf(10n, 11n)), 'OVERLAP', 'inside a leaf');
  expectTreeError(() => open().insert(leaf(13n, 17n)), 'OVERLAP', 'end past the gap');
  expectTreeError(() => open().replace(leaf(8n, 17n)), 'OVERLAP', 'longer replace');
  expectTreeError(() => open().replace(leaf(9n, 12n)), 'NOT_FOUND', 'no contract at 9');
  expectTreeError(() => open().remove(9n), 'NOT_FOUND', 'remove 9');
  const p = open();
  p.replace(leaf(8n, 16n));
  assert.equal(p.get(8n)?.contract.end, 16n);
});

/** Rebuilds the lists with `edit` applied, through the writer's bit packing where it helps. */
function withParts(parts: MultiproofParts, edit: Partial<MultiproofParts>): MultiproofParts {
  return { ...parts, ...edit };
}

test('decoding rules: each list consumed exactly, one kind per node, structure bits exact', () => {
  const { parts, root } = fixture();
  const bad = (edit: Partial<MultiproofParts>, what: string, code: TreeErrorCode = 'PROOF_INVALID') =>
    expectTreeError(() => PartialTree.open(withParts(parts, edit), root), code, what);
  const l0 = parts.leaves[0];
  bad({ leaves: [...parts.leaves, l0] }, 'trailing leaf');
  bad(
    {
      stubs: [...parts.stubs, parts.stubs[0]],
      stubMin: [...parts.stubMin, 1n],
      stubMax: [...parts.stubMax, 2n],
    },
    'trailing stub',
  );
  bad({ crits: Uint8Array.from([...parts.crits, 60]) }, 'trailing crit');
  bad({ structure: Uint8Array.from([...parts.structure, 0]) }, 'trailing structure byte');
  bad({ leaves: [] }, 'missing leaf');
  bad({ stubMin: parts.stubMin.slice(1) }, 'stub lists differ');
  bad({ crits: parts.crits.slice(1) }, 'missing crit');
  // Nonzero padding after the last node.
  const bits = parts.structure.length * 8;
  const last = Uint8Array.from(parts.structure);
  last[last.length - 1] |= 1;
  assert.ok(bits > 0);
  bad({ structure: last }, 'nonzero padding');

  // A node both expanded and a stub: the root given as a stub, followed by its honest expansion.
  const bitsOf = (x: MultiproofParts, n: number) =>
    Array.from({ length: n }, (_, i) => (x.structure[i >> 3] >> (7 - (i & 7))) & 1);
  const pack = (bs: number[]) => {
    const out = new Uint8Array(Math.ceil(bs.length / 8));
    bs.forEach((v, i) => (out[i >> 3] |= v << (7 - (i & 7))));
    return out;
  };
  const nodes = parts.crits.length + parts.stubs.length + parts.leaves.length;
  const honestBits = bitsOf(parts, parts.crits.length + 2 * (nodes - parts.crits.length));
  assert.equal(hex(pack(honestBits)), hex(parts.structure));
  const both: MultiproofParts = {
    structure: pack([0, 0, ...honestBits]),
    crits: parts.crits,
    stubs: [root.digest, ...parts.stubs],
    stubMin: [root.min, ...parts.stubMin],
    stubMax: [root.max, ...parts.stubMax],
    leaves: parts.leaves,
  };
  expectTreeError(() => PartialTree.open(both, root), 'PROOF_INVALID', 'stub and expanded');
  // The same node expanded and also listed as a stub (an extra stub entry for it).
  bad(
    {
      stubs: [root.digest, ...parts.stubs],
      stubMin: [root.min, ...parts.stubMin],
      stubMax: [root.max, ...parts.stubMax],
    },
    'expanded node also a stub',
  );

  // Every single flipped structure bit is refused (a different shape, or entries that no longer line up).
  for (let i = 0; i < parts.structure.length * 8; i++) {
    const s = Uint8Array.from(parts.structure);
    s[i >> 3] ^= 0x80 >> (i & 7);
    assert.throws(
      () => PartialTree.open(withParts(parts, { structure: s }), root),
      (e: unknown) => e instanceof TreeError && (e.code === 'PROOF_INVALID' || e.code === 'PROOF_MISMATCH'),
      `flipped bit ${i}`,
    );
  }
});

test('decoding rules: crit bits increase, stub ranges are non-empty, digests are 32 bytes, bytes are canonical', () => {
  const { parts, root } = fixture();
  const bad = (edit: Partial<MultiproofParts>, what: string, code: TreeErrorCode = 'PROOF_INVALID') =>
    expectTreeError(() => PartialTree.open(withParts(parts, edit), root), code, what);
  const crits = Uint8Array.from(parts.crits);
  crits[1] = crits[0];
  bad({ crits }, 'crit not increasing');
  bad(
    { crits: Uint8Array.from(parts.crits.map((c, i) => (i === parts.crits.length - 1 ? 64 : c))) },
    'crit 64',
  );
  bad({ stubMax: parts.stubMin }, 'empty stub range');
  bad(
    { stubMax: parts.stubMax.map((m, i) => (i === 0 ? m + 1n : m)) },
    'stub range not committed',
    'PROOF_MISMATCH',
  );
  bad(
    { stubs: parts.stubs.map((d, i) => (i === 0 ? new Uint8Array(32).fill(9) : d)) },
    'wrong stub',
    'PROOF_MISMATCH',
  );

  const bytes = encodeMultiproof(parts);
  expectTreeError(() => decodeMultiproof(Uint8Array.from([...bytes, 0])), 'PROOF_INVALID', 'trailing byte');
  expectTreeError(() => decodeMultiproof(Uint8Array.from([0xff, 0xff])), 'PROOF_INVALID', 'garbage');
  const short = sortition.v1.Multiproof.encode({
    ...sortition.v1.Multiproof.decode(bytes),
    stubs: [new Uint8Array(31)],
  }).finish();
  expectTreeError(() => decodeMultiproof(short), 'PROOF_INVALID', '31-byte stub');
  const badLeaf = sortition.v1.Multiproof.encode({
    ...sortition.v1.Multiproof.decode(bytes),
    leaves: [new Uint8Array([1, 2, 3])],
  }).finish();
  expectTreeError(() => decodeMultiproof(badLeaf), 'PROOF_INVALID', 'undecodable leaf');
});

test('adversarial roots: overlapping or misordered children and ranges that contradict the crit bit are refused', () => {
  const all = (b: ReturnType<typeof ofNode>) => ({ digest: b.digest, min: b.min, max: b.max });
  const open = (w: (x: MultiproofWriter) => void, root: Summary) => {
    const x = new MultiproofWriter();
    w(x);
    return () => PartialTree.open(x.finish(), root);
  };
  // [10, 2^63+5) and [2^63, 2^63+10) under crit bit 0: each leaf's path matches, but the two overlap.
  const a = leaf(10n, (1n << 63n) + 5n);
  const b = leaf(1n << 63n, (1n << 63n) + 10n);
  const overlap = ofNode(0, ofLeaf(a), ofLeaf(b));
  expectTreeError(
    open((x) => (x.inner(0), x.leaf(a), x.leaf(b)), all(overlap)),
    'PROOF_INVALID',
    'overlap',
  );
  // Children swapped: the larger start on the left.
  const c = leaf(0n, 4n);
  const d = leaf(1n << 62n, (1n << 62n) + 4n);
  const swapped = ofNode(1, ofLeaf(d), ofLeaf(c));
  expectTreeError(
    open((x) => (x.inner(1), x.leaf(d), x.leaf(c)), all(swapped)),
    'PROOF_INVALID',
    'swapped',
  );
  // Ordered, but the children part at bit 1 while the node says bit 5.
  const wrongCrit = ofNode(5, ofLeaf(c), ofLeaf(d));
  expectTreeError(
    open((x) => (x.inner(5), x.leaf(c), x.leaf(d)), all(wrongCrit)),
    'PROOF_INVALID',
    'crit',
  );
  // The honest node over the same leaves is accepted.
  const honest = ofNode(1, ofLeaf(c), ofLeaf(d));
  open((x) => (x.inner(1), x.leaf(c), x.leaf(d)), all(honest))();
});
