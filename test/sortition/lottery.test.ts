// Settlement lottery (issue 6, part 1): the winning point, winner proofs down a two-level hierarchy (anchor ->
// top chain -> child chain), forged proofs, winning frequencies, and the `draw winner` CLI.
// Every key is derived from a label, so every chain id, beacon and point is the same on every run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, taggedHash } from '../../src/crypto/hash.js';
import { keyPairFromSecret, sign, type KeyPair } from '../../src/crypto/keys.js';
import { makeGenesis, type GenesisRecord } from '../../src/chain/genesis.js';
import { signHeader, type SignedHeader } from '../../src/chain/header.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { beaconOf } from '../../src/chain/state.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import {
  buildPointProof,
  buildWinnerProof,
  decodeLookupPath,
  encodeLookupPath,
  LotteryError,
  runWinnerJson,
  settlementBeacon,
  trustRoots,
  verifyPointProof,
  verifyWinner,
  winnerProofFromJson,
  winnerProofToJson,
  winnerToJson,
  winningPoint,
  type LotteryChain,
  type LotteryErrorCode,
  type LotteryTrust,
  type LotteryWinner,
  type WinnerLevel,
} from '../../src/sortition/index.js';
import { act, SPACE } from '../helpers/chains.js';
import { chiSquare, CHI2_CRITICAL_P001 } from './stats.js';
import { inputFiles, runDraw } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const text = (s: string) => new TextEncoder().encode(s);
const key = (label: string): KeyPair => keyPairFromSecret(sha256(text(`lottery-test/${label}`)));
const EXPIRY = 3;

function expectLottery(f: () => unknown, code: LotteryErrorCode): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LotteryError, `expected LotteryError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

function genesis(
  k: KeyPair,
  name: string,
  space: [bigint, bigint],
  parent?: GenesisRecord,
  salt = '',
): GenesisRecord {
  return makeGenesis({
    operatorKey: k.publicKey,
    spaceStart: space[0],
    spaceEnd: space[1],
    parentChain: parent ? parent.chainId : new Uint8Array(0),
    parentContract: parent ? space[0] : 0n,
    expiry: parent ? EXPIRY : 0,
    amount: 0n,
    name,
    salt: text(salt),
  });
}

/** The anchor's beacon at `height`, computable in advance: the signatures are deterministic. */
function predictBeacon(anchorKey: KeyPair, anchor: GenesisRecord, height: number): Uint8Array {
  let b = anchor.chainId;
  for (let h = 1; h <= height; h++) b = beaconOf(sign(anchorKey.secretKey, taggedHash('beaconSig', b)));
  return b;
}

type Slot = readonly [start: bigint, end: bigint, owner: string];

interface Design {
  /** Plain contracts of the top chain. */
  readonly top: readonly Slot[];
  /** The top chain's contract opened as the child chain `sub`, and sub's contracts. */
  readonly sub: { readonly start: bigint; readonly end: bigint; readonly contracts: readonly Slot[] };
  /** A contract opened as a child chain that never produces a block (its committed root stays empty). */
  readonly zed?: { readonly start: bigint; readonly end: bigint };
}

interface Chain {
  readonly key: KeyPair;
  readonly genesis: GenesisRecord;
  readonly producer: ChainProducer;
}

function chain(label: string, space: [bigint, bigint], parent?: GenesisRecord, salt = ''): Chain {
  const k = key(label);
  const g = genesis(k, label, space, parent, salt);
  return { key: k, genesis: g, producer: new ChainProducer(g, k.secretKey) };
}

/**
 * anchor (height 1: registers `top` on [0, SPACE); height 2: commits top's root; height 3 = expiry: the beacon)
 * -> top (its contracts, one opened as `sub`, optionally one opened as the empty `zed`) -> sub (its contracts).
 * `design` receives the round-0 winning point, which is known before any contract exists.
 */
function world(design: (point0: bigint) => Design) {
  const anchor = chain('anchor', [0n, (1n << 64n) - 1n]);
  const top = chain('top', [0n, SPACE], anchor.genesis);
  const predicted = predictBeacon(anchor.key, anchor.genesis, EXPIRY);
  const d = design(winningPoint(predicted, top.genesis));
  const sub = chain('sub', [d.sub.start, d.sub.end], top.genesis);
  const zed = d.zed ? chain('zed', [d.zed.start, d.zed.end], top.genesis) : undefined;
  const carol = key('carol');

  anchor.producer.create({ start: 0n, end: SPACE, owner: top.key.publicKey });
  anchor.producer.owner(
    act(anchor.genesis, anchor.producer.tree.get(0n)!, top.key, {
      kind: 'openChild',
      chainId: top.genesis.chainId,
    }),
    0n,
    top.genesis,
  );
  anchor.producer.seal(1000);

  const tp = top.producer;
  for (const [s, e, o] of d.top) tp.create({ start: s, end: e, owner: key(o).publicKey });
  for (const c of zed ? [sub, zed] : [sub]) {
    const start = c.genesis.genesis.spaceStart;
    tp.create({ start, end: c.genesis.genesis.spaceEnd, owner: carol.publicKey });
    tp.owner(
      act(top.genesis, tp.tree.get(start)!, carol, { kind: 'openChild', chainId: c.genesis.chainId }),
      start,
      c.genesis,
    );
  }
  tp.seal(1100);

  for (const [s, e, o] of d.sub.contracts) sub.producer.create({ start: s, end: e, owner: key(o).publicKey });
  const subHead = sub.producer.seal(1200).block.signed;
  tp.childRoot(subHead, d.sub.start);
  const topHead = tp.seal(1300).block.signed;
  anchor.producer.childRoot(topHead, 0n);
  anchor.producer.seal(1400);
  const expiryHeader = anchor.producer.seal(1500).block.signed;
  assert.equal(expiryHeader.header.height, EXPIRY);

  const beacon = settlementBeacon(anchor.genesis, expiryHeader, top.genesis);
  assert.equal(hex(beacon), hex(predicted));
  const anchoredTopRoot = anchor.producer.tree.get(0n)!.contract.child!.root;
  assert.equal(hex(anchoredTopRoot), hex(topHead.header.stateRoot));
  const trust = trustRoots([[top.genesis.chainId, anchoredTopRoot]]);
  const chains: LotteryChain[] = [
    { genesis: top.genesis, header: topHead, tree: tp.tree },
    { genesis: sub.genesis, header: subHead, tree: sub.producer.tree },
  ];
  return { anchor, top, sub, zed, beacon, trust, chains, topHead, subHead, expiryHeader };
}

// The main fixture: adjacent contracts, gaps on both levels, and an empty child chain.
const MAIN: Design = {
  top: [
    [100n, 200n, 'alice'],
    [200n, 300n, 'bob'],
    [5000n, 6000n, 'alice'],
  ],
  sub: {
    start: 1000n,
    end: 5000n,
    contracts: [
      [1000n, 1500n, 'dave'],
      [2000n, 2500n, 'erin'],
    ],
  },
  zed: { start: 6000n, end: 7000n },
};

type Expect = { contract: [bigint, string] } | { operator: string; gap: [bigint, bigint] };

function describe(w: LotteryWinner, names: Map<string, string>): Expect {
  if (w.kind === 'contract') return { contract: [w.contract.start, names.get(hex(w.contract.owner)) ?? '?'] };
  return { operator: names.get(hex(w.chainId)) ?? '?', gap: [w.gap.start, w.gap.end] };
}

test('winningPoint is start + Int_be(H(lottery, beacon || chain id || u64be(round))) mod width, in range', () => {
  const beacon = sha256(text('beacon'));
  const g = genesis(key('g'), 'g', [1000n, 1000n + 12345n], genesis(key('p'), 'p', [0n, 1n << 40n]));
  // Independent recomputation from the specification's bytes.
  const pre = new Uint8Array([
    ...text('sortition/1/lottery\0'),
    ...beacon,
    ...g.chainId,
    ...[0, 0, 0, 0, 0, 0, 1, 2],
  ]);
  const expected = 1000n + (BigInt('0x' + hex(sha256(pre))) % 12345n);
  assert.equal(winningPoint(beacon, g, 258), expected);
  assert.equal(winningPoint(beacon, g, 258), winningPoint(Uint8Array.from(beacon), g, 258));
  assert.equal(winningPoint(beacon, g), winningPoint(beacon, g, 0));

  const seen = new Set<bigint>();
  for (let r = 0; r < 500; r++) {
    const p = winningPoint(beacon, g, r);
    assert.ok(p >= 1000n && p < 1000n + 12345n, `point ${p} out of range`);
    seen.add(p);
  }
  assert.ok(seen.size > 480, 'rounds give different points');
  assert.notEqual(winningPoint(sha256(text('other')), g, 0), winningPoint(beacon, g, 0));

  const one = genesis(key('g'), 'one', [77n, 78n], genesis(key('p'), 'p', [0n, 1n << 40n]));
  for (let r = 0; r < 20; r++) assert.equal(winningPoint(beacon, one, r), 77n);
  const full = genesis(key('a'), 'full', [0n, (1n << 64n) - 1n]);
  for (let r = 0; r < 50; r++) assert.ok(winningPoint(beacon, full, r) < (1n << 64n) - 1n);

  expectLottery(() => winningPoint(new Uint8Array(31), g), 'LOTTERY_INVALID_ARGUMENT');
  expectLottery(() => winningPoint(beacon, g, -1), 'LOTTERY_INVALID_ARGUMENT');
  expectLottery(() => winningPoint(beacon, g, 1.5), 'LOTTERY_INVALID_ARGUMENT');
});

test('two-level proofs: interval starts are inside, ends outside, gaps at both levels go to that operator', () => {
  const w = world(() => MAIN);
  const names = new Map<string, string>([
    [hex(w.top.genesis.chainId), 'top'],
    [hex(w.sub.genesis.chainId), 'sub'],
    [hex(w.zed!.genesis.chainId), 'zed'],
  ]);
  for (const n of ['alice', 'bob', 'dave', 'erin']) names.set(hex(key(n).publicKey), n);
  const cases: [bigint, Expect, number][] = [
    [0n, { operator: 'top', gap: [0n, 100n] }, 1],
    [99n, { operator: 'top', gap: [0n, 100n] }, 1],
    [100n, { contract: [100n, 'alice'] }, 1],
    [199n, { contract: [100n, 'alice'] }, 1],
    [200n, { contract: [200n, 'bob'] }, 1], // alice's end is outside, bob's start inside
    [299n, { contract: [200n, 'bob'] }, 1],
    [300n, { operator: 'top', gap: [300n, 1000n] }, 1],
    [999n, { operator: 'top', gap: [300n, 1000n] }, 1],
    [1000n, { contract: [1000n, 'dave'] }, 2], // start of the holding contract and of dave's
    [1499n, { contract: [1000n, 'dave'] }, 2],
    [1500n, { operator: 'sub', gap: [1500n, 2000n] }, 2],
    [1999n, { operator: 'sub', gap: [1500n, 2000n] }, 2],
    [2000n, { contract: [2000n, 'erin'] }, 2],
    [2500n, { operator: 'sub', gap: [2500n, 5000n] }, 2],
    [4999n, { operator: 'sub', gap: [2500n, 5000n] }, 2], // gap clipped to the child's space
    [5000n, { contract: [5000n, 'alice'] }, 1], // the holding contract's end is outside it
    [6000n, { operator: 'zed', gap: [6000n, 7000n] }, 1], // empty child chain: no child level needed
    [6999n, { operator: 'zed', gap: [6000n, 7000n] }, 1],
    [7000n, { operator: 'top', gap: [7000n, SPACE] }, 1],
    [SPACE - 1n, { operator: 'top', gap: [7000n, SPACE] }, 1],
  ];
  for (const [point, want, depth] of cases) {
    const levels = buildPointProof(point, w.chains);
    assert.equal(levels.length, depth, `levels for ${point}`);
    const got = verifyPointProof(levels, point, w.trust);
    assert.deepEqual(describe(got, names), want, `winner of ${point}`);
  }
  expectLottery(() => buildPointProof(SPACE, w.chains), 'LOTTERY_INVALID_ARGUMENT');
  expectLottery(
    () => verifyPointProof(buildPointProof(0n, w.chains), SPACE, w.trust),
    'LOTTERY_INVALID_ARGUMENT',
  );

  // The settlement draw itself, checked by a validator holding the anchored root and beacon.
  const proof = buildWinnerProof(w.beacon, w.chains, 0);
  const r = verifyWinner(proof, w.beacon, w.trust);
  assert.equal(r.point, winningPoint(w.beacon, w.top.genesis, 0));
  assert.deepEqual(r.winner, verifyPointProof(buildPointProof(r.point, w.chains), r.point, w.trust));

  // Paths survive their encoding; the JSON form round-trips.
  for (const l of buildPointProof(2000n, w.chains)) {
    const bytes = encodeLookupPath(l.path);
    assert.equal(hex(encodeLookupPath(decodeLookupPath(bytes))), hex(bytes));
  }
  const json = JSON.parse(JSON.stringify(winnerProofToJson(proof, w.beacon))) as unknown;
  const back = winnerProofFromJson(json);
  assert.equal(hex(back.beacon), hex(w.beacon));
  assert.deepEqual(verifyWinner(back.proof, back.beacon, w.trust), r);
});

test('the anchored beacon at expiry decides the point, which lands on a child contract start', () => {
  let p0 = 0n;
  const w = world((p) => {
    p0 = p;
    const lo = p - 5000n;
    return {
      top: [[lo - 100n, lo, 'alice']],
      sub: {
        start: lo,
        end: p + 5000n,
        contracts: [
          [p - 10n, p, 'bob'], // ends exactly at the point: outside
          [p, p + 10n, 'dave'], // starts exactly at the point: inside
        ],
      },
    };
  });
  const proof = buildWinnerProof(w.beacon, w.chains);
  assert.equal(proof.levels.length, 2);
  const r = verifyWinner(proof, w.beacon, w.trust);
  assert.equal(r.point, p0);
  assert.equal(r.winner.kind, 'contract');
  if (r.winner.kind === 'contract') {
    assert.equal(hex(r.winner.chainId), hex(w.sub.genesis.chainId));
    assert.equal(r.winner.contract.start, p0);
    assert.equal(hex(r.winner.contract.owner), hex(key('dave').publicKey));
  }
  // Another round draws another point from the same beacon.
  assert.notEqual(verifyWinner(buildWinnerProof(w.beacon, w.chains, 1), w.beacon, w.trust).point, p0);

  // The beacon must come from the anchor's own header at exactly the expiry height.
  const { anchor, top, expiryHeader } = w;
  const earlier = anchor.producer.state.height; // 3 = expiry; seal one more for a later header
  assert.equal(earlier, EXPIRY);
  const later = anchor.producer.seal(1600).block.signed;
  expectLottery(() => settlementBeacon(anchor.genesis, later, top.genesis), 'LOTTERY_BAD_BEACON');
  expectLottery(() => settlementBeacon(top.genesis, w.topHead, top.genesis), 'LOTTERY_BAD_BEACON');
  expectLottery(
    () =>
      settlementBeacon(
        anchor.genesis,
        signHeader(expiryHeader.header, key('mallory').secretKey),
        top.genesis,
      ),
    'LOTTERY_BAD_SIGNATURE',
  );
  expectLottery(() => settlementBeacon(anchor.genesis, expiryHeader, anchor.genesis), 'LOTTERY_BAD_BEACON');
});

function replaceLevel(levels: readonly WinnerLevel[], i: number, patch: Partial<WinnerLevel>): WinnerLevel[] {
  return levels.map((l, j) => (j === i ? { ...l, ...patch } : l));
}

test('forged proofs fail with named codes', () => {
  const w = world(() => MAIN);
  const mallory = key('mallory');
  const good = buildPointProof(2000n, w.chains); // erin's contract in sub
  assert.equal(verifyPointProof(good, 2000n, w.trust).kind, 'contract');

  // Wrong signatures, at either level; a header changed after signing.
  const resigned = (sh: SignedHeader) => signHeader(sh.header, mallory.secretKey);
  for (const i of [0, 1]) {
    const bad = replaceLevel(good, i, { header: resigned(good[i].header) });
    expectLottery(() => verifyPointProof(bad, 2000n, w.trust), 'LOTTERY_BAD_SIGNATURE');
  }
  const altered = signHeader({ ...w.subHead.header, timeMs: 1 }, w.sub.key.secretKey);
  const spliced: SignedHeader = { ...altered, signature: w.subHead.signature };
  expectLottery(
    () => verifyPointProof(replaceLevel(good, 1, { header: spliced }), 2000n, w.trust),
    'LOTTERY_BAD_SIGNATURE',
  );

  // A child level that is not the chain the parent's contract holds: same operator, space, parent and
  // contracts (so the very same state root), other salt.
  const impostor = chain('sub', [1000n, 5000n], w.top.genesis, 'impostor');
  for (const [s, e, o] of MAIN.sub.contracts)
    impostor.producer.create({ start: s, end: e, owner: key(o).publicKey });
  const impHead = impostor.producer.seal(1200).block.signed;
  assert.equal(hex(impHead.header.stateRoot), hex(w.subHead.header.stateRoot));
  const withImpostor = replaceLevel(good, 1, {
    genesis: impostor.genesis,
    header: impHead,
    path: impostor.producer.tree.lookupPath(2000n),
  });
  expectLottery(() => verifyPointProof(withImpostor, 2000n, w.trust), 'LOTTERY_BROKEN_CHAIN');
  // A level whose header is another chain's.
  expectLottery(
    () => verifyPointProof(replaceLevel(good, 1, { header: impHead }), 2000n, w.trust),
    'LOTTERY_BROKEN_CHAIN',
  );
  // Levels going on past a decided point (a top-level gap), and levels in the wrong order.
  const gapProof = buildPointProof(300n, w.chains);
  expectLottery(
    () =>
      verifyPointProof(
        [...gapProof, { ...good[1], path: w.sub.producer.tree.lookupPath(300n) }],
        300n,
        w.trust,
      ),
    'LOTTERY_BROKEN_CHAIN',
  );
  expectLottery(() => verifyPointProof([good[1], good[0]], 2000n, w.trust), 'LOTTERY_UNTRUSTED');

  // A proof that stops at a contract holding a non-empty child chain; an operator without the child's tree.
  expectLottery(() => verifyPointProof([good[0]], 2000n, w.trust), 'LOTTERY_INCOMPLETE');
  expectLottery(() => buildPointProof(2000n, [w.chains[0]]), 'LOTTERY_INCOMPLETE');
  expectLottery(() => verifyPointProof([], 2000n, w.trust), 'LOTTERY_INCOMPLETE');

  // Tampered paths: another point's path, a changed leaf, a changed sibling range or digest.
  const dave = buildPointProof(1000n, w.chains);
  expectLottery(
    () => verifyPointProof(replaceLevel(good, 1, { path: dave[1].path }), 2000n, w.trust),
    'LOTTERY_PROOF_INVALID',
  );
  expectLottery(
    () => verifyPointProof(replaceLevel(good, 0, { path: gapProof[0].path }), 2000n, w.trust),
    'LOTTERY_PROOF_INVALID',
  );
  const p1 = good[1].path;
  const leaf = makeLeaf({ ...p1.leaf!.contract, owner: mallory.publicKey });
  expectLottery(
    () => verifyPointProof(replaceLevel(good, 1, { path: { ...p1, leaf } }), 2000n, w.trust),
    'LOTTERY_PROOF_INVALID',
  );
  assert.ok(p1.steps.length > 0);
  const mins = [...p1.siblingMin];
  mins[0] = mins[0] + 1n;
  expectLottery(
    () => verifyPointProof(replaceLevel(good, 1, { path: { ...p1, siblingMin: mins } }), 2000n, w.trust),
    'LOTTERY_PROOF_INVALID',
  );
  const sibs = p1.siblings.map((s) => Uint8Array.from(s));
  sibs[0][0] ^= 1;
  expectLottery(
    () => verifyPointProof(replaceLevel(good, 1, { path: { ...p1, siblings: sibs } }), 2000n, w.trust),
    'LOTTERY_PROOF_INVALID',
  );

  // Trust: none for the settling chain, another root, or a different root for the child chain.
  expectLottery(() => verifyPointProof(good, 2000n, trustRoots([])), 'LOTTERY_UNTRUSTED');
  const wrongRoot = trustRoots([[w.top.genesis.chainId, w.subHead.header.stateRoot]]);
  expectLottery(() => verifyPointProof(good, 2000n, wrongRoot), 'LOTTERY_ROOT_MISMATCH');
  const childTrust = trustRoots([
    [w.top.genesis.chainId, w.topHead.header.stateRoot],
    [w.sub.genesis.chainId, w.topHead.header.stateRoot],
  ]);
  expectLottery(() => verifyPointProof(good, 2000n, childTrust), 'LOTTERY_ROOT_MISMATCH');
  const sameChildTrust = trustRoots([
    [w.top.genesis.chainId, w.topHead.header.stateRoot],
    [w.sub.genesis.chainId, w.subHead.header.stateRoot],
  ]);
  assert.equal(verifyPointProof(good, 2000n, sameChildTrust).kind, 'contract');

  // A child header that is not the root committed in the parent: the child moved on after the commit.
  w.sub.producer.create({ start: 3000n, end: 3100n, owner: mallory.publicKey });
  const subLater = w.sub.producer.seal(2000).block.signed;
  const later: LotteryChain = { genesis: w.sub.genesis, header: subLater, tree: w.sub.producer.tree };
  const stale = replaceLevel(good, 1, { header: subLater, path: later.tree.lookupPath(3000n) });
  expectLottery(() => verifyPointProof(stale, 3000n, w.trust), 'LOTTERY_ROOT_MISMATCH');
  expectLottery(() => buildPointProof(3000n, [w.chains[0], later]), 'LOTTERY_ROOT_MISMATCH');
  // ... and a top header that is not the anchored root.
  w.top.producer.create({ start: 400n, end: 500n, owner: mallory.publicKey });
  const topLater = w.top.producer.seal(2100).block.signed;
  const topLevel = { genesis: w.top.genesis, header: topLater, tree: w.top.producer.tree };
  expectLottery(
    () => verifyPointProof(buildPointProof(400n, [topLevel]), 400n, w.trust),
    'LOTTERY_ROOT_MISMATCH',
  );
  // A tree that is not the header's: the operator cannot build from it.
  expectLottery(() => buildPointProof(400n, [{ ...topLevel, header: w.topHead }]), 'LOTTERY_ROOT_MISMATCH');
});

test('a parent state that links a contract to a chain of another space or operator breaks the chain', () => {
  // Validators would reject such a state as an invalid transition; a lottery verifier only sees a signed root.
  const w = world(() => MAIN);
  const carol = key('carol');
  const wide = chain('sub', [1000n, 9000n], w.top.genesis, 'wide');
  const subHeadOf = (c: Chain) => {
    for (const [s, e, o] of MAIN.sub.contracts)
      c.producer.create({ start: s, end: e, owner: key(o).publicKey });
    return c.producer.seal(1200).block.signed;
  };
  const cases: [Chain, Uint8Array][] = [
    [wide, wide.genesis.genesis.operatorKey], // the child's space is not the contract's interval
    [chain('sub', [1000n, 5000n], w.top.genesis, 'other-op'), key('mallory').publicKey], // operator differs
  ];
  for (const [child, operator] of cases) {
    const head = subHeadOf(child);
    const holder = makeLeaf({
      start: 1000n,
      end: 5000n,
      owner: carol.publicKey,
      nonce: 1,
      terms: new Uint8Array(0),
      child: { chain: child.genesis.chainId, operator, height: 1, root: head.header.stateRoot },
    });
    const tree = ProbabilityTree.fromLeaves([holder]);
    const sh = signHeader(
      { ...w.topHead.header, stateRoot: tree.root, stateMin: 1000n, stateMax: 5000n },
      w.top.key.secretKey,
    );
    const chains: LotteryChain[] = [
      { genesis: w.top.genesis, header: sh, tree },
      { genesis: child.genesis, header: head, tree: child.producer.tree },
    ];
    const levels = buildPointProof(2000n, chains);
    assert.equal(levels.length, 2);
    const trust = trustRoots([[w.top.genesis.chainId, tree.root]]);
    expectLottery(() => verifyPointProof(levels, 2000n, trust), 'LOTTERY_BROKEN_CHAIN');
  }
});

// Contract widths in percent of the top chain's space, for frequencies and the CLI.
const pct = (k: bigint) => (SPACE * k) / 100n;
const FREQ: Design = {
  top: [
    [pct(0n), pct(10n), 'alice'],
    [pct(10n), pct(25n), 'bob'],
    [pct(80n), pct(90n), 'alice2'],
  ],
  sub: {
    start: pct(30n),
    end: pct(70n),
    contracts: [
      [pct(30n), pct(40n), 'dave'],
      [pct(45n), pct(60n), 'erin'],
    ],
  },
};

test('winning frequencies over many rounds match contract widths (chi-square, p = 0.001)', () => {
  const design = FREQ;
  const w = world(() => design);
  const labels = ['alice', 'bob', 'alice2', 'dave', 'erin', 'top', 'sub'];
  const weights = [10, 15, 10, 10, 15, 25, 15];
  const names = new Map<string, string>([
    [hex(w.top.genesis.chainId), 'top'],
    [hex(w.sub.genesis.chainId), 'sub'],
  ]);
  for (const n of labels.slice(0, 5)) names.set(hex(key(n).publicKey), n);
  const classify = (x: LotteryWinner): string =>
    x.kind === 'contract' ? names.get(hex(x.contract.owner))! : names.get(hex(x.chainId))!;

  // Fast classification by the operator's trees; a sample is checked through full proofs.
  const tops = w.chains[0].tree;
  const subs = w.chains[1].tree;
  const byTree = (point: bigint): string => {
    const found = tops.lookup(point, 0n, SPACE);
    if (found.kind === 'gap') return 'top';
    if (!found.leaf.contract.child) return names.get(hex(found.leaf.contract.owner))!;
    const inner = subs.lookup(point, design.sub.start, design.sub.end);
    return inner.kind === 'gap' ? 'sub' : names.get(hex(inner.leaf.contract.owner))!;
  };
  const rounds = 20_000;
  const counts = new Map<string, number>(labels.map((l) => [l, 0]));
  for (let r = 0; r < rounds; r++) {
    const point = winningPoint(w.beacon, w.top.genesis, r);
    assert.ok(point >= 0n && point < SPACE);
    const who = byTree(point);
    counts.set(who, counts.get(who)! + 1);
    if (r < 300) {
      const res = verifyWinner(buildWinnerProof(w.beacon, w.chains, r), w.beacon, w.trust);
      assert.equal(res.point, point);
      assert.equal(classify(res.winner), who, `round ${r}`);
    }
  }
  const observed = labels.map((l) => counts.get(l)!);
  const expected = weights.map((x) => (rounds * x) / 100);
  const chi2 = chiSquare(observed, expected);
  assert.ok(
    chi2 < CHI2_CRITICAL_P001[labels.length - 1],
    `chi-square ${chi2.toFixed(2)} for ${JSON.stringify(Object.fromEntries(counts))}`,
  );
});

// --- draw winner CLI ----------------------------------------------------------------------------------------

const { file } = inputFiles('draw-winner-');

test('draw winner verifies a proof file and prints the point and the winner', () => {
  const w = world(() => FREQ);
  // The fixture is deterministic: take the first round whose point falls into the child chain (two levels).
  let round = 0;
  let proof = buildWinnerProof(w.beacon, w.chains, round);
  while (proof.levels.length < 2 && round < 10_000) proof = buildWinnerProof(w.beacon, w.chains, ++round);
  const input = winnerProofToJson(proof, w.beacon);
  const selfTrust: LotteryTrust = trustRoots([[w.top.genesis.chainId, w.topHead.header.stateRoot]]);
  const want = verifyWinner(proof, w.beacon, selfTrust);

  const ok = runDraw(['winner', '--input', file('proof.json', input)]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), {
    point: want.point.toString(),
    winner: winnerToJson(want.winner),
  });
  assert.match(ok.stderr, /full trust needs/);
  assert.deepEqual(runWinnerJson(input), JSON.parse(ok.stdout));

  const other = winnerProofToJson(buildWinnerProof(w.beacon, w.chains, round + 1), w.beacon);
  const viaStdin = runDraw(['winner', '--input', '-'], JSON.stringify(other));
  assert.equal(viaStdin.status, 0, viaStdin.stderr);

  // A flipped signature byte in the child's header.
  const forged = structuredClone(input);
  const h = forged.levels[1].header;
  forged.levels[1].header = h.slice(0, -2) + (h.slice(-2) === '00' ? '01' : '00');
  const bad = runDraw(['winner', '--input', file('forged.json', forged)]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /LOTTERY_BAD_SIGNATURE/);

  // Another round's point is not where these paths lead (or not in the child chain at all).
  let other2 = round + 1;
  const inSub = (r: number) => {
    const p = winningPoint(w.beacon, w.top.genesis, r);
    return p >= FREQ.sub.start && p < FREQ.sub.end;
  };
  while (inSub(other2)) other2++;
  const wrongRound = runDraw(['winner', '--input', file('round.json', { ...input, round: other2 })]);
  assert.equal(wrongRound.status, 2);
  assert.match(wrongRound.stderr, /LOTTERY_(PROOF_INVALID|BROKEN_CHAIN)/);

  const cases: [unknown, RegExp][] = [
    [{ ...input, levels: [] }, /LOTTERY_MALFORMED: levels: is empty/],
    [{ ...input, beacon: 'zz' }, /LOTTERY_MALFORMED: beacon: not an even-length hex/],
    [{ ...input, beacon: '00' }, /beacon: must be 32 bytes/],
    [{ levels: input.levels }, /beacon: is missing/],
    [{ ...input, round: -1 }, /round: expected a non-negative/],
    [{ ...input, levels: [{ ...input.levels[0], path: '0a' }] }, /levels\[0\]\.path: DECODE_MALFORMED/],
    [
      { ...input, levels: [{ ...input.levels[0], genesis: input.levels[0].genesis + '00' }] },
      /levels\[0\]\.genesis/,
    ],
    [[1, 2], /LOTTERY_MALFORMED: \$: expected a JSON object/],
    // A misspelt optional field would otherwise silently mean round 0.
    [{ ...input, rounds: 3 }, /LOTTERY_MALFORMED: rounds: is not a field/],
    [{ ...input, levels: [{ ...input.levels[0], proof: '00' }] }, /levels\[0\]\.proof: is not a field/],
  ];
  for (const [content, re] of cases) {
    const r = runDraw(['winner', '--input', file('bad.json', content)]);
    assert.equal(r.status, 2, `${JSON.stringify(content).slice(0, 80)}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const notJson = runDraw(['winner', '--input', file('broken.json', '{"beacon": ')]);
  assert.equal(notJson.status, 2);
  assert.match(notJson.stderr, /not valid JSON/);
});
