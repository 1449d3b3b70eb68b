import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EvidenceError,
  makeChildRootMismatch,
  makeEquivocation,
  makeInvalidTransition,
  makeStaleState,
  verifyEvidence,
  evidenceId,
  type GenesisLookup,
} from '../../src/chain/evidence.js';
import { decodeBlock } from '../../src/chain/block.js';
import { signHeader } from '../../src/chain/header.js';
import { genesisState } from '../../src/chain/state.js';
import { validateBlock } from '../../src/chain/validate.js';
import { isOperatorFault } from '../../src/chain/errors.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';
import { encodeTx } from '../../src/chain/tx.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { sortition } from '../../src/gen/proto.js';
import { blockWithHeaderU64, ownerTxWithNonce, PAST_SAFE } from '../helpers/u64.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function lookup(...gs: GenesisRecord[]): GenesisLookup {
  const m = new Map(gs.map((g) => [hex(g.chainId), g]));
  return (id) => m.get(hex(id));
}

function rejects(f: () => unknown, code: EvidenceError['code']): void {
  assert.throws(f, (e: unknown) => e instanceof EvidenceError && e.code === code);
}

test('equivocation: two signed headers at one height verify; forgeries do not', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const s0 = genesisState(top.genesis);
  const a = decodeBlock(craft(top, s0, [])).signed;
  top.producer.create({ start: 0n, end: 10n, owner: alice.publicKey });
  const b = top.producer.seal(99).block.signed;
  const ev = makeEquivocation(a, b);
  // Deterministic: the same pair in either order encodes identically.
  assert.equal(hex(makeEquivocation(b, a)), hex(ev));
  const v = verifyEvidence(ev, lookup(top.genesis));
  assert.equal(v.kind, 'equivocation');
  assert.equal(v.height, 1);
  assert.equal(hex(v.chainId), hex(top.genesis.chainId));
  assert.equal(hex(v.id), hex(evidenceId(ev)));

  rejects(() => verifyEvidence(makeEquivocation(a, a), lookup(top.genesis)), 'EVIDENCE_NOT_PROVEN');
  const forged = signHeader(b.header, generateKeyPair().secretKey);
  rejects(() => verifyEvidence(makeEquivocation(a, forged), lookup(top.genesis)), 'EVIDENCE_NOT_PROVEN');
  const later = decodeBlock(craft(top, top.producer.state, [])).signed;
  rejects(() => verifyEvidence(makeEquivocation(a, later), lookup(top.genesis)), 'EVIDENCE_NOT_PROVEN');
  rejects(() => verifyEvidence(ev, lookup(anchor.genesis)), 'EVIDENCE_UNKNOWN_CHAIN');
  rejects(
    () => verifyEvidence(Uint8Array.from([...ev, 0x08, 0x01]), lookup(top.genesis)),
    'EVIDENCE_MALFORMED',
  );
});

test('invalid transition: a signed block whose proofs fail is proven with only the genesis record', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const b1 = p.seal(10).block;
  const s1 = genesisState(top.genesis);
  const st1 = validateBlock(s1, b1.bytes);
  assert.ok(st1.ok);
  if (!st1.ok) return;
  // The operator signs a block selling space that is already sold (an overlap): a double-spend.
  const overlap = encodeTx({
    kind: 'create',
    leaf: makeLeaf({ start: 50n, end: 60n, owner: alice.publicKey, nonce: 0, terms: new Uint8Array(0) }),
    path: p.tree.keyPath(50n),
  });
  const bad = decodeBlock(craft(top, st1.state, [overlap]));
  const r = validateBlock(st1.state, bad.bytes);
  assert.ok(!r.ok && r.error.code === 'OVERLAP' && isOperatorFault(r.error));
  const ev = makeInvalidTransition(b1.signed, bad);
  const v = verifyEvidence(ev, lookup(top.genesis));
  assert.equal(v.kind, 'invalid_transition');
  assert.equal(v.height, 2);

  // A wrong state root at height 1 (no previous header needed).
  const badRoot = decodeBlock(craft(top, s1, [], { stateRoot: new Uint8Array(32).fill(1) }));
  assert.equal(verifyEvidence(makeInvalidTransition(null, badRoot), lookup(top.genesis)).height, 1);

  // Not evidence: a valid block, a block with a tampered body (not what was signed), a wrong previous header.
  rejects(() => verifyEvidence(makeInvalidTransition(null, b1), lookup(top.genesis)), 'EVIDENCE_NOT_PROVEN');
  const tamperedBody = { ...bad, bytes: craft(top, st1.state, [overlap], { txRoot: new Uint8Array(32) }) };
  rejects(
    () =>
      verifyEvidence(makeInvalidTransition(b1.signed, decodeBlock(tamperedBody.bytes)), lookup(top.genesis)),
    'EVIDENCE_NOT_PROVEN',
  );
  const other = decodeBlock(craft(top, s1, [])).signed;
  rejects(
    () => verifyEvidence(makeInvalidTransition(other, bad), lookup(top.genesis)),
    'EVIDENCE_NOT_PROVEN',
  );
  const unsigned = decodeBlock(craft(top, st1.state, [overlap], {}, generateKeyPair().secretKey));
  rejects(
    () => verifyEvidence(makeInvalidTransition(b1.signed, unsigned), lookup(top.genesis)),
    'EVIDENCE_NOT_PROVEN',
  );
});

test('child-root mismatch: the parent commits a child header the child chain contradicts', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const owner = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 1000n, owner: owner.publicKey });
  const child = childChain(top.genesis, 0n, 1000n, 'child');
  p.owner(
    act(top.genesis, p.tree.get(0n)!, owner, { kind: 'openChild', chainId: child.genesis.chainId }),
    0n,
    child.genesis,
  );
  p.seal(1);
  // The child operator signs two headers at height 1: one it gossips, one it submits to the parent.
  const s0 = genesisState(child.genesis);
  const gossiped = decodeBlock(craft(child, s0, [])).signed;
  child.producer.create({ start: 10n, end: 20n, owner: owner.publicKey });
  const submitted = child.producer.seal(2).block.signed;
  p.childRoot(submitted, 0n);
  const parentBlock = p.seal(3).block;
  const ev = makeChildRootMismatch(parentBlock, 0, gossiped);
  const v = verifyEvidence(ev, lookup(top.genesis, child.genesis));
  assert.equal(v.kind, 'child_root_mismatch');
  assert.equal(hex(v.chainId), hex(child.genesis.chainId));
  assert.equal(v.height, 1);
  // The same header as committed proves nothing; a wrong inclusion index proves nothing; both genesis records are needed.
  rejects(
    () =>
      verifyEvidence(makeChildRootMismatch(parentBlock, 0, submitted), lookup(top.genesis, child.genesis)),
    'EVIDENCE_NOT_PROVEN',
  );
  rejects(() => verifyEvidence(ev, lookup(top.genesis)), 'EVIDENCE_UNKNOWN_CHAIN');
  const forgedChild = signHeader(gossiped.header, generateKeyPair().secretKey);
  rejects(
    () =>
      verifyEvidence(makeChildRootMismatch(parentBlock, 0, forgedChild), lookup(top.genesis, child.genesis)),
    'EVIDENCE_NOT_PROVEN',
  );
});

test('stale state: a presented contract superseded by a later signed state', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const bob = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const h1 = p.seal(1).block.signed;
  const presentedPath = p.tree.memberPath(0n);
  p.owner(
    act(top.genesis, p.tree.get(0n)!, alice, {
      kind: 'transfer',
      newOwner: bob.publicKey,
      terms: new Uint8Array(0),
    }),
    0n,
  );
  const h2 = p.seal(2).block.signed;
  const ev = makeStaleState(h1, presentedPath, h2, p.tree.lookupPath(0n));
  const v = verifyEvidence(ev, lookup(top.genesis));
  assert.equal(v.kind, 'stale_state');
  assert.equal(v.height, 1);
  // The current state presented against a later header that still holds it is not stale.
  const h3 = p.seal(3).block.signed;
  rejects(
    () =>
      verifyEvidence(
        makeStaleState(h2, p.tree.memberPath(0n), h3, p.tree.lookupPath(0n)),
        lookup(top.genesis),
      ),
    'EVIDENCE_NOT_PROVEN',
  );
  // Order matters: the superseding header must be later.
  rejects(
    () => verifyEvidence(makeStaleState(h2, presentedPath, h1, p.tree.lookupPath(0n)), lookup(top.genesis)),
    'EVIDENCE_NOT_PROVEN',
  );
});

test('a value past 2^53 - 1: DECODE_MALFORMED from validateBlock, evidence only inside a signed transaction', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const b1 = p.seal(10).block;
  const s0 = genesisState(top.genesis);
  const r1 = validateBlock(s0, b1.bytes);
  assert.ok(r1.ok);
  if (!r1.ok) return;
  const close = act(top.genesis, p.tree.get(0n)!, alice, { kind: 'close' });
  const Ev = sortition.v1.Evidence;
  for (const v of PAST_SAFE) {
    // A signed header that cannot be read is rejected like any malformed envelope: it proves nothing.
    for (const field of ['height', 'timeMs'] as const) {
      const bytes = blockWithHeaderU64(top.genesis, top.key.secretKey, s0, field, v);
      const r = validateBlock(s0, bytes);
      assert.ok(!r.ok && r.error.code === 'DECODE_MALFORMED' && !isOperatorFault(r.error), `${field} = ${v}`);
      const ev = Ev.encode(Ev.create({ invalidTransition: { block: bytes } })).finish();
      rejects(() => verifyEvidence(ev, lookup(top.genesis)), 'EVIDENCE_MALFORMED');
    }
    // The operator signs a block whose transaction says nonce v: an invalid transition like any other.
    const tx = ownerTxWithNonce(close, alice.secretKey, p.tree.memberPath(0n), v);
    const bad = decodeBlock(craft(top, r1.state, [tx]));
    const r = validateBlock(r1.state, bad.bytes);
    assert.ok(
      !r.ok && r.error.code === 'DECODE_MALFORMED' && r.error.txIndex === 0 && isOperatorFault(r.error),
    );
    const proven = verifyEvidence(makeInvalidTransition(b1.signed, bad), lookup(top.genesis));
    assert.deepEqual([proven.kind, proven.height], ['invalid_transition', 2]);
    // Signed by someone else, the same block is only a bad signature.
    const forged = decodeBlock(craft(top, r1.state, [tx], {}, generateKeyPair().secretKey));
    const rf = validateBlock(r1.state, forged.bytes);
    assert.ok(!rf.ok && rf.error.code === 'BAD_SIGNATURE');
    rejects(
      () => verifyEvidence(makeInvalidTransition(b1.signed, forged), lookup(top.genesis)),
      'EVIDENCE_NOT_PROVEN',
    );
  }
});
