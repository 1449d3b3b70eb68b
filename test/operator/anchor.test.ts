import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock } from '../../src/chain/block.js';
import { makeEquivocation, makeStaleState } from '../../src/chain/evidence.js';
import { makeGenesis, type GenesisRecord } from '../../src/chain/genesis.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { genesisState } from '../../src/chain/state.js';
import { join } from 'node:path';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { HttpAnchor } from '../../src/anchor/client.js';
import { readKeyFile } from '../../src/runtime/keyfile.js';
import type { EvidenceRecordJson, RegistrationJson } from '../../src/anchor/json.js';
import { craftBlock } from '../../src/operator/faults.js';
import { act } from '../helpers/chains.js';
import { blockWithHeaderU64, PAST_SAFE, withU64 } from '../helpers/u64.js';
import { sortition } from '../../src/gen/proto.js';
import { http, removeDir, startCliOperator, tempDir, waitFor, type TestOperator } from './helpers.js';

interface ErrorBody {
  error: { code: string; message: string };
}

function chain(key: KeyPair, parent: Uint8Array, start: bigint, end: bigint, name: string): GenesisRecord {
  return makeGenesis({
    operatorKey: key.publicKey,
    spaceStart: start,
    spaceEnd: end,
    parentChain: parent,
    parentContract: start,
    expiry: 0,
    amount: end - start,
    name,
    salt: new Uint8Array(0),
  });
}

/** Two different headers at height 1 signed by the chain's operator. */
function equivocation(g: GenesisRecord, key: KeyPair): Uint8Array {
  const s0 = genesisState(g);
  const a = craftBlock(g, key.secretKey, s0, [], { timeMs: 1 }).signed;
  const b = craftBlock(g, key.secretKey, s0, [], { timeMs: 2 }).signed;
  return makeEquivocation(a, b);
}

test('devnet anchor: registration, beacon, and slashing on evidence', async () => {
  const dirs = await Promise.all([tempDir('anchor-'), tempDir('t1-')]);
  const started: TestOperator[] = [];
  try {
    const anchor = await startCliOperator({ dataDir: dirs[0], blockIntervalMs: 40 }, { anchor: true });
    started.push(anchor);
    const anchorId = anchor.op.genesis.chainId;

    // A registered top-level chain whose operator equivocates at height 1 (devnet fault injection).
    const t1 = await startCliOperator({
      dataDir: dirs[1],
      parentApi: anchor.url,
      amount: '1000',
      devnet: true,
      fault: ['equivocate@1'],
    });
    started.push(t1);
    assert.equal(t1.op.genesis.genesis.spaceStart, 0n);
    const alice = generateKeyPair();
    await http(
      t1.url,
      'POST',
      '/v1/contracts',
      { start: '0', end: '10', owner: toHex(alice.publicKey) },
      t1.op.token,
    );
    const twins = await waitFor(() => {
      const at1 = t1.sink.published.filter((p) => p.height === 1);
      return at1.length === 2 ? at1.map((p) => decodeBlock(p.bytes).signed) : undefined;
    }, 'two blocks at height 1');
    const ev1 = makeEquivocation(twins[0], twins[1]);
    const rec = await http<EvidenceRecordJson>(anchor.url, 'POST', '/v1/anchor/evidence', {
      evidence: toHex(ev1),
      genesis: [toHex(t1.op.genesis.bytes)],
    });
    assert.equal(rec.status, 201);
    assert.equal(rec.json.kind, 'equivocation');
    assert.equal(rec.json.chainId, toHex(t1.op.genesis.chainId));
    assert.equal(rec.json.slashed, '1000');
    assert.equal(rec.json.registration.start, '0');
    // The same evidence again: the same record, nothing slashed twice.
    const again = await http<EvidenceRecordJson>(anchor.url, 'POST', '/v1/anchor/evidence', {
      evidence: toHex(ev1),
    });
    assert.equal(again.status, 200);
    assert.equal(again.json.id, rec.json.id);

    // Registrations sell consecutive intervals.
    const k2 = generateKeyPair();
    const reg = await http<RegistrationJson>(anchor.url, 'POST', '/v1/anchor/register', {
      operatorKey: toHex(k2.publicKey),
      amount: '5000',
    });
    assert.equal(reg.status, 201);
    assert.deepEqual(
      [reg.json.start, reg.json.end, reg.json.anchorChainId],
      ['1000', '6000', toHex(anchorId)],
    );
    const regs = await http<{ registrations: RegistrationJson[] }>(
      anchor.url,
      'GET',
      '/v1/anchor/registrations',
    );
    assert.deepEqual(
      regs.json.registrations.map((r) => r.start),
      ['0', '1000'],
    );
    await waitFor(
      async () => (await http(anchor.url, 'GET', '/v1/contracts/1000')).status === 200,
      'the sale',
    );
    for (const [body, status, code] of [
      [{ operatorKey: toHex(k2.publicKey), amount: '0' }, 400, 'BAD_REQUEST'],
      [{ operatorKey: 'abcd', amount: '10' }, 400, 'BAD_REQUEST'],
      [{ operatorKey: toHex(k2.publicKey), amount: ((1n << 64n) - 1n).toString() }, 409, 'OUT_OF_SPACE'],
    ] as const) {
      const r = await http<ErrorBody>(anchor.url, 'POST', '/v1/anchor/register', body);
      assert.equal(r.status, status);
      assert.equal(r.json.error.code, code);
    }

    // A nested chain under T2 (registered to k2): its registration answers for it, given the ancestry.
    const t2 = chain(k2, anchorId, 1000n, 6000n, 't2');
    const nk = generateKeyPair();
    const nested = chain(nk, t2.chainId, 2000n, 3000n, 'nested');
    const evN = equivocation(nested, nk);
    const missing = await http<ErrorBody>(anchor.url, 'POST', '/v1/anchor/evidence', {
      evidence: toHex(evN),
      genesis: [toHex(nested.bytes)],
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'EVIDENCE_UNKNOWN_CHAIN');
    const client = new HttpAnchor(anchor.url);
    const recN = await client.recordEvidence(evN, [nested.bytes, t2.bytes]);
    assert.equal(recN.slashed, 5000n);
    assert.equal(toHex(recN.chainId), toHex(nested.chainId));
    assert.equal(recN.registration.start, 1000n);
    // Further evidence against T2 itself: recorded, but the registration was slashed already.
    const recT2 = await client.recordEvidence(equivocation(t2, k2), [t2.bytes]);
    assert.equal(recT2.slashed, 0n);
    const slashed = await client.slashed();
    assert.deepEqual(
      slashed.map((s) => [s.registration.start, s.slashed]),
      [
        [0n, 1000n],
        [1000n, 5000n],
      ],
    );

    // Rejections.
    const stranger = generateKeyPair();
    const unregistered = chain(stranger, anchorId, 900_000n, 900_100n, 'u');
    const impostor = chain(stranger, anchorId, 0n, 1000n, 'impostor');
    const forged = makeEquivocation(
      craftBlock(t2, k2.secretKey, genesisState(t2), []).signed,
      craftBlock(t2, stranger.secretKey, genesisState(t2), [], { timeMs: 5 }).signed,
    );
    const anchorKey = await readKeyFile(join(dirs[0], 'operator-key.json'));
    const anchorTwins = equivocation(anchor.op.genesis, anchorKey);
    // Stale state: a contract state of T1 superseded by a later block (presenting it is a double-spend attempt).
    const p = new ChainProducer(
      t1.op.genesis,
      (await readKeyFile(join(dirs[1], 'operator-key.json'))).secretKey,
    );
    p.create({ start: 0n, end: 10n, owner: alice.publicKey });
    const h1 = p.seal(1).block.signed;
    const presented = p.tree.memberPath(0n);
    p.owner(act(t1.op.genesis, p.tree.get(0n)!, alice, { kind: 'close' }), 0n);
    const h2 = p.seal(2).block.signed;
    const stale = makeStaleState(h1, presented, h2, p.tree.lookupPath(0n));
    for (const [what, body, status, code] of [
      [
        'not registered',
        { evidence: toHex(equivocation(unregistered, stranger)), genesis: [toHex(unregistered.bytes)] },
        422,
        'NOT_REGISTERED',
      ],
      [
        'registered to another key',
        { evidence: toHex(equivocation(impostor, stranger)), genesis: [toHex(impostor.bytes)] },
        422,
        'NOT_REGISTERED',
      ],
      ['garbage', { evidence: 'ff00ff', genesis: [] }, 400, 'EVIDENCE_MALFORMED'],
      ['not proven', { evidence: toHex(forged), genesis: [toHex(t2.bytes)] }, 422, 'EVIDENCE_NOT_PROVEN'],
      [
        'stale state convicts no operator',
        { evidence: toHex(stale), genesis: [toHex(t1.op.genesis.bytes)] },
        422,
        'EVIDENCE_NOT_SLASHABLE',
      ],
      [
        'bad genesis record',
        { evidence: toHex(equivocation(unregistered, stranger)), genesis: ['00'] },
        400,
        'EVIDENCE_MALFORMED',
      ],
      ['genesis not a list', { evidence: toHex(evN), genesis: 'x' }, 400, 'BAD_REQUEST'],
      ['the anchor itself', { evidence: toHex(anchorTwins), genesis: [] }, 422, 'NOT_REGISTERED'],
      ...PAST_SAFE.flatMap((v) => [
        [
          `genesis expiry ${v}`,
          {
            evidence: toHex(equivocation(unregistered, stranger)),
            genesis: [toHex(withU64(sortition.v1.Genesis, unregistered.bytes, 'expiry', v))],
          },
          400,
          'EVIDENCE_MALFORMED',
        ] as const,
        [
          `block height ${v}`,
          {
            evidence: toHex(
              sortition.v1.Evidence.encode({
                invalidTransition: {
                  block: blockWithHeaderU64(t2, k2.secretKey, genesisState(t2), 'height', v),
                },
              }).finish(),
            ),
            genesis: [toHex(t2.bytes)],
          },
          400,
          'EVIDENCE_MALFORMED',
        ] as const,
      ]),
    ] as const) {
      const r = await http<ErrorBody>(anchor.url, 'POST', '/v1/anchor/evidence', body);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code, what);
    }
    assert.equal((await client.slashed()).length, 2);

    // The HTTP client agrees with the anchor.
    assert.equal(toHex(await client.chainId()), toHex(anchorId));
    await waitFor(() => anchor.op.service.head.height >= 1, 'an anchor block');
    assert.equal(toHex((await client.beacon(1))!), toHex((await anchor.op.anchor!.beacon(1))!));
    assert.equal(await client.beacon(10_000_000), undefined);
    const r3 = await client.registerChain({ operatorKey: stranger.publicKey, amount: 7n });
    assert.deepEqual([r3.start, r3.end], [6000n, 6007n]);
  } finally {
    for (const s of started.reverse()) await s.stop();
    for (const d of dirs) await removeDir(d);
  }
});
