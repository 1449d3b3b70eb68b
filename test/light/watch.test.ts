import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { toHex } from '../../src/crypto/hash.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { decodeTx } from '../../src/chain/tx.js';
import { decodeBlock } from '../../src/chain/block.js';
import { makeGenesis, type GenesisRecord } from '../../src/chain/genesis.js';
import type { SignedHeader } from '../../src/chain/header.js';
import { pathRoot } from '../../src/tree/verify.js';
import type { Path } from '../../src/tree/path.js';
import { followBlock, WatchedPath, type WatchOp } from '../../src/light/watch.js';
import { act, anchorChain } from '../helpers/chains.js';

const U64 = 1n << 64n;

type Op =
  | { kind: 'create'; start: bigint; width: bigint; owner: number }
  | { kind: 'transfer'; pick: number; owner: number }
  | { kind: 'split'; pick: number; frac: number; owner: number }
  | { kind: 'close'; pick: number }
  | { kind: 'openChild'; pick: number }
  | { kind: 'childRoot'; pick: number }
  | { kind: 'seal' };

// Starts from a small range make dense neighbourhoods and deep shared prefixes; full 64-bit ones make sparse tries.
const position = fc.oneof(fc.bigInt({ min: 0n, max: 600n }), fc.bigInt({ min: 0n, max: U64 - 400n }));
const pick = fc.nat();
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      start: position,
      width: fc.bigInt({ min: 1n, max: 200n }),
      owner: fc.nat(2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('transfer' as const), pick, owner: fc.nat(2) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('split' as const),
      pick,
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
      owner: fc.nat(2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('openChild' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('childRoot' as const), pick }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'seal' as const }) },
);

const pathHex = (p: Path): string =>
  [
    toHex(p.steps),
    p.siblings.map(toHex).join(','),
    p.siblingMin.join(','),
    p.siblingMax.join(','),
    p.leaf ? toHex(p.leaf.bytes) : '',
  ].join('|');

const owners: KeyPair[] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];

/** A child chain opened in a contract, with its producer, so child-root transactions can commit its headers. */
interface Child {
  readonly genesis: GenesisRecord;
  readonly producer: ChainProducer;
}

test('watched paths equal the full tree paths after every block, over random operation sequences', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      // Watches are kept current from version 1's per-transaction paths (decodeTx below).
      const chain = anchorChain(1);
      const p = chain.producer;
      const tree = p.tree;
      const ownerOf = new Map<bigint, KeyPair>();
      const children = new Map<bigint, Child>();
      const watches = new Map<bigint, WatchedPath>();
      // What each touched watch must end as in the next block, per the model.
      const expected = new Map<bigint, { status: 'superseded' | 'closed'; op: WatchOp }>();
      const sealAndCheck = () => {
        const sealed = p.seal(0);
        const txs = decodeBlock(sealed.block.bytes).txs.map(decodeTx);
        const ended = followBlock(watches, txs);
        for (const [start, w] of watches) {
          const want = expected.get(start);
          if (want) {
            assert.equal(w.status, want.status, `watch ${start}`);
            assert.equal(w.end?.op, want.op);
            assert.ok(ended.includes(w));
            watches.delete(start);
            continue;
          }
          assert.equal(w.status, 'current', `watch ${start}`);
          const full = tree.memberPath(start);
          assert.equal(pathHex(w.toPath()), pathHex(full), `watch ${start} after ${sealed.state.height}`);
          assert.equal(toHex(pathRoot(w.toPath()).digest), toHex(sealed.state.stateRoot));
        }
        assert.equal(ended.length, expected.size);
        expected.clear();
        // Watch every contract not watched yet, from the tree as a holder would get it from the operator.
        for (const leaf of tree.leaves()) {
          const s = leaf.contract.start;
          if (!watches.has(s)) watches.set(s, WatchedPath.from(tree.memberPath(s)));
        }
      };
      for (const op of ops) {
        if (op.kind === 'seal') {
          sealAndCheck();
          continue;
        }
        if (op.kind === 'create') {
          const end = op.start + op.width >= U64 - 1n ? U64 - 1n : op.start + op.width;
          try {
            p.create({ start: op.start, end, owner: owners[op.owner].publicKey });
            ownerOf.set(op.start, owners[op.owner]);
          } catch {
            // Overlaps are the producer's to refuse; nothing changed.
          }
          continue;
        }
        // Child-root commits go to contracts that hold a chain, or they would hardly ever happen.
        const live = [...tree.leaves()].filter((l) => op.kind !== 'childRoot' || l.contract.child);
        if (live.length === 0) continue;
        const target = live[op.pick % live.length];
        const s = target.contract.start;
        // One change per contract and block keeps the model's expectation simple.
        if (expected.has(s)) continue;
        const key = ownerOf.get(s)!;
        const watched = watches.has(s);
        const touched = (op: WatchOp) => {
          if (watched) expected.set(s, { status: op === 'close' ? 'closed' : 'superseded', op });
        };
        switch (op.kind) {
          case 'transfer': {
            const to = owners[op.owner];
            p.owner(
              act(chain.genesis, target, key, {
                kind: 'transfer',
                newOwner: to.publicKey,
                terms: new Uint8Array(0),
              }),
              s,
            );
            ownerOf.set(s, to);
            touched('transfer');
            break;
          }
          case 'split': {
            if (target.contract.child) continue;
            const width = target.contract.end - s;
            if (width < 2n) continue;
            const at = s + 1n + BigInt(Math.floor(op.frac * Number(width - 2n)));
            const right = owners[op.owner];
            p.owner(
              act(chain.genesis, target, key, {
                kind: 'split',
                at,
                rightOwner: right.publicKey,
                rightTerms: new Uint8Array(0),
              }),
              s,
            );
            ownerOf.set(at, right);
            touched('split');
            break;
          }
          case 'close':
            if (target.contract.child) continue;
            p.owner(act(chain.genesis, target, key, { kind: 'close' }), s);
            ownerOf.delete(s);
            touched('close');
            break;
          case 'openChild': {
            if (target.contract.child) continue;
            const ck = generateKeyPair();
            const genesis = makeGenesis({
              operatorKey: ck.publicKey,
              spaceStart: s,
              spaceEnd: target.contract.end,
              parentChain: chain.genesis.chainId,
              parentContract: s,
              expiry: 0,
              amount: 1n,
              name: 'child',
              salt: new Uint8Array(0),
            });
            p.owner(
              act(chain.genesis, target, key, { kind: 'openChild', chainId: genesis.chainId }),
              s,
              genesis,
            );
            children.set(s, { genesis, producer: new ChainProducer(genesis, ck.secretKey) });
            touched('openChild');
            break;
          }
          case 'childRoot': {
            const child = children.get(s);
            if (!child || !target.contract.child) continue;
            const header: SignedHeader = child.producer.seal(0).block.signed;
            // A committed child root leaves the contract its holder's: the watch stays current.
            p.childRoot(header, s);
            break;
          }
        }
      }
      sealAndCheck();
    }),
    { numRuns: 60 },
  );
});

test('a watch on the only contract survives an insert beside it and ends when it is closed', () => {
  const chain = anchorChain(1);
  const p = chain.producer;
  const a = owners[0];
  p.create({ start: 100n, end: 200n, owner: a.publicKey });
  p.seal(0);
  const w = WatchedPath.from(p.tree.memberPath(100n));
  const watches = new Map([[100n, w]]);
  assert.equal(w.depth, 0);
  // The only leaf's sibling becomes the inserted leaf: the path gains the new node as its first level.
  p.create({ start: 300n, end: 400n, owner: a.publicKey });
  followBlock(watches, decodeBlock(p.seal(0).block.bytes).txs.map(decodeTx));
  assert.equal(w.depth, 1);
  assert.equal(pathHex(w.toPath()), pathHex(p.tree.memberPath(100n)));
  // Its sibling removed: the level goes again.
  p.owner(act(chain.genesis, p.tree.get(300n)!, a, { kind: 'close' }), 300n);
  followBlock(watches, decodeBlock(p.seal(0).block.bytes).txs.map(decodeTx));
  assert.equal(w.depth, 0);
  assert.equal(pathHex(w.toPath()), pathHex(p.tree.memberPath(100n)));
  p.owner(act(chain.genesis, p.tree.get(100n)!, a, { kind: 'close' }), 100n);
  const ended = followBlock(watches, decodeBlock(p.seal(0).block.bytes).txs.map(decodeTx));
  assert.deepEqual(ended, [w]);
  assert.equal(w.status, 'closed');
  assert.deepEqual(w.end, { status: 'closed', txIndex: 0, op: 'close' });
});
