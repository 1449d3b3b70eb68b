import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../src/light/tracker.js';
import { trustBlock } from '../../src/light/baseline.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { encodeTx } from '../../src/chain/tx.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { genesisState } from '../../src/chain/state.js';
import { decodeBlock } from '../../src/chain/block.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';
import { blockWithHeaderU64, ownerTxWithNonce, PAST_SAFE } from '../helpers/u64.js';
import { verifyEvidence } from '../../src/chain/evidence.js';
import { sortition } from '../../src/gen/proto.js';

test('accepts the next block, ignores duplicates and gaps, and turns a second header at one height into evidence', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const t = new Tracker();
  t.track(top.genesis);
  const alice = generateKeyPair();
  top.producer.create({ start: 0n, end: 10n, owner: alice.publicKey });
  const b1 = top.producer.seal(1).block;
  const b2 = top.producer.seal(2).block;
  assert.deepEqual(t.onBlock(top.genesis.chainId, b2.bytes).verdict, {
    result: 'ignore',
    code: 'HEIGHT_GAP',
  });
  assert.equal(t.onBlock(top.genesis.chainId, b2.bytes).behind, true);
  assert.equal(t.onBlock(top.genesis.chainId, b1.bytes).verdict.result, 'accept');
  assert.deepEqual(t.onBlock(top.genesis.chainId, b1.bytes).verdict, { result: 'ignore', code: 'DUPLICATE' });
  assert.equal(t.onBlock(anchor.genesis.chainId, b1.bytes).verdict.code, 'UNTRACKED');
  assert.equal(t.onBlock(top.genesis.chainId, Uint8Array.from([1, 2, 3])).verdict.result, 'reject');
  // A forged block at height 1 (not signed by the operator) is rejected and proves nothing.
  const forged = craft(top, genesisState(top.genesis), [], {}, generateKeyPair().secretKey);
  assert.deepEqual(t.onBlock(top.genesis.chainId, forged).verdict, {
    result: 'reject',
    code: 'BAD_SIGNATURE',
  });
  assert.equal(t.evidence().length, 0);
  // The operator signs another block at height 1: equivocation.
  const other = craft(top, genesisState(top.genesis), []);
  const out = t.onBlock(top.genesis.chainId, other);
  assert.deepEqual(out.verdict, { result: 'reject', code: 'EQUIVOCATION' });
  assert.equal(out.evidence.length, 1);
  assert.equal(out.evidence[0].kind, 'equivocation');
  assert.equal(t.status()[0].faulty, true);
  // The same evidence again is a duplicate everywhere.
  assert.equal(t.onBlock(top.genesis.chainId, other).evidence.length, 0);
  assert.deepEqual(t.onEvidence(out.evidence[0].bytes).verdict, { result: 'ignore', code: 'DUPLICATE' });
  // Another node verifies it knowing only the genesis record; one without it cannot judge.
  const t2 = new Tracker();
  assert.equal(t2.onEvidence(out.evidence[0].bytes).verdict.code, 'EVIDENCE_UNKNOWN_CHAIN');
  t2.track(top.genesis);
  assert.equal(t2.onEvidence(out.evidence[0].bytes).verdict.result, 'accept');
  assert.equal(t2.status()[0].faulty, true);
  assert.equal(t2.onEvidence(Uint8Array.from([0x0a, 0x00])).verdict.result, 'reject');
});

test('evidence that arrives before its chain is tracked marks the chain faulty once it is tracked', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  // A node that saw both blocks at height 1 builds the evidence.
  const finder = new Tracker();
  finder.track(top.genesis);
  finder.onBlock(top.genesis.chainId, craft(top, genesisState(top.genesis), []));
  const ev = finder.onBlock(
    top.genesis.chainId,
    craft(top, genesisState(top.genesis), [], { timeMs: 9 }),
  ).evidence;
  assert.equal(ev[0]?.kind, 'equivocation');
  // Another knows the genesis record (its ancestry is still resolving) but does not track the chain yet.
  const late = new Tracker();
  late.learn(top.genesis);
  assert.equal(late.onEvidence(ev[0].bytes).verdict.result, 'accept');
  late.track(top.genesis);
  assert.equal(late.view(top.genesis.chainId)!.faulty, true);
  // The copy that keeps arriving is a duplicate, which must not be what flags it.
  assert.equal(late.onEvidence(ev[0].bytes).verdict.code, 'DUPLICATE');
  assert.equal(late.status()[0].faulty, true);
});

test('two blocks at one height make evidence even when they arrive while the node is behind', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const b1 = craft(top, genesisState(top.genesis), []);
  const ref = new Tracker();
  ref.track(top.genesis);
  assert.equal(ref.onBlock(top.genesis.chainId, b1).verdict.result, 'accept');
  const s1 = ref.state(top.genesis.chainId)!;
  const b2a = craft(top, s1, [], { timeMs: 5 });
  const b2b = craft(top, s1, [], { timeMs: 6 });
  // One version arrives by gossip while the node is behind; the other is the one it later syncs and takes.
  const t = new Tracker();
  t.track(top.genesis);
  assert.equal(t.onBlock(top.genesis.chainId, b2a).verdict.code, 'HEIGHT_GAP');
  assert.equal(t.onBlock(top.genesis.chainId, b1).verdict.result, 'accept');
  const taken = t.onBlock(top.genesis.chainId, b2b);
  assert.deepEqual(taken.verdict, { result: 'accept' }, 'a valid block still becomes the head');
  assert.equal(taken.evidence[0]?.kind, 'equivocation');
  assert.equal(t.view(top.genesis.chainId)!.faulty, true);
  // Both versions arrive while the node is behind: the second is the evidence.
  const u = new Tracker();
  u.track(top.genesis);
  assert.equal(u.onBlock(top.genesis.chainId, b2a).verdict.code, 'HEIGHT_GAP');
  const second = u.onBlock(top.genesis.chainId, b2b);
  assert.deepEqual(second.verdict, { result: 'reject', code: 'EQUIVOCATION' });
  assert.equal(second.evidence[0]?.kind, 'equivocation');
  assert.equal(u.view(top.genesis.chainId)!.faulty, true);
  // The same block seen ahead and then taken is no evidence; a header from a stranger is never remembered.
  const w = new Tracker();
  w.track(top.genesis);
  assert.equal(w.onBlock(top.genesis.chainId, b2a).verdict.code, 'HEIGHT_GAP');
  const forged = craft(top, s1, [], { timeMs: 7 }, generateKeyPair().secretKey);
  assert.equal(w.onBlock(top.genesis.chainId, forged).verdict.code, 'BAD_SIGNATURE');
  assert.equal(w.onBlock(top.genesis.chainId, b1).verdict.result, 'accept');
  assert.equal(w.onBlock(top.genesis.chainId, b2a).evidence.length, 0);
  assert.equal(w.view(top.genesis.chainId)!.faulty, false);
});

test('an invalid transition is rejected with evidence, and the state stays at the last valid block', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const t = new Tracker();
  t.track(top.genesis);
  const alice = generateKeyPair();
  top.producer.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const b1 = top.producer.seal(1).block;
  assert.equal(t.onBlock(top.genesis.chainId, b1.bytes).verdict.result, 'accept');
  const s1 = t.state(top.genesis.chainId)!;
  const overlap = encodeTx({
    kind: 'create',
    leaf: makeLeaf({ start: 50n, end: 60n, owner: alice.publicKey, nonce: 0, terms: new Uint8Array(0) }),
    path: top.producer.tree.keyPath(50n),
  });
  const out = t.onBlock(top.genesis.chainId, craft(top, s1, [overlap]));
  assert.deepEqual(out.verdict, { result: 'reject', code: 'OVERLAP' });
  assert.equal(out.evidence[0]?.kind, 'invalid_transition');
  assert.equal(t.state(top.genesis.chainId)!.height, 1);
  // A tampered body is rejected but proves nothing about the operator.
  const tampered = t.onBlock(top.genesis.chainId, craft(top, s1, [overlap], { txRoot: new Uint8Array(32) }));
  assert.deepEqual(tampered.verdict, { result: 'reject', code: 'TX_ROOT_MISMATCH' });
  assert.equal(tampered.evidence.length, 0);
});

test('child chains: genesis learned from the parent, anchoring on matching commits, evidence on a mismatch', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const owner = generateKeyPair();
  const t = new Tracker();
  t.track(top.genesis);
  const p = top.producer;
  p.create({ start: 0n, end: 1000n, owner: owner.publicKey });
  const child = childChain(top.genesis, 0n, 1000n, 'child');
  p.owner(
    act(top.genesis, p.tree.get(0n)!, owner, { kind: 'openChild', chainId: child.genesis.chainId }),
    0n,
    child.genesis,
  );
  const opened = t.onBlock(top.genesis.chainId, p.seal(1).block.bytes);
  assert.equal(opened.discovered.length, 1);
  assert.ok(t.genesisOf(child.genesis.chainId));
  t.track(t.genesisOf(child.genesis.chainId)!);
  assert.equal(t.ancestry(child.genesis.chainId), undefined, 'the anchor genesis is not known yet');
  t.learn(anchor.genesis);
  assert.equal(t.ancestry(child.genesis.chainId)?.length, 3);

  // Parent commits child height 1 before the child block arrives: anchored once it does and matches.
  child.producer.create({ start: 1n, end: 2n, owner: owner.publicKey });
  const c1 = child.producer.seal(5).block;
  p.childRoot(c1.signed, 0n);
  assert.equal(t.onBlock(top.genesis.chainId, p.seal(6).block.bytes).verdict.result, 'accept');
  const arrived = t.onBlock(child.genesis.chainId, c1.bytes);
  assert.equal(arrived.verdict.result, 'accept');
  assert.equal(arrived.anchored.length, 1);
  assert.equal(t.view(child.genesis.chainId)!.anchoredHeight, 1);

  // The child gossips one header at height 2 and submits another to the parent: child-root mismatch.
  const c2 = child.producer.seal(7).block;
  assert.equal(t.onBlock(child.genesis.chainId, c2.bytes).verdict.result, 'accept');
  const s1 = child.producer.state;
  const lie = craft(child, { ...s1, height: 1, headHash: c1.signed.hash, timeMs: 5 }, [], { timeMs: 99 });
  p.childRoot(decodeBlock(lie).signed, 0n);
  const out = t.onBlock(top.genesis.chainId, p.seal(8).block.bytes);
  assert.equal(out.verdict.result, 'accept', 'the parent block itself is valid');
  assert.equal(out.evidence[0]?.kind, 'child_root_mismatch');
  assert.equal(t.view(child.genesis.chainId)!.faulty, true);
  assert.equal(t.view(child.genesis.chainId)!.anchoredHeight, 1);
});

test("the benchmark's accept-everything validator takes any decodable next block as the head, judging nothing", () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const judged = new Tracker();
  const trusting = new Tracker();
  judged.track(top.genesis);
  trusting.track(top.genesis);
  // Signed by a stranger: full validation rejects it, the baseline relays and stores it like any block.
  const forged = craft(top, genesisState(top.genesis), [], {}, generateKeyPair().secretKey);
  assert.equal(judged.onBlock(top.genesis.chainId, forged).verdict.code, 'BAD_SIGNATURE');
  const out = trustBlock(trusting, top.genesis.chainId, forged);
  assert.deepEqual(out.verdict, { result: 'accept' });
  assert.equal(out.accepted?.state.height, 1);
  assert.equal(trusting.status()[0].headHash, Buffer.from(decodeBlock(forged).signed.hash).toString('hex'));
  // What it cannot decode or does not track it still refuses; an old height is a duplicate.
  assert.equal(
    trustBlock(trusting, top.genesis.chainId, Uint8Array.from([1, 2, 3])).verdict.result,
    'reject',
  );
  assert.equal(trustBlock(trusting, anchor.genesis.chainId, forged).verdict.code, 'UNTRACKED');
  assert.deepEqual(trustBlock(trusting, top.genesis.chainId, forged).verdict, {
    result: 'ignore',
    code: 'DUPLICATE',
  });
});

test("the benchmark's signatures-only validator checks every signature and nothing else", () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const t = new Tracker();
  t.track(top.genesis);
  top.producer.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const b1 = top.producer.seal(1).block.bytes;
  assert.deepEqual(trustBlock(t, top.genesis.chainId, b1, { signatures: true }).verdict, {
    result: 'accept',
  });
  const s1 = t.state(top.genesis.chainId)!;
  const leaf = top.producer.tree.get(0n)!;
  const transferBy = (signer: ReturnType<typeof generateKeyPair>) =>
    encodeTx({
      kind: 'owner',
      signed: act(top.genesis, leaf, signer, {
        kind: 'transfer',
        newOwner: signer.publicKey,
        terms: new Uint8Array(0),
      }),
      path: top.producer.tree.keyPath(0n),
      insertPath: null,
      childGenesis: null,
    });
  // A header signed by a stranger, and a transfer signed by someone who does not own the contract: rejected.
  const forged = craft(top, s1, [], {}, generateKeyPair().secretKey);
  assert.equal(
    trustBlock(t, top.genesis.chainId, forged, { signatures: true }).verdict.code,
    'BAD_SIGNATURE',
  );
  const stolen = craft(top, s1, [transferBy(generateKeyPair())]);
  assert.equal(
    trustBlock(t, top.genesis.chainId, stolen, { signatures: true }).verdict.code,
    'BAD_OWNER_SIGNATURE',
  );
  assert.equal(t.state(top.genesis.chainId)!.height, 1);
  // Every signature good but the transition wrong (the state root is not the fold): full validation rejects it,
  // the signatures-only baseline takes it.
  const wrongRoot = craft(top, s1, [transferBy(alice)], { stateRoot: new Uint8Array(32).fill(7) });
  const judged = new Tracker();
  judged.track(top.genesis);
  assert.equal(judged.onBlock(top.genesis.chainId, b1).verdict.result, 'accept');
  assert.equal(judged.onBlock(top.genesis.chainId, wrongRoot).verdict.code, 'STATE_ROOT_MISMATCH');
  assert.deepEqual(trustBlock(t, top.genesis.chainId, wrongRoot, { signatures: true }).verdict, {
    result: 'accept',
  });
  assert.equal(t.state(top.genesis.chainId)!.height, 2);
});

test('a value past 2^53 - 1 gets a verdict: a signed transaction carrying it flags the chain, a header carrying it is rejected', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const id = top.genesis.chainId;
  const alice = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const b1 = p.seal(1).block;
  const close = act(top.genesis, p.tree.get(0n)!, alice, { kind: 'close' });
  for (const v of PAST_SAFE) {
    const t = new Tracker();
    t.track(top.genesis);
    assert.equal(t.onBlock(id, b1.bytes).verdict.result, 'accept');
    const s1 = t.state(id)!;
    // Neither a header nobody can read nor a transaction in a block the operator did not sign proves anything.
    for (const field of ['height', 'timeMs'] as const) {
      const out = t.onBlock(id, blockWithHeaderU64(top.genesis, top.key.secretKey, s1, field, v));
      assert.deepEqual(out.verdict, { result: 'reject', code: 'DECODE_MALFORMED' }, `${field} = ${v}`);
      assert.equal(out.evidence.length, 0);
    }
    const tx = ownerTxWithNonce(close, alice.secretKey, p.tree.memberPath(0n), v);
    const forged = t.onBlock(id, craft(top, s1, [tx], {}, generateKeyPair().secretKey));
    assert.deepEqual(forged.verdict, { result: 'reject', code: 'BAD_SIGNATURE' });
    assert.equal(t.view(id)!.faulty, false);
    // The operator signs it: an operator fault, with evidence any node holding the genesis record accepts.
    const out = t.onBlock(id, craft(top, s1, [tx]));
    assert.deepEqual(out.verdict, { result: 'reject', code: 'DECODE_MALFORMED' });
    assert.equal(out.evidence[0]?.kind, 'invalid_transition');
    assert.equal(t.view(id)!.faulty, true);
    assert.equal(t.state(id)!.height, 1);
    assert.equal(verifyEvidence(out.evidence[0].bytes, t.genesisOf).height, 2);
    const other = new Tracker();
    other.track(top.genesis);
    assert.deepEqual(other.onEvidence(out.evidence[0].bytes).verdict, { result: 'accept' });
    assert.equal(other.view(id)!.faulty, true);
    // Evidence quoting an unreadable header is malformed, not a crash.
    const Ev = sortition.v1.Evidence;
    const unreadable = blockWithHeaderU64(top.genesis, top.key.secretKey, s1, 'height', v);
    const ev = Ev.encode(
      Ev.create({ invalidTransition: { previous: b1.signed.bytes, block: unreadable } }),
    ).finish();
    assert.deepEqual(other.onEvidence(ev).verdict, { result: 'reject', code: 'EVIDENCE_MALFORMED' });
  }
});
