import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock } from '../../src/chain/block.js';
import { isOperatorFault } from '../../src/chain/errors.js';
import {
  makeChildRootMismatch,
  makeEquivocation,
  makeInvalidTransition,
  verifyEvidence,
  type GenesisLookup,
} from '../../src/chain/evidence.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';
import { genesisState, stateAfter } from '../../src/chain/state.js';
import { decodeTx } from '../../src/chain/tx.js';
import { validateBlock } from '../../src/chain/validate.js';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair, verify } from '../../src/crypto/keys.js';
import { ConfigError } from '../../src/runtime/config.js';
import { prepareOperator } from '../../src/app/operator.js';
import { parseFaults } from '../../src/operator/faults.js';
import { Upstream } from '../../src/operator/upstream.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { quiet, removeDir, startChainNode, tempDir, waitFor, MemorySink } from './helpers.js';

function lookup(...gs: GenesisRecord[]): GenesisLookup {
  const m = new Map(gs.map((g) => [toHex(g.chainId), g]));
  return (id) => m.get(toHex(id));
}

test('fault injection is refused without the devnet flag', async () => {
  assert.throws(() => parseFaults(['equivocate@3'], false), ConfigError);
  assert.throws(() => parseFaults(['explode@3'], true), ConfigError);
  assert.throws(() => parseFaults(['equivocate@0'], true), ConfigError);
  assert.deepEqual(parseFaults(['equivocate@3', 'invalid@1', 'root-mismatch@7'], true), [
    { kind: 'equivocate', height: 3 },
    { kind: 'invalid', height: 1 },
    { kind: 'root-mismatch', height: 7 },
  ]);
  assert.deepEqual(parseFaults([], false), []);
  const dir = await tempDir();
  try {
    await assert.rejects(
      prepareOperator({ dataDir: dir, fault: ['equivocate@2'] }, { log: quiet, anchor: true }),
      (e: unknown) => e instanceof ConfigError && /--devnet/.test(e.message),
    );
  } finally {
    await removeDir(dir);
  }
});

test('equivocate@H: two valid signed blocks at height H', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const n = await startChainNode(top.genesis, top.key, { faults: [{ kind: 'equivocate', height: 2 }] });
  try {
    await n.svc.create({ start: 0n, end: 10n, owner: alice.publicKey });
    const b1 = await n.svc.sealNow();
    await n.svc.create({ start: 10n, end: 20n, owner: alice.publicKey });
    await n.svc.sealNow();
    const at2 = n.sink.published.filter((p) => p.height === 2);
    assert.equal(at2.length, 2);
    const [x, y] = at2.map((p) => decodeBlock(p.bytes));
    assert.notEqual(toHex(x.signed.hash), toHex(y.signed.hash));
    // Both are valid continuations of height 1: only the signatures prove the operator signed two histories.
    const s1 = stateAfter(top.genesis, b1.block.signed);
    for (const p of at2) assert.ok(validateBlock(s1, p.bytes).ok);
    const ev = verifyEvidence(makeEquivocation(x.signed, y.signed), lookup(top.genesis));
    assert.equal(ev.kind, 'equivocation');
    assert.equal(ev.height, 2);
    // The operator itself goes on with the block it stored.
    assert.equal(toHex(n.svc.head.headHash), toHex(x.signed.hash));
  } finally {
    await n.stop();
    await removeDir(n.dir);
  }
});

test('equivocate@H waits for a peer in the mesh, fires once, and not again after a restart past H', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const sink = new MemorySink();
  sink.mesh = 0;
  const faults = [{ kind: 'equivocate' as const, height: 2 }];
  let n = await startChainNode(top.genesis, top.key, { faults, sink });
  const twice = () =>
    new Set(
      sink.published
        .filter((p, _, all) => all.filter((q) => q.height === p.height).length > 1)
        .map((p) => p.height),
    );
  try {
    for (let i = 0; i < 3; i++) {
      await n.svc.create({ start: BigInt(i) * 10n, end: BigInt(i) * 10n + 5n, owner: alice.publicKey });
      await n.svc.sealNow();
    }
    assert.deepEqual([...twice()], [], 'nobody listening at heights 1-3: no fault yet');
    sink.mesh = 1;
    for (let i = 3; i < 6; i++) {
      await n.svc.create({ start: BigInt(i) * 10n, end: BigInt(i) * 10n + 5n, owner: alice.publicKey });
      await n.svc.sealNow();
    }
    assert.deepEqual([...twice()], [4], 'fired at the first height with a listener, once');
    await n.stop();
    n = await startChainNode(top.genesis, top.key, { faults, sink, dir: n.dir });
    await n.svc.create({ start: 100n, end: 105n, owner: alice.publicKey });
    await n.svc.sealNow();
    assert.deepEqual([...twice()], [4], 'a restarted operator past H does not fire again');
  } finally {
    await n.stop();
    await removeDir(n.dir);
  }
});

test('invalid@H: a signed block whose transition fails with an operator fault', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const n = await startChainNode(top.genesis, top.key, {
    faults: [
      { kind: 'invalid', height: 1 },
      { kind: 'invalid', height: 2 },
    ],
  });
  try {
    await n.svc.create({ start: 0n, end: 10n, owner: alice.publicKey });
    const b1 = await n.svc.sealNow();
    await n.svc.create({ start: 10n, end: 20n, owner: alice.publicKey });
    await n.svc.sealNow();
    const raw = n.sink.published.filter((p) => p.raw);
    assert.deepEqual(
      raw.map((p) => p.height),
      [1, 2],
    );
    // Height 1, empty tree: a sale outside the space. Height 2: selling a sold point again.
    const r1 = validateBlock(genesisState(top.genesis), raw[0].bytes);
    assert.ok(!r1.ok && r1.error.code === 'OUT_OF_SPACE' && isOperatorFault(r1.error));
    const s1 = stateAfter(top.genesis, b1.block.signed);
    const r2 = validateBlock(s1, raw[1].bytes);
    assert.ok(!r2.ok && r2.error.code === 'OVERLAP' && isOperatorFault(r2.error));
    const ev = verifyEvidence(
      makeInvalidTransition(b1.block.signed, decodeBlock(raw[1].bytes)),
      lookup(top.genesis),
    );
    assert.equal(ev.kind, 'invalid_transition');
    const ev1 = verifyEvidence(makeInvalidTransition(null, decodeBlock(raw[0].bytes)), lookup(top.genesis));
    assert.equal(ev1.height, 1);
    // The honest blocks were published too, and are valid.
    assert.equal(n.sink.rejected().length, 0);
    assert.equal(n.sink.published.filter((p) => !p.raw).length, 2);
  } finally {
    await n.stop();
    await removeDir(n.dir);
  }
});

test('root-mismatch@H: the child submits header X upward but gossips Y; the parent commit proves it', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const kid = childChain(top.genesis, 1000n, 2000n, 'kid');
  const alice = generateKeyPair();
  const parent = await startChainNode(top.genesis, top.key);
  const child = await startChainNode(kid.genesis, kid.key, {
    faults: [{ kind: 'root-mismatch', height: 1 }],
  });
  const upstream = new Upstream({
    parentApi: parent.url,
    log: quiet,
    minBackoffMs: 10,
    maxBackoffMs: 50,
  }).attach(child.svc);
  upstream.start();
  try {
    await parent.svc.create({ start: 1000n, end: 2000n, owner: alice.publicKey });
    await parent.svc.ownerAction({
      kind: 'owner',
      start: 1000n,
      signed: act(top.genesis, parent.svc.currentContract(1000n)!, alice, {
        kind: 'openChild',
        chainId: kid.genesis.chainId,
      }),
      childGenesis: kid.genesis,
    });
    await parent.svc.sealNow();

    await child.svc.create({ start: 1000n, end: 1100n, owner: alice.publicKey });
    const sealed = await child.svc.sealNow();
    const x = sealed.block.signed;
    await upstream.accepted(1);
    const parentBlock = (await parent.svc.sealNow()).block;
    const idx = parentBlock.txs.findIndex((t) => decodeTx(t).kind === 'childRoot');
    assert.ok(idx >= 0);
    const committed = decodeTx(parentBlock.txs[idx]);
    assert.ok(committed.kind === 'childRoot' && toHex(committed.child.hash) === toHex(x.hash));

    // What the network got from the child at height 1 is another header.
    const gossiped = child.sink.published.filter((p) => p.height === 1);
    assert.equal(gossiped.length, 1);
    const y = decodeBlock(gossiped[0].bytes).signed;
    assert.notEqual(toHex(y.hash), toHex(x.hash));
    assert.ok(verify(kid.key.publicKey, y.hash, y.signature));
    const ev = verifyEvidence(makeChildRootMismatch(parentBlock, idx, y), lookup(top.genesis, kid.genesis));
    assert.equal(ev.kind, 'child_root_mismatch');
    assert.equal(toHex(ev.chainId), toHex(kid.genesis.chainId));

    // Later child blocks still go upward (built on X): they reach the network raw.
    await child.svc.create({ start: 1100n, end: 1200n, owner: alice.publicKey });
    await child.svc.sealNow();
    await waitFor(
      () => child.sink.published.some((p) => p.height === 2 && p.raw),
      'the next block published',
    );
  } finally {
    await upstream.stop();
    await child.stop();
    await parent.stop();
    await removeDir(child.dir);
    await removeDir(parent.dir);
  }
});
