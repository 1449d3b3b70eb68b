import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { validateBlock, type ValidationResult } from '../../src/chain/validate.js';
import { genesisState, type ChainState } from '../../src/chain/state.js';
import { CHAIN_ERROR_CODES, ChainError, type ChainErrorCode } from '../../src/chain/errors.js';
import { encodeTx, signAction, type Tx } from '../../src/chain/tx.js';
import { makeGenesis } from '../../src/chain/genesis.js';
import { signHeader } from '../../src/chain/header.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { LIMITS } from '../../src/codec/limits.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { EMPTY_ROOT } from '../../src/tree/node.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';

const seen = new Set<ChainErrorCode>();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function expectOk(r: ValidationResult): ChainState {
  if (!r.ok) assert.fail(`expected a valid block, got ${r.error.code}: ${r.error.message}`);
  return r.state;
}

function expectCode(r: ValidationResult, code: ChainErrorCode): void {
  assert.equal(r.ok, false, `expected ${code}, block was accepted`);
  if (!r.ok) {
    assert.equal(r.error.code, code, r.error.message);
    seen.add(code);
  }
}

function expectThrows(f: () => unknown, code: ChainErrorCode): void {
  assert.throws(f, (e: unknown) => e instanceof ChainError && e.code === code);
  seen.add(code);
}

/** An anchor with a top-level chain registered on it, and that chain's operator owning its contract. */
function setup() {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE, 'top');
  anchor.producer.create({ start: 0n, end: SPACE, owner: top.key.publicKey });
  const sealed1 = anchor.producer.seal(1000);
  const reg = anchor.producer.tree.get(0n)!;
  anchor.producer.owner(
    act(anchor.genesis, reg, top.key, { kind: 'openChild', chainId: top.genesis.chainId }),
    0n,
    top.genesis,
  );
  const sealed2 = anchor.producer.seal(2000);
  return { anchor, top, anchorBlocks: [sealed1.block.bytes, sealed2.block.bytes] };
}

test('validators follow an anchor and a top-level chain through every transaction kind, matching the operator', () => {
  const { anchor, top, anchorBlocks } = setup();
  let av = genesisState(anchor.genesis);
  for (const b of anchorBlocks) av = expectOk(validateBlock(av, b));
  assert.equal(hex(av.stateRoot), hex(anchor.producer.tree.root));
  assert.equal(hex(av.beacon), hex(anchor.producer.state.beacon));

  const alice = generateKeyPair();
  const bob = generateKeyPair();
  const p = top.producer;
  let tv = genesisState(top.genesis);
  for (let i = 0n; i < 20n; i++)
    p.create({ start: i * 1000n, end: i * 1000n + 500n, owner: alice.publicKey });
  tv = expectOk(validateBlock(tv, p.seal(3000).block.bytes));
  // Transfer, split, close and open a grandchild chain in one block: each path is against the previous tx's state.
  p.owner(
    act(top.genesis, p.tree.get(0n)!, alice, {
      kind: 'transfer',
      newOwner: bob.publicKey,
      terms: new Uint8Array(32).fill(7),
    }),
    0n,
  );
  p.owner(
    act(top.genesis, p.tree.get(1000n)!, alice, {
      kind: 'split',
      at: 1200n,
      rightOwner: bob.publicKey,
      rightTerms: new Uint8Array(0),
    }),
    1000n,
  );
  p.owner(act(top.genesis, p.tree.get(2000n)!, alice, { kind: 'close' }), 2000n);
  const grand = childChain(top.genesis, 3000n, 3500n, 'grandchild');
  p.owner(
    act(top.genesis, p.tree.get(3000n)!, alice, { kind: 'openChild', chainId: grand.genesis.chainId }),
    3000n,
    grand.genesis,
  );
  p.create({ start: 2000n, end: 2100n, owner: bob.publicKey });
  tv = expectOk(validateBlock(tv, p.seal(4000).block.bytes));
  assert.equal(hex(tv.stateRoot), hex(p.tree.root));
  assert.equal(p.tree.get(1200n)?.contract.end, 1500n);
  assert.equal(p.tree.get(0n)?.contract.nonce, 1);

  // The grandchild produces a block; its root is committed into the top chain, whose root reaches the anchor.
  grand.producer.create({ start: 3100n, end: 3200n, owner: bob.publicKey });
  const gb = grand.producer.seal(4100).block;
  expectOk(validateBlock(genesisState(grand.genesis), gb.bytes));
  p.childRoot(gb.signed, 3000n);
  const tb = p.seal(4200).block;
  tv = expectOk(validateBlock(tv, tb.bytes));
  assert.equal(hex(p.tree.get(3000n)!.contract.child!.root), hex(gb.signed.header.stateRoot));
  anchor.producer.childRoot(tb.signed, 0n);
  av = expectOk(validateBlock(av, anchor.producer.seal(5000).block.bytes));
  assert.equal(anchor.producer.tree.get(0n)!.contract.child!.height, tb.signed.header.height);
  assert.equal(av.height, 3);
});

test('header and block envelope failures have their own codes', () => {
  const { anchor, top } = setup();
  const s0 = genesisState(top.genesis);
  expectCode(validateBlock(s0, Uint8Array.from([0xff, 0xff, 0xff])), 'DECODE_MALFORMED');
  const good = craft(top, s0, []);
  expectCode(validateBlock(s0, Uint8Array.from([...good, 0x78, 0x01])), 'DECODE_NONCANONICAL'); // unknown field 15
  expectCode(validateBlock(s0, new Uint8Array(LIMITS.blockBytes + 1)), 'DECODE_OVERSIZE');
  expectCode(validateBlock(genesisState(anchor.genesis), good), 'WRONG_CHAIN');
  expectCode(validateBlock(s0, craft(top, s0, [], {}, generateKeyPair().secretKey)), 'BAD_SIGNATURE');
  const s1 = expectOk(validateBlock(s0, good));
  expectCode(validateBlock(s1, good), 'OLD_HEIGHT');
  expectCode(validateBlock(s0, craft(top, s1, [])), 'HEIGHT_GAP');
  expectCode(validateBlock(s1, craft(top, s1, [], { prevHash: new Uint8Array(32) })), 'WRONG_PARENT');
  expectCode(validateBlock(s1, craft(top, s1, [], { timeMs: s1.timeMs - 1 })), 'TIME_REGRESSION');
  expectCode(validateBlock(s1, craft(top, s1, [], { beaconSig: new Uint8Array(64) })), 'BAD_BEACON');
  const a0 = genesisState(anchor.genesis);
  expectCode(validateBlock(a0, craft(anchor, a0, [], { beaconSig: new Uint8Array(0) })), 'BAD_BEACON');
  expectCode(validateBlock(s1, craft(top, s1, [], { txCount: LIMITS.txsPerBlock + 1 })), 'TOO_MANY_TXS');
  expectCode(validateBlock(s1, craft(top, s1, [], { txCount: 1 })), 'TX_COUNT_MISMATCH');
  expectCode(validateBlock(s1, craft(top, s1, [], { txRoot: new Uint8Array(32) })), 'TX_ROOT_MISMATCH');
  expectCode(validateBlock(s1, craft(top, s1, [], { stateRoot: new Uint8Array(32) })), 'STATE_ROOT_MISMATCH');
  expectCode(validateBlock(s1, craft(top, s1, [], { stateMax: 5n })), 'STATE_BOUNDS_MISMATCH');
});

test('transaction failures name the failing transaction and what was wrong', () => {
  const { anchor, top } = setup();
  const alice = generateKeyPair();
  const mallory = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  p.create({ start: 200n, end: 300n, owner: alice.publicKey });
  const grand = childChain(top.genesis, 200n, 300n, 'g');
  p.owner(
    act(top.genesis, p.tree.get(200n)!, alice, { kind: 'openChild', chainId: grand.genesis.chainId }),
    200n,
    grand.genesis,
  );
  const s1 = expectOk(validateBlock(genesisState(top.genesis), p.seal(10).block.bytes));
  const t = p.tree;
  const c0 = t.get(0n)!;
  const c200 = t.get(200n)!;
  const create = (start: bigint, end: bigint, nonce = 0, path = t.keyPath(start)): Uint8Array =>
    encodeTx({
      kind: 'create',
      leaf: makeLeaf({ start, end, owner: alice.publicKey, nonce, terms: new Uint8Array(0) }),
      path,
    });
  const owner = (
    signed: ReturnType<typeof act>,
    start: bigint,
    extra: Partial<Extract<Tx, { kind: 'owner' }>> = {},
  ): Uint8Array =>
    encodeTx({
      kind: 'owner',
      signed,
      path: t.memberPath(start),
      insertPath: null,
      childGenesis: null,
      ...extra,
    });
  const check = (tx: Uint8Array, code: ChainErrorCode) => {
    const r = validateBlock(s1, craft(top, s1, [tx, create(500n, 510n)]));
    expectCode(r, code);
    if (!r.ok) assert.equal(r.error.txIndex, 0);
  };

  check(Uint8Array.from([0x0a, 0x05, 0x01]), 'DECODE_MALFORMED');
  check(create(50n, 150n), 'OVERLAP');
  check(create(SPACE - 5n, SPACE + 5n), 'OUT_OF_SPACE');
  check(create(600n, 700n, 3), 'BAD_CONTRACT');
  check(create(600n, 700n, 0, new ProbabilityTree().keyPath(600n)), 'PROOF_MISMATCH');
  // Each path is against the state the previous transaction left: one taken before it is stale.
  const staleRoot = validateBlock(s1, craft(top, s1, [create(500n, 510n), create(150n, 160n)]));
  expectCode(staleRoot, 'PROOF_MISMATCH');
  assert.equal(!staleRoot.ok && staleRoot.error.txIndex, 1);
  // A valid path for another key is not an insertion path for this one.
  check(create(150n, 160n, 0, t.keyPath(0n)), 'PROOF_INVALID');
  check(owner(act(top.genesis, c0, mallory, { kind: 'close' }), 0n), 'BAD_OWNER_SIGNATURE');
  const stale = signAction(
    {
      chainId: top.genesis.chainId,
      contractHash: c0.digest,
      nonce: c0.contract.nonce,
      op: { kind: 'close' },
    },
    alice.secretKey,
  );
  check(owner(stale, 0n), 'STALE_NONCE');
  const wrong = signAction(
    { chainId: top.genesis.chainId, contractHash: c200.digest, nonce: 1, op: { kind: 'close' } },
    alice.secretKey,
  );
  check(owner(wrong, 0n), 'WRONG_CONTRACT');
  check(owner(act(anchor.genesis, c0, alice, { kind: 'close' }), 0n), 'WRONG_CHAIN');
  check(
    owner(
      act(top.genesis, c0, alice, {
        kind: 'split',
        at: 0n,
        rightOwner: alice.publicKey,
        rightTerms: new Uint8Array(0),
      }),
      0n,
      { insertPath: t.keyPath(0n) },
    ),
    'SPLIT_OUT_OF_RANGE',
  );
  check(
    owner(
      act(top.genesis, c0, alice, {
        kind: 'split',
        at: 50n,
        rightOwner: alice.publicKey,
        rightTerms: new Uint8Array(0),
      }),
      0n,
    ),
    'PROOF_INVALID',
  );
  check(owner(act(top.genesis, c200, alice, { kind: 'close' }), 200n), 'CONTRACT_IS_CHAIN');
  const otherSpace = childChain(top.genesis, 0n, 50n, 'wrong space');
  check(
    owner(act(top.genesis, c0, alice, { kind: 'openChild', chainId: otherSpace.genesis.chainId }), 0n, {
      childGenesis: otherSpace.genesis,
    }),
    'BAD_GENESIS',
  );
  // Ownership paths against the empty tree find nothing.
  check(
    encodeTx({
      kind: 'owner',
      signed: act(top.genesis, c0, alice, { kind: 'close' }),
      path: new ProbabilityTree().keyPath(0n),
      insertPath: null,
      childGenesis: null,
    }),
    'NOT_FOUND',
  );

  // Child root updates.
  grand.producer.create({ start: 210n, end: 220n, owner: alice.publicKey });
  const g1 = grand.producer.seal(5).block.signed;
  const childTx = (header: typeof g1, start = 200n) =>
    encodeTx({ kind: 'childRoot', child: header, path: t.memberPath(start) });
  check(childTx(g1, 0n), 'NOT_A_CHAIN');
  const stranger = childChain(top.genesis, 200n, 300n, 'stranger');
  check(childTx(stranger.producer.seal(5).block.signed), 'CHILD_WRONG_CHAIN');
  check(childTx(signHeader(g1.header, mallory.secretKey)), 'CHILD_BAD_SIGNATURE');
  check(
    childTx(signHeader({ ...g1.header, height: 0 + 1, stateMax: 400n }, grand.key.secretKey)),
    'CHILD_OUT_OF_BOUNDS',
  );
  p.childRoot(g1, 200n);
  const s2 = expectOk(validateBlock(s1, p.seal(20).block.bytes));
  const again = encodeTx({ kind: 'childRoot', child: g1, path: p.tree.memberPath(200n) });
  expectCode(validateBlock(s2, craft(top, s2, [again])), 'CHILD_HEIGHT_NOT_INCREASING');
});

test('the producer refuses what validators would reject, and changes nothing', () => {
  const { top } = setup();
  const alice = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const root = p.tree.root;
  expectThrows(() => p.create({ start: 50n, end: 60n, owner: alice.publicKey }), 'OVERLAP');
  expectThrows(() => p.create({ start: SPACE, end: SPACE + 1n, owner: alice.publicKey }), 'OUT_OF_SPACE');
  expectThrows(
    () => p.owner(act(top.genesis, p.tree.get(0n)!, generateKeyPair(), { kind: 'close' }), 0n),
    'BAD_OWNER_SIGNATURE',
  );
  expectThrows(() => p.owner(act(top.genesis, p.tree.get(0n)!, alice, { kind: 'close' }), 7n), 'NOT_FOUND');
  assert.equal(hex(p.tree.root), hex(root));
  assert.equal(p.pendingCount, 1);
  assert.equal(p.tree.size, 1);
});

test('tampering with any byte of a block is rejected', () => {
  const { top } = setup();
  const alice = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  p.create({ start: 100n, end: 200n, owner: alice.publicKey });
  p.owner(
    act(top.genesis, p.tree.get(0n)!, alice, {
      kind: 'transfer',
      newOwner: generateKeyPair().publicKey,
      terms: new Uint8Array(0),
    }),
    0n,
  );
  const bytes = p.seal(10).block.bytes;
  const s0 = genesisState(top.genesis);
  expectOk(validateBlock(s0, bytes));
  const codes = new Map<string, number>();
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x80]) {
      const t = Uint8Array.from(bytes);
      t[i] ^= mask;
      const r = validateBlock(s0, t);
      assert.equal(r.ok, false, `flipping bit ${mask} of byte ${i} was accepted`);
      if (!r.ok) codes.set(r.error.code, (codes.get(r.error.code) ?? 0) + 1);
    }
  }
  // Truncation anywhere is rejected too.
  for (let n = 0; n < bytes.length; n += 7) assert.equal(validateBlock(s0, bytes.subarray(0, n)).ok, false);
  assert.ok(codes.size >= 3, `failures are told apart: ${[...codes.keys()].join(',')}`);
});

test('genesis records with the wrong shape are refused', () => {
  const key = generateKeyPair();
  const base = {
    operatorKey: key.publicKey,
    spaceStart: 0n,
    spaceEnd: 10n,
    parentChain: new Uint8Array(0),
    parentContract: 0n,
    expiry: 0,
    amount: 0n,
    name: 'x',
    salt: new Uint8Array(0),
  };
  assert.throws(() => makeGenesis({ ...base, spaceEnd: 0n }), /empty probability space/);
  assert.throws(() => makeGenesis({ ...base, operatorKey: new Uint8Array(31) }), /32 bytes/);
  assert.throws(() => makeGenesis({ ...base, parentContract: 5n }), /no parent contract/);
  assert.throws(() => makeGenesis({ ...base, name: 'x'.repeat(65) }), /name/);
  assert.equal(makeGenesis(base).chainId.length, 32);
  assert.equal(hex(makeGenesis(base).chainId), hex(makeGenesis(base).chainId));
  void EMPTY_ROOT;
  void ChainProducer;
});

after(() => {
  // Every protocol error code is produced by at least one test above.
  const missing = CHAIN_ERROR_CODES.filter((c) => !seen.has(c));
  assert.deepEqual(missing, [], `error codes never produced: ${missing.join(', ')}`);
});
