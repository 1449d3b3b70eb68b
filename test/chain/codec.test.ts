import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sortition } from '../../src/gen/proto.js';
import { decodeCanonical } from '../../src/codec/canonical.js';
import { DecodeError } from '../../src/codec/errors.js';
import { decodeContract, encodeContract } from '../../src/tree/contract.js';
import { decodeGenesis, makeGenesis } from '../../src/chain/genesis.js';
import { decodeHeader, decodeSignedHeader, encodeHeader } from '../../src/chain/header.js';
import { decodeBlock } from '../../src/chain/block.js';
import { decodeAction, decodeTx, encodeAction, encodeTx } from '../../src/chain/tx.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { ownerKey } from '../helpers/contracts.js';
import { LIMITS } from '../../src/codec/limits.js';
import { PAST_SAFE, withU64 } from '../helpers/u64.js';
import { codeOf } from '../helpers/errors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The DecodeError code `f` throws, 'none' when it decodes. */
const decodeCode = (f: () => unknown): string => codeOf(DecodeError, f) ?? 'none';

test('contracts round-trip for any field values', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 2n }),
      fc.bigInt({ min: 1n, max: 1n << 40n }),
      fc.nat(),
      fc.boolean(),
      fc.boolean(),
      (start, width, nonce, withTerms, withChild) => {
        const end = start + width >= 1n << 64n ? (1n << 64n) - 1n : start + width;
        const c = {
          start,
          end,
          owner: ownerKey(nonce),
          nonce,
          terms: withTerms ? new Uint8Array(32).fill(3) : new Uint8Array(0),
          child: withChild
            ? {
                chain: new Uint8Array(32).fill(1),
                operator: ownerKey(2),
                height: nonce,
                root: new Uint8Array(32).fill(9),
              }
            : undefined,
        };
        const bytes = encodeContract(c);
        const back = decodeContract(bytes);
        assert.equal(hex(encodeContract(back)), hex(bytes));
        assert.equal(back.start, start);
        assert.equal(back.end, end);
        assert.equal(back.nonce, nonce);
        assert.equal(back.child?.height, c.child?.height);
      },
    ),
  );
});

test('every message of a real chain round-trips byte for byte', () => {
  const anchor = anchorChain();
  // Version 1: its transactions are the messages (with a path each) this test round-trips.
  const top = childChain(anchor.genesis, 0n, SPACE, 'child', 1);
  const alice = generateKeyPair();
  const p = top.producer;
  p.create({ start: 0n, end: 100n, owner: alice.publicKey });
  p.create({ start: 100n, end: 200n, owner: alice.publicKey });
  p.owner(
    act(top.genesis, p.tree.get(0n)!, alice, {
      kind: 'transfer',
      newOwner: alice.publicKey,
      terms: new Uint8Array(32),
    }),
    0n,
  );
  p.owner(
    act(top.genesis, p.tree.get(100n)!, alice, {
      kind: 'split',
      at: 150n,
      rightOwner: alice.publicKey,
      rightTerms: new Uint8Array(0),
    }),
    100n,
  );
  p.owner(act(top.genesis, p.tree.get(150n)!, alice, { kind: 'close' }), 150n);
  const child = childChain(top.genesis, 100n, 150n);
  p.owner(
    act(top.genesis, p.tree.get(100n)!, alice, { kind: 'openChild', chainId: child.genesis.chainId }),
    100n,
    child.genesis,
  );
  p.childRoot(child.producer.seal(1).block.signed, 100n);
  const block = p.seal(5).block;

  assert.equal(hex(decodeGenesis(top.genesis.bytes).chainId), hex(top.genesis.chainId));
  assert.equal(hex(decodeBlock(block.bytes).bytes), hex(block.bytes));
  const sh = decodeSignedHeader(block.signed.bytes);
  assert.equal(hex(encodeHeader(decodeHeader(sh.headerBytes))), hex(sh.headerBytes));
  const kinds = new Set<string>();
  for (const t of block.txs) {
    const tx = decodeTx(t);
    kinds.add(tx.kind === 'owner' ? tx.signed.action.op.kind : tx.kind);
    assert.equal(hex(encodeTx(tx)), hex(t));
    if (tx.kind === 'owner')
      assert.equal(hex(encodeAction(decodeAction(tx.signed.bytes))), hex(tx.signed.bytes));
  }
  assert.deepEqual([...kinds].sort(), ['childRoot', 'close', 'create', 'openChild', 'split', 'transfer']);
});

test('unknown fields, duplicate fields, wrong wire types, trailing bytes and oversize input are typed errors', () => {
  const Pb = sortition.v1.Contract;
  const good = encodeContract({ start: 5n, end: 9n, owner: ownerKey(1), nonce: 2, terms: new Uint8Array(0) });
  const dec = (b: Uint8Array) => decodeCode(() => decodeContract(b));
  assert.equal(dec(good), 'none');
  assert.equal(dec(Uint8Array.from([...good, 0x50, 0x01])), 'DECODE_NONCANONICAL'); // field 10, unknown
  assert.equal(dec(Uint8Array.from([...good, 0x20, 0x02])), 'DECODE_NONCANONICAL'); // nonce again
  assert.equal(dec(Uint8Array.from([...good, 0x00])), 'DECODE_MALFORMED'); // a zero tag
  assert.equal(dec(Uint8Array.from([0x08, 0x05, ...good.subarray(9)])), 'DECODE_NONCANONICAL'); // start as varint
  assert.equal(dec(good.subarray(0, good.length - 1)), 'DECODE_MALFORMED');
  assert.equal(dec(new Uint8Array(LIMITS.contractBytes + 1)), 'DECODE_OVERSIZE');
  // A default value written out is a second encoding of the same contract.
  assert.equal(good.length, 54);
  const withZero = Uint8Array.from([...good, 0x2a, 0x00]); // terms (field 5), empty, after nonce (field 4)
  assert.equal(
    decodeCode(() => decodeCanonical(Pb, withZero, 512, 'contract')),
    'DECODE_NONCANONICAL',
  );
  // Fields out of order.
  const swapped = Uint8Array.from([...good.subarray(9, 18), ...good.subarray(0, 9), ...good.subarray(18)]);
  assert.equal(dec(swapped), 'DECODE_NONCANONICAL');
});

test('a height, time, nonce or expiry past 2^53 - 1 is DECODE_MALFORMED, whether decoded or encoded', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const alice = generateKeyPair();
  top.producer.create({ start: 0n, end: 100n, owner: alice.publicKey });
  const header = top.producer.seal(1).block.signed.header;
  const headerBytes = encodeHeader(header);
  const action = act(top.genesis, top.producer.tree.get(0n)!, alice, { kind: 'close' }).action;
  const actionBytes = encodeAction(action);
  const link = {
    chain: new Uint8Array(32).fill(1),
    operator: ownerKey(2),
    height: 1,
    root: new Uint8Array(32),
  };
  const contract = {
    start: 5n,
    end: 9n,
    owner: ownerKey(1),
    nonce: 1,
    terms: new Uint8Array(0),
    child: link,
  };
  const contractBytes = encodeContract(contract);
  const g = top.genesis.genesis;
  // Each value is one a u64 field can carry: the bytes are otherwise canonical, so only the range can object.
  for (const v of PAST_SAFE) {
    const cases: [string, () => unknown][] = [
      ['header height', () => decodeHeader(withU64(sortition.v1.Header, headerBytes, 'height', v))],
      ['header time', () => decodeHeader(withU64(sortition.v1.Header, headerBytes, 'timeMs', v))],
      ['action nonce', () => decodeAction(withU64(sortition.v1.OwnerAction, actionBytes, 'nonce', v))],
      ['contract nonce', () => decodeContract(withU64(sortition.v1.Contract, contractBytes, 'nonce', v))],
      ['child height', () => decodeContract(withU64(sortition.v1.Contract, contractBytes, 'childHeight', v))],
      ['genesis expiry', () => decodeGenesis(withU64(sortition.v1.Genesis, top.genesis.bytes, 'expiry', v))],
    ];
    for (const [what, f] of cases) assert.equal(decodeCode(f), 'DECODE_MALFORMED', `${what} = ${v}`);
  }
  // The largest value allowed still round-trips.
  const max = Number.MAX_SAFE_INTEGER;
  assert.equal(decodeHeader(encodeHeader({ ...header, height: max, timeMs: max })).timeMs, max);
  assert.equal(decodeAction(encodeAction({ ...action, nonce: max })).nonce, max);
  assert.equal(decodeContract(encodeContract({ ...contract, nonce: max })).nonce, max);
  // Encoders refuse what decoders refuse, with the same code (an API request must not meet a RangeError).
  const past = 2 ** 53;
  const refused: [string, () => unknown][] = [
    ['header height', () => encodeHeader({ ...header, height: past })],
    ['header time', () => encodeHeader({ ...header, timeMs: past })],
    ['action nonce', () => encodeAction({ ...action, nonce: past })],
    ['fractional nonce', () => encodeAction({ ...action, nonce: 1.5 })],
    ['contract nonce', () => encodeContract({ ...contract, nonce: past })],
    ['child height', () => encodeContract({ ...contract, child: { ...link, height: past } })],
    ['genesis expiry', () => makeGenesis({ ...g, expiry: past })],
    [
      'split point',
      () =>
        encodeAction({
          ...action,
          op: { kind: 'split', at: 1n << 64n, rightOwner: ownerKey(1), rightTerms: new Uint8Array(0) },
        }),
    ],
  ];
  for (const [what, f] of refused) assert.equal(decodeCode(f), 'DECODE_MALFORMED', what);
});
