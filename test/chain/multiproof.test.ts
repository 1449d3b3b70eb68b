import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortition } from '../../src/gen/proto.js';
import { decodeBlock, encodeBlock } from '../../src/chain/block.js';
import { isOperatorFault, type ChainErrorCode } from '../../src/chain/errors.js';
import { makeChildRootMismatch, makeInvalidTransition, verifyEvidence } from '../../src/chain/evidence.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';
import { signHeader, type Header } from '../../src/chain/header.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { genesisState, type ChainState } from '../../src/chain/state.js';
import { applyTx } from '../../src/chain/transition.js';
import {
  decodeTx,
  encodeTx,
  encodeTxV2,
  signAction,
  type OwnerOp,
  type Tx,
  type TxV2,
} from '../../src/chain/tx.js';
import { txRoot } from '../../src/chain/txroot.js';
import {
  blockTxs,
  checkTxSignaturesV2,
  validateBlock,
  type ValidationResult,
} from '../../src/chain/validate.js';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { makeLeaf, type Leaf } from '../../src/tree/contract.js';
import { encodeMultiproof } from '../../src/tree/multiproof.js';
import { pathToProto, type Path } from '../../src/tree/path.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { followBlock, WatchedPath } from '../../src/light/watch.js';
import { act, anchorChain, childChain, SPACE, type TestChain } from '../helpers/chains.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pathHex = (p: Path | null) => (p ? hex(sortition.v1.Path.encode(pathToProto(p)).finish()) : 'none');

function expectOk(r: ValidationResult): ChainState {
  if (!r.ok) assert.fail(`expected a valid block, got ${r.error.code}: ${r.error.message}`);
  return r.state;
}

function expectCode(r: ValidationResult, code: ChainErrorCode, txIndex?: number): void {
  assert.equal(r.ok, false, `expected ${code}, block was accepted`);
  if (r.ok) return;
  assert.equal(r.error.code, code, r.error.message);
  assert.equal(r.error.txIndex, txIndex, r.error.message);
}

/** Signs a block over encoded transactions (and, for version 2, a multiproof) on top of `state`. */
function signBlock(
  c: { genesis: GenesisRecord; key: KeyPair },
  state: ChainState,
  txs: Uint8Array[],
  proof: Uint8Array | null,
  after: { digest: Uint8Array; min: bigint; max: bigint },
  over: Partial<Header> = {},
): Uint8Array {
  const header: Header = {
    chainId: c.genesis.chainId,
    height: state.height + 1,
    prevHash: state.headHash,
    stateRoot: after.digest,
    stateMin: after.min,
    stateMax: after.max,
    txRoot: txRoot(txs, proof),
    txCount: txs.length,
    timeMs: state.timeMs + 1,
    beaconSig: new Uint8Array(0),
    ...over,
  };
  return encodeBlock(signHeader(header, c.key.secretKey), txs, proof);
}

/** The same operations, sealed by a version 1 and a version 2 producer: every block, with the tx lists judged. */
function chains() {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE, 'top');
  const grand = childChain(top.genesis, 3000n, 3500n, 'grand');
  return { top, grand, alice: generateKeyPair(), bob: generateKeyPair() };
}

function scenario(version: 1 | 2, keys: ReturnType<typeof chains>) {
  const { top } = keys;
  // Fixed keys so both versions sign the same actions (Ed25519 is deterministic).
  const p = new ChainProducer(top.genesis, top.key.secretKey, undefined, { version });
  const blocks: Uint8Array[] = [];
  for (let i = 0n; i < 20n; i++)
    p.create({ start: i * 1000n, end: i * 1000n + 500n, owner: keys.alice.publicKey });
  blocks.push(p.seal(1000).block.bytes);
  p.owner(
    act(top.genesis, p.tree.get(0n)!, keys.alice, {
      kind: 'transfer',
      newOwner: keys.bob.publicKey,
      terms: new Uint8Array(32).fill(7),
    }),
    0n,
  );
  p.owner(
    act(top.genesis, p.tree.get(1000n)!, keys.alice, {
      kind: 'split',
      at: 1200n,
      rightOwner: keys.bob.publicKey,
      rightTerms: new Uint8Array(0),
    }),
    1000n,
  );
  // A create right after the split, in the gap the split's right half borders.
  p.create({ start: 1600n, end: 1700n, owner: keys.alice.publicKey });
  p.owner(act(top.genesis, p.tree.get(2000n)!, keys.alice, { kind: 'close' }), 2000n);
  // Into the space the close freed: the descent now runs through the closed leaf's sibling.
  p.create({ start: 2100n, end: 2200n, owner: keys.alice.publicKey });
  p.owner(
    act(top.genesis, p.tree.get(0n)!, keys.bob, {
      kind: 'split',
      at: 100n,
      rightOwner: keys.alice.publicKey,
      rightTerms: new Uint8Array(0),
    }),
    0n,
  );
  blocks.push(p.seal(2000).block.bytes);
  // A grandchild chain opened and committed.
  const grand = { ...keys.grand, producer: new ChainProducer(keys.grand.genesis, keys.grand.key.secretKey) };
  p.owner(
    act(top.genesis, p.tree.get(3000n)!, keys.alice, { kind: 'openChild', chainId: grand.genesis.chainId }),
    3000n,
    grand.genesis,
  );
  blocks.push(p.seal(3000).block.bytes);
  grand.producer.create({ start: 3000n, end: 3100n, owner: keys.bob.publicKey });
  const gb = grand.producer.seal(3100).block;
  p.childRoot(gb.signed, 3000n);
  blocks.push(p.seal(4000).block.bytes);
  blocks.push(p.seal(5000).block.bytes); // empty
  return { top, p, blocks, grand, grandBlock: gb };
}

test('honest version 2 blocks are accepted with the roots of version 1 blocks, and give the same transaction paths', () => {
  const keys = chains();
  const v1 = scenario(1, keys);
  const v2 = scenario(2, keys);
  let s1 = genesisState(v1.top.genesis);
  let s2 = genesisState(v2.top.genesis);
  for (let i = 0; i < v1.blocks.length; i++) {
    const b2 = decodeBlock(v2.blocks[i]);
    assert.equal(b2.version, 2);
    assert.equal(decodeBlock(v1.blocks[i]).version, 1);
    const r1 = validateBlock(s1, v1.blocks[i]);
    const r2 = validateBlock(s2, v2.blocks[i]);
    s1 = expectOk(r1);
    s2 = expectOk(r2);
    assert.equal(hex(s2.stateRoot), hex(s1.stateRoot), `block ${i}`);
    assert.equal(s2.stateMin, s1.stateMin);
    assert.equal(s2.stateMax, s1.stateMax);
    // Watches read each transaction's paths: the version 2 ones, built from the partial tree, are version 1's.
    assert.ok(r1.ok && r2.ok);
    assert.equal(r2.txs.length, r1.txs.length);
    r1.txs.forEach((t1, j) => {
      const t2 = r2.txs[j];
      assert.equal(t2.kind, t1.kind);
      assert.equal(pathHex(t2.path), pathHex(t1.path), `block ${i} tx ${j} path`);
      if (t1.kind === 'owner' && t2.kind === 'owner')
        assert.equal(pathHex(t2.insertPath), pathHex(t1.insertPath), `block ${i} tx ${j} insert path`);
    });
    // A stored block replayed (watches brought forward after a restart) gives the same paths.
    blockTxs(v2.top.genesis, b2).forEach((t, j) => assert.equal(pathHex(t.path), pathHex(r1.txs[j].path)));
    if (i === 1)
      assert.ok(v2.blocks[i].length < v1.blocks[i].length, 'the multiproof is smaller than the paths');
  }
  assert.equal(hex(s2.stateRoot), hex(v2.p.tree.root));
});

test('signatures only (the bench baseline): keys come from the partial tree as earlier transactions left it', () => {
  const keys = chains();
  const v2 = scenario(2, keys);
  let s = genesisState(v2.top.genesis);
  for (const bytes of v2.blocks) {
    const b = decodeBlock(bytes);
    checkTxSignaturesV2(s.genesis, b);
    s = expectOk(validateBlock(s, bytes));
  }
  // An owner transaction signed by someone else fails, with its index.
  const l = v2.p.tree.get(4000n)!;
  const forged = act(v2.top.genesis, l, keys.bob, { kind: 'close' });
  const tx = encodeTxV2({ kind: 'owner', signed: forged, start: 4000n, childGenesis: null });
  const b = decodeBlock(
    signBlock(v2.top, s, [tx], encodeMultiproof(v2.p.tree.multiproof([4000n])), v2.p.tree.summary()),
  );
  assert.throws(
    () => checkTxSignaturesV2(s.genesis, b),
    (e: unknown) =>
      (e as { code?: string; txIndex?: number }).code === 'BAD_OWNER_SIGNATURE' &&
      (e as { txIndex?: number }).txIndex === 0,
  );
});

test('envelope: the multiproof is under the tx root; versions and transaction forms do not mix', () => {
  const keys = chains();
  const v2 = scenario(2, keys);
  const s0 = genesisState(v2.top.genesis);
  const s1 = expectOk(validateBlock(s0, v2.blocks[0]));
  const raw = sortition.v1.Block.decode(v2.blocks[1]);
  const reencode = (m: sortition.v1.IBlock) => sortition.v1.Block.encode(m).finish();
  // Stripped, altered or a version flipped: the signed tx root no longer matches; nothing proves the operator cheated.
  const stripped = validateBlock(s1, reencode({ ...raw, proof: new Uint8Array(0) }));
  expectCode(stripped, 'TX_ROOT_MISMATCH');
  assert.ok(!stripped.ok && !isOperatorFault(stripped.error));
  const altered = Uint8Array.from(raw.proof);
  altered[altered.length - 1] ^= 1;
  expectCode(validateBlock(s1, reencode({ ...raw, proof: altered })), 'TX_ROOT_MISMATCH');
  expectCode(validateBlock(s1, reencode({ ...raw, version: 0 })), 'DECODE_NONCANONICAL');
  expectCode(validateBlock(s1, reencode({ ...raw, version: 3 })), 'DECODE_NONCANONICAL');

  // Signed by the operator: a version 2 transaction with a path, a version 1 transaction with a start.
  const c = v2.top;
  const tree = v2.p.tree;
  const alice = keys.alice;
  const l = tree.get(3000n)!;
  const signed = act(c.genesis, l, alice, {
    kind: 'transfer',
    newOwner: keys.bob.publicKey,
    terms: new Uint8Array(0),
  });
  let head = s1;
  for (const b of v2.blocks.slice(1)) head = expectOk(validateBlock(head, b));
  const v1tx = encodeTx({
    kind: 'owner',
    signed,
    path: tree.memberPath(3000n),
    insertPath: null,
    childGenesis: null,
  });
  const proof = encodeMultiproof(tree.multiproof([3000n]));
  const asV2 = signBlock(c, head, [v1tx], proof, tree.summary());
  expectCode(validateBlock(head, asV2), 'DECODE_MALFORMED', 0);
  assert.equal(decodeTx(v1tx).kind, 'owner');
  const v2tx = encodeTxV2({ kind: 'owner', signed, start: 3000n, childGenesis: null });
  const asV1 = signBlock(c, head, [v2tx], null, tree.summary());
  // A version 2 transaction in a version 1 block: no path (PROOF_INVALID), its start an unknown field before.
  expectCode(validateBlock(head, asV1), 'DECODE_NONCANONICAL', 0);
});

test('a signed version 2 block with a multiproof too small or stale is the operator fault, and provable', () => {
  const keys = chains();
  const v2 = scenario(2, keys);
  const c = v2.top;
  let s = genesisState(c.genesis);
  const states = [s];
  for (const b of v2.blocks) states.push((s = expectOk(validateBlock(s, b))));
  const tree = v2.p.tree;
  const l = tree.get(5000n)!;
  const signed = act(c.genesis, l, keys.alice, {
    kind: 'transfer',
    newOwner: keys.bob.publicKey,
    terms: new Uint8Array(0),
  });
  const tx = encodeTxV2({ kind: 'owner', signed, start: 5000n, childGenesis: null });
  const after = tree.clone();
  after.replace(makeLeaf({ ...l.contract, owner: keys.bob.publicKey, nonce: l.contract.nonce + 1 }));
  const honest = signBlock(c, s, [tx], encodeMultiproof(tree.multiproof([5000n])), after.summary());
  expectOk(validateBlock(s, honest));

  // The contract is left in a stub: the descent enters it.
  const small = signBlock(c, s, [tx], encodeMultiproof(tree.multiproof([6000n])), after.summary());
  const r = validateBlock(s, small);
  expectCode(r, 'PROOF_INVALID', 0);
  assert.ok(!r.ok && isOperatorFault(r.error));
  const lookup = (id: Uint8Array) => (hex(id) === hex(c.genesis.chainId) ? c.genesis : undefined);
  const prev = decodeBlock(v2.blocks[v2.blocks.length - 1]).signed;
  assert.equal(
    verifyEvidence(makeInvalidTransition(prev, decodeBlock(small)), lookup).kind,
    'invalid_transition',
  );

  // A multiproof of an older state: checked once, before any transaction.
  const old = ProbabilityTree.fromLeaves([...tree.leaves()].filter((x) => x.contract.start !== 19000n));
  const stale = signBlock(c, s, [tx], encodeMultiproof(old.multiproof([5000n])), after.summary());
  const rs = validateBlock(s, stale);
  expectCode(rs, 'PROOF_MISMATCH', undefined);
  assert.ok(!rs.ok && isOperatorFault(rs.error));
  // Not a multiproof at all.
  const junk = signBlock(c, s, [tx], Uint8Array.from([0xff, 0x01]), after.summary());
  expectCode(validateBlock(s, junk), 'PROOF_INVALID', undefined);
  assert.equal(
    verifyEvidence(makeInvalidTransition(prev, decodeBlock(junk)), lookup).kind,
    'invalid_transition',
  );
});

test('child-root mismatch evidence proves a commit in a version 2 parent block (inclusion in the n + 1 shape)', () => {
  const keys = chains();
  const v2 = scenario(2, keys);
  const parent = decodeBlock(v2.blocks[3]);
  assert.equal(parent.version, 2);
  const txIndex = parent.txs.findIndex((t) => sortition.v1.Tx.decode(t).childRoot);
  assert.ok(txIndex >= 0);
  // The grandchild's operator signs another header at the committed height.
  const h = v2.grandBlock.signed.header;
  const other = signHeader({ ...h, timeMs: h.timeMs + 1 }, v2.grand.key.secretKey);
  const gs = new Map([v2.top.genesis, v2.grand.genesis].map((g) => [hex(g.chainId), g]));
  const ev = verifyEvidence(makeChildRootMismatch(parent, txIndex, other), (id) => gs.get(hex(id)));
  assert.equal(ev.kind, 'child_root_mismatch');
});

/** What a random block asks for; some are invalid on purpose. */
type Intent =
  | { readonly k: 'create'; readonly start: bigint; readonly end: bigint; readonly nonce: number }
  | {
      readonly k: 'owner';
      readonly start: bigint;
      readonly op: OwnerOp;
      readonly flaw: 'none' | 'sig' | 'nonce' | 'chain' | 'hash';
    };

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

/**
 * Both versions of one block over `tree`: each transaction with the paths an honest producer would attach, and a
 * multiproof revealing every leaf a version 2 descent reaches. Stops after the first transaction that fails.
 */
function buildPair(
  c: TestChain,
  state: ChainState,
  tree0: ProbabilityTree,
  intents: readonly Intent[],
  alice: KeyPair,
  bob: KeyPair,
): { v1: Uint8Array; v2: Uint8Array } {
  const tree = tree0.clone();
  const g = c.genesis;
  let cur = tree.summary();
  const t1: Uint8Array[] = [];
  const t2: Uint8Array[] = [];
  const reached = new Set<bigint>();
  for (const it of intents) {
    let tx: Tx;
    let txv2: TxV2;
    let mutate: () => void;
    if (it.k === 'create') {
      const leaf = makeLeaf({
        start: it.start,
        end: it.end,
        owner: alice.publicKey,
        nonce: it.nonce,
        terms: new Uint8Array(0),
      });
      tx = { kind: 'create', leaf, path: tree.keyPath(it.start) };
      txv2 = { kind: 'create', leaf };
      const r = tree.reach(it.start);
      if (r !== undefined) reached.add(r);
      mutate = () => tree.insert(leaf);
    } else {
      const old: Leaf = tree.get(it.start)!;
      const oc = old.contract;
      const signed = signAction(
        {
          chainId: it.flaw === 'chain' ? new Uint8Array(32).fill(3) : g.chainId,
          contractHash: it.flaw === 'hash' ? new Uint8Array(32).fill(4) : old.digest,
          nonce: oc.nonce + (it.flaw === 'nonce' ? 2 : 1),
          op: it.op,
        },
        (it.flaw === 'sig' ? bob : alice).secretKey,
      );
      const nonce = oc.nonce + 1;
      reached.add(it.start);
      let insertPath: Path | null = null;
      const op = it.op;
      if (op.kind === 'split') {
        const r = tree.reach(op.at);
        if (r !== undefined) reached.add(r);
        if (op.at > oc.start && op.at < oc.end) {
          const shrunk = tree.clone();
          shrunk.replace(makeLeaf({ ...oc, end: op.at, nonce }));
          insertPath = shrunk.keyPath(op.at);
        } else insertPath = tree.keyPath(op.at);
      }
      tx = { kind: 'owner', signed, path: tree.memberPath(it.start), insertPath, childGenesis: null };
      txv2 = { kind: 'owner', signed, start: it.start, childGenesis: null };
      mutate = () => {
        if (op.kind === 'transfer')
          tree.replace(makeLeaf({ ...oc, owner: op.newOwner, terms: op.terms, nonce }));
        else if (op.kind === 'close') tree.remove(it.start);
        else if (op.kind === 'split') {
          tree.replace(makeLeaf({ ...oc, end: op.at, nonce }));
          tree.insert(
            makeLeaf({ start: op.at, end: oc.end, owner: op.rightOwner, terms: op.rightTerms, nonce }),
          );
        }
      };
    }
    t1.push(encodeTx(tx));
    t2.push(encodeTxV2(txv2));
    try {
      cur = applyTx(g, cur, tx);
    } catch {
      break;
    }
    mutate();
  }
  const proof = encodeMultiproof(tree0.multiproof(reached));
  return { v1: signBlock(c, state, t1, null, cur), v2: signBlock(c, state, t2, proof, cur) };
}

test('property: version 1 and version 2 of random blocks, valid and invalid, get the same verdict', () => {
  const rand = rng(2026);
  const alice = generateKeyPair();
  const bob = generateKeyPair();
  const c = childChain(anchorChain().genesis, 0n, 1n << 20n, 'prop');
  const seen = new Map<string, number>();
  for (let round = 0; round < 120; round++) {
    const leaves: Leaf[] = [];
    const full = new ProbabilityTree();
    const n = Math.floor(rand() * 24);
    while (full.size < n) {
      const s = BigInt(Math.floor(rand() * (1 << 20)));
      const l = makeLeaf({
        start: s,
        end: s + 1n + BigInt(Math.floor(rand() * 2000)),
        owner: alice.publicKey,
        nonce: 0,
        terms: new Uint8Array(0),
      });
      if (l.contract.end > 1n << 20n) continue;
      try {
        full.insert(l);
        leaves.push(l);
      } catch {
        // overlap: draw again
      }
    }
    const root = full.summary();
    const state: ChainState = {
      ...genesisState(c.genesis),
      height: 3,
      headHash: new Uint8Array(32).fill(1),
      stateRoot: root.digest,
      stateMin: root.min,
      stateMax: root.max,
      timeMs: 5,
    };
    // Intents drawn against the tree as it evolves, so most of them are valid.
    const sim = full.clone();
    const intents: Intent[] = [];
    const count = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < count; i++) {
      const starts = [...sim.leaves()].map((l) => l.contract.start);
      const x = rand();
      if (x < 0.35 || starts.length === 0) {
        const near = starts.length && rand() < 0.5 ? starts[Math.floor(rand() * starts.length)] : 0n;
        const s =
          near +
          BigInt(Math.floor(rand() * 4000)) -
          (rand() < 0.1 ? 0n : 0n) +
          (rand() < 0.05 ? 1n << 21n : 0n);
        const e = s + 1n + BigInt(Math.floor(rand() * 300));
        intents.push({ k: 'create', start: s, end: e, nonce: rand() < 0.05 ? 1 : 0 });
        try {
          if (s < 1n << 20n && e <= 1n << 20n)
            sim.insert(
              makeLeaf({ start: s, end: e, owner: alice.publicKey, nonce: 0, terms: new Uint8Array(0) }),
            );
        } catch {
          // an invalid create: the block ends here in the judged run
        }
        continue;
      }
      const s = starts[Math.floor(rand() * starts.length)];
      const l = sim.get(s)!;
      const flaws = ['sig', 'nonce', 'chain', 'hash'] as const;
      const flaw = rand() < 0.1 ? flaws[Math.floor(rand() * flaws.length)] : 'none';
      let op: OwnerOp;
      if (x < 0.6) op = { kind: 'transfer', newOwner: alice.publicKey, terms: new Uint8Array(0) };
      else if (x < 0.85) {
        const span = l.contract.end - l.contract.start;
        const at =
          rand() < 0.1
            ? l.contract.end
            : l.contract.start + 1n + BigInt(Math.floor(rand() * Number(span > 1n ? span - 1n : 1n)));
        op = { kind: 'split', at, rightOwner: alice.publicKey, rightTerms: new Uint8Array(0) };
      } else op = { kind: 'close' };
      intents.push({ k: 'owner', start: s, op, flaw });
      try {
        if (op.kind === 'transfer') sim.replace(makeLeaf({ ...l.contract, nonce: l.contract.nonce + 1 }));
        else if (op.kind === 'close') sim.remove(s);
        else {
          sim.replace(makeLeaf({ ...l.contract, end: op.at, nonce: l.contract.nonce + 1 }));
          sim.insert(
            makeLeaf({
              start: op.at,
              end: l.contract.end,
              owner: alice.publicKey,
              nonce: l.contract.nonce + 1,
              terms: new Uint8Array(0),
            }),
          );
        }
      } catch {
        // an invalid split: the block ends here in the judged run
      }
      if (flaw !== 'none') break;
    }
    const { v1, v2 } = buildPair(c, state, full, intents, alice, bob);
    const r1 = validateBlock(state, v1);
    const r2 = validateBlock(state, v2);
    const verdict = (r: ValidationResult) => (r.ok ? 'ok' : `${r.error.code}@${r.error.txIndex}`);
    assert.equal(
      verdict(r2),
      verdict(r1),
      `round ${round}: ${r1.ok ? '' : r1.error.message} / ${r2.ok ? '' : r2.error.message}`,
    );
    if (r1.ok && r2.ok) assert.equal(hex(r2.state.stateRoot), hex(r1.state.stateRoot));
    seen.set(verdict(r1).split('@')[0], (seen.get(verdict(r1).split('@')[0]) ?? 0) + 1);
  }
  // The random blocks reach both verdicts and several failure codes.
  assert.ok((seen.get('ok') ?? 0) > 20, JSON.stringify([...seen]));
  assert.ok(seen.size >= 5, JSON.stringify([...seen]));
});

test("the producer's pending-bytes bound covers a version 2 block's transactions and multiproof", () => {
  const rand = rng(99);
  const alice = generateKeyPair();
  const c = childChain(anchorChain().genesis, 0n, 1n << 40n, 'bound');
  for (const n of [0, 1, 50, 3000]) {
    const leaves: Leaf[] = [];
    for (let i = 0; i < n; i++)
      leaves.push(
        makeLeaf({
          start: BigInt(i) * 1000n,
          end: BigInt(i) * 1000n + 500n,
          owner: alice.publicKey,
          nonce: 0,
          terms: new Uint8Array(0),
        }),
      );
    const tree = ProbabilityTree.fromLeaves(leaves);
    const root = tree.summary();
    const state: ChainState = {
      ...genesisState(c.genesis),
      stateRoot: root.digest,
      stateMin: root.min,
      stateMax: root.max,
    };
    const p = new ChainProducer(c.genesis, c.key.secretKey, { tree, state }, { version: 2 });
    for (let i = 0; i < 200; i++) {
      const all = [...p.tree.leaves()];
      if (all.length === 0 || rand() < 0.3) {
        const s = BigInt(Math.floor(rand() * 2 ** 30)) * 1000n + 600n;
        p.create({ start: s, end: s + 100n, owner: alice.publicKey });
        continue;
      }
      const l = all[Math.floor(rand() * all.length)];
      const op: OwnerOp =
        rand() < 0.5
          ? {
              kind: 'split',
              at: l.contract.start + 1n,
              rightOwner: alice.publicKey,
              rightTerms: new Uint8Array(0),
            }
          : { kind: 'close' };
      if (op.kind === 'split' && l.contract.end - l.contract.start < 2n) continue;
      p.owner(act(c.genesis, l, alice, op), l.contract.start);
    }
    const bound = p.pendingBytes;
    const b = p.seal(1).block;
    const actual = b.txs.reduce((a, t) => a + t.length + 8, 0) + (b.proof?.length ?? 0);
    assert.ok(bound >= actual, `n=${n}: bound ${bound} < ${actual}`);
    expectOk(validateBlock(state, b.bytes));
  }
});

test('watched paths follow version 2 blocks: every watch stays the full tree path of its contract', () => {
  const keys = chains();
  const v2 = scenario(2, keys);
  // The state after the first block: watch every contract, then follow the remaining blocks.
  let s = expectOk(validateBlock(genesisState(v2.top.genesis), v2.blocks[0]));
  const first = decodeBlock(v2.blocks[0]);
  const t0 = new ProbabilityTree();
  for (const t of blockTxs(v2.top.genesis, first)) if (t.kind === 'create') t0.insert(t.leaf);
  const watches = new Map<bigint, WatchedPath>(
    [...t0.leaves()].map((l) => [l.contract.start, WatchedPath.from(t0.memberPath(l.contract.start))]),
  );
  for (const bytes of v2.blocks.slice(1)) {
    const r = validateBlock(s, bytes);
    s = expectOk(r);
    assert.ok(r.ok);
    const ended = followBlock(watches, r.txs);
    for (const w of ended) watches.delete(w.start);
  }
  assert.ok(watches.size > 10);
  for (const [start, w] of watches) {
    assert.equal(pathHex(w.toPath()), pathHex(v2.p.tree.memberPath(start)), `watch at ${start}`);
  }
});
