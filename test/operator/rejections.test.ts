import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock } from '../../src/chain/block.js';
import { genesisState } from '../../src/chain/state.js';
import { actionHash, signAction, type OwnerAction } from '../../src/chain/tx.js';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair, sign, type KeyPair } from '../../src/crypto/keys.js';
import type { Leaf } from '../../src/tree/contract.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';
import { http, removeDir, startChainNode, type TestChainNode } from './helpers.js';
import { sortition } from '../../src/gen/proto.js';
import { blockWithHeaderU64, PAST_SAFE, withU64 } from '../helpers/u64.js';

interface ErrorBody {
  error: { code: string; message: string };
}

function snapshot(n: TestChainNode): string {
  const s = n.svc;
  return JSON.stringify({
    root: toHex(s.pendingRoot),
    pending: s.pendingCount,
    height: s.head.height,
    head: toHex(s.head.headHash),
    a: s.currentContract(0n)?.digest && toHex(s.currentContract(0n)!.digest),
    c: s.currentContract(1000n)?.digest && toHex(s.currentContract(1000n)!.digest),
  });
}

test('every rejection over the API has its status and protocol code, and changes nothing', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const n = await startChainNode(top.genesis, top.key);
  const [alice, mallory] = [generateKeyPair(), generateKeyPair()];
  const kid = childChain(top.genesis, 1000n, 2000n, 'kid');
  try {
    // Setup: A = [0, 100) alice; C = [1000, 2000) alice, opened as the chain `kid`, whose first root is committed.
    await n.svc.create({ start: 0n, end: 100n, owner: alice.publicKey });
    await n.svc.create({ start: 1000n, end: 2000n, owner: alice.publicKey });
    await n.svc.sealNow();
    const leafC = n.svc.currentContract(1000n)!;
    const open = act(top.genesis, leafC, alice, { kind: 'openChild', chainId: kid.genesis.chainId });
    const opened = await http(n.url, 'POST', '/v1/contracts/1000/actions', {
      action: toHex(open.bytes),
      signature: toHex(open.signature),
      childGenesis: toHex(kid.genesis.bytes),
    });
    assert.equal(opened.status, 202);
    kid.producer.create({ start: 1000n, end: 1500n, owner: alice.publicKey });
    const k1 = kid.producer.seal(10).block.signed;
    const committed = await http(n.url, 'POST', '/v1/child-roots', { childHeader: toHex(k1.bytes) });
    assert.equal(committed.status, 202);
    const again = await http<{ status: string }>(n.url, 'POST', '/v1/child-roots', {
      childHeader: toHex(k1.bytes),
    });
    assert.equal(again.status, 200);
    assert.equal(again.json.status, 'duplicate');
    await n.svc.sealNow();
    assert.equal(n.svc.currentContract(1000n)!.contract.child!.height, 1);

    const A = (): Leaf => n.svc.currentContract(0n)!;
    const C = (): Leaf => n.svc.currentContract(1000n)!;
    const post = (start: bigint | string, action: Uint8Array, signature: Uint8Array, extra: object = {}) =>
      http<ErrorBody>(n.url, 'POST', `/v1/contracts/${start}/actions`, {
        action: toHex(action),
        signature: toHex(signature),
        ...extra,
      });
    const signedBy = (key: KeyPair, a: Partial<OwnerAction> & Pick<OwnerAction, 'op'>, leaf = A()) =>
      signAction(
        { chainId: top.genesis.chainId, contractHash: leaf.digest, nonce: leaf.contract.nonce + 1, ...a },
        key.secretKey,
      );
    const transferTo = { kind: 'transfer' as const, newOwner: mallory.publicKey, terms: new Uint8Array(0) };
    const wrongSpace = childChain(top.genesis, 0n, 50n, 'wrong');
    const stranger = childChain(anchorChain().genesis, 0n, SPACE);
    // Another header at height 1 (empty root), while the leaf already commits height 1.
    const k1Other = decodeBlock(craft(kid, genesisState(kid.genesis), [], { timeMs: 999 })).signed;
    const forged = decodeBlock(craft(kid, kid.producer.state, [], {}, mallory.secretKey)).signed;
    const outOfBounds = decodeBlock(
      craft(kid, kid.producer.state, [], {
        stateMin: 0n,
        stateMax: 5000n,
        stateRoot: new Uint8Array(32).fill(9),
      }),
    ).signed;

    type Case = [string, () => Promise<{ status: number; json: ErrorBody }>, number, string];
    const cases: Case[] = [
      [
        'sale without token',
        () =>
          http(n.url, 'POST', '/v1/contracts', { start: '5000', end: '5001', owner: toHex(alice.publicKey) }),
        401,
        'UNAUTHORIZED',
      ],
      [
        'sale with a wrong token',
        () =>
          http(
            n.url,
            'POST',
            '/v1/contracts',
            { start: '5000', end: '5001', owner: toHex(alice.publicKey) },
            'nope',
          ),
        401,
        'UNAUTHORIZED',
      ],
      ['body not JSON', () => http(n.url, 'POST', '/v1/contracts', undefined, n.token, '{'), 400, 'BAD_JSON'],
      [
        'owner not a key',
        () => http(n.url, 'POST', '/v1/contracts', { start: '5000', end: '5001', owner: 'abcd' }, n.token),
        400,
        'BAD_REQUEST',
      ],
      [
        'start not a number',
        () =>
          http(
            n.url,
            'POST',
            '/v1/contracts',
            { start: '-1', end: '5001', owner: toHex(alice.publicKey) },
            n.token,
          ),
        400,
        'BAD_REQUEST',
      ],
      [
        'overlapping sale',
        () =>
          http(
            n.url,
            'POST',
            '/v1/contracts',
            { start: '50', end: '150', owner: toHex(alice.publicKey) },
            n.token,
          ),
        409,
        'OVERLAP',
      ],
      [
        'sale outside the space',
        () =>
          http(
            n.url,
            'POST',
            '/v1/contracts',
            { start: SPACE.toString(), end: (SPACE + 10n).toString(), owner: toHex(alice.publicKey) },
            n.token,
          ),
        400,
        'OUT_OF_SPACE',
      ],
      [
        'empty interval',
        () =>
          http(
            n.url,
            'POST',
            '/v1/contracts',
            { start: '5000', end: '5000', owner: toHex(alice.publicKey) },
            n.token,
          ),
        400,
        'DECODE_MALFORMED',
      ],
      ['no such contract', () => http(n.url, 'GET', '/v1/contracts/12345'), 404, 'NOT_FOUND'],
      [
        'action on no contract',
        () => {
          const s = signedBy(alice, { op: transferTo });
          return post(5000n, s.bytes, s.signature);
        },
        404,
        'NOT_FOUND',
      ],
      [
        'not signed by the owner',
        () => {
          const s = signedBy(mallory, { op: transferTo });
          return post(0n, s.bytes, s.signature);
        },
        400,
        'BAD_OWNER_SIGNATURE',
      ],
      [
        'stale nonce',
        () => {
          const s = signedBy(alice, { op: transferTo, nonce: 5 });
          return post(0n, s.bytes, s.signature);
        },
        409,
        'STALE_NONCE',
      ],
      [
        'names another contract state',
        () => {
          const s = signedBy(alice, { op: transferTo, contractHash: new Uint8Array(32).fill(3) });
          return post(0n, s.bytes, s.signature);
        },
        409,
        'WRONG_CONTRACT',
      ],
      [
        'split outside the contract',
        () => {
          const s = signedBy(alice, {
            op: { kind: 'split', at: 100n, rightOwner: alice.publicKey, rightTerms: new Uint8Array(0) },
          });
          return post(0n, s.bytes, s.signature);
        },
        400,
        'SPLIT_OUT_OF_RANGE',
      ],
      [
        'split a chain',
        () => {
          const s = signedBy(
            alice,
            { op: { kind: 'split', at: 1500n, rightOwner: alice.publicKey, rightTerms: new Uint8Array(0) } },
            C(),
          );
          return post(1000n, s.bytes, s.signature);
        },
        409,
        'CONTRACT_IS_CHAIN',
      ],
      [
        'close a chain',
        () => {
          const s = signedBy(alice, { op: { kind: 'close' } }, C());
          return post(1000n, s.bytes, s.signature);
        },
        409,
        'CONTRACT_IS_CHAIN',
      ],
      [
        'child genesis of another interval',
        () => {
          const s = signedBy(alice, { op: { kind: 'openChild', chainId: wrongSpace.genesis.chainId } });
          return post(0n, s.bytes, s.signature, { childGenesis: toHex(wrongSpace.genesis.bytes) });
        },
        400,
        'BAD_GENESIS',
      ],
      [
        'open child without genesis',
        () => {
          const s = signedBy(alice, { op: { kind: 'openChild', chainId: wrongSpace.genesis.chainId } });
          return post(0n, s.bytes, s.signature);
        },
        400,
        'BAD_GENESIS',
      ],
      [
        'action for another chain',
        () => {
          const s = signedBy(alice, { op: transferTo, chainId: stranger.genesis.chainId });
          return post(0n, s.bytes, s.signature);
        },
        404,
        'UNKNOWN_CHAIN',
      ],
      [
        'action with trailing bytes',
        () => {
          const s = signedBy(alice, { op: transferTo });
          return post(0n, Uint8Array.from([...s.bytes, 0x08, 0x01]), s.signature);
        },
        400,
        'DECODE_NONCANONICAL',
      ],
      [
        'short signature',
        () => {
          const s = signedBy(alice, { op: transferTo });
          return post(0n, s.bytes, s.signature.subarray(0, 10));
        },
        400,
        'DECODE_MALFORMED',
      ],
      [
        'genesis that does not decode',
        () => {
          const s = signedBy(alice, { op: transferTo });
          return post(0n, s.bytes, s.signature, { childGenesis: 'ff00' });
        },
        400,
        'DECODE_MALFORMED',
      ],
      [
        'root of an unknown chain',
        () =>
          http(n.url, 'POST', '/v1/child-roots', {
            childHeader: toHex(decodeBlock(craft(stranger, stranger.producer.state, [])).signed.bytes),
          }),
        404,
        'UNKNOWN_CHAIN',
      ],
      [
        'child header not signed by the child operator',
        () => http(n.url, 'POST', '/v1/child-roots', { childHeader: toHex(forged.bytes) }),
        400,
        'CHILD_BAD_SIGNATURE',
      ],
      [
        'child height not increasing',
        () => http(n.url, 'POST', '/v1/child-roots', { childHeader: toHex(k1Other.bytes) }),
        409,
        'CHILD_HEIGHT_NOT_INCREASING',
      ],
      [
        'child root outside the contract',
        () => http(n.url, 'POST', '/v1/child-roots', { childHeader: toHex(outOfBounds.bytes) }),
        400,
        'CHILD_OUT_OF_BOUNDS',
      ],
      [
        'child header that does not decode',
        () => http(n.url, 'POST', '/v1/child-roots', { childHeader: '0a' }),
        400,
        'DECODE_MALFORMED',
      ],
      // Integers a u64 field carries but a nonce, height or expiry may not (2^53 - 1 at most).
      ...PAST_SAFE.flatMap((v): Case[] => [
        [
          `action nonce ${v}`,
          () => {
            const s = signedBy(alice, { op: transferTo });
            const bytes = withU64(sortition.v1.OwnerAction, s.bytes, 'nonce', v);
            return post(0n, bytes, sign(alice.secretKey, actionHash(bytes)));
          },
          400,
          'DECODE_MALFORMED',
        ],
        [
          `child genesis expiry ${v}`,
          () => {
            const s = signedBy(alice, { op: { kind: 'openChild', chainId: wrongSpace.genesis.chainId } });
            const g = withU64(sortition.v1.Genesis, wrongSpace.genesis.bytes, 'expiry', v);
            return post(0n, s.bytes, s.signature, { childGenesis: toHex(g) });
          },
          400,
          'DECODE_MALFORMED',
        ],
        ...(['height', 'timeMs'] as const).map((field): Case => [
          `child header ${field} ${v}`,
          () => {
            const b = blockWithHeaderU64(kid.genesis, kid.key.secretKey, kid.producer.state, field, v);
            const header = sortition.v1.Block.decode(b).header!;
            const sh = sortition.v1.SignedHeader.encode(header).finish();
            return http(n.url, 'POST', '/v1/child-roots', { childHeader: toHex(sh) });
          },
          400,
          'DECODE_MALFORMED',
        ]),
      ]),
      ['list without owner', () => http(n.url, 'GET', '/v1/contracts'), 400, 'BAD_REQUEST'],
      ['unknown route', () => http(n.url, 'GET', '/v1/nothing'), 404, 'NOT_FOUND'],
      ['wrong method', () => http(n.url, 'DELETE', '/v1/chain'), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [what, call, status, code] of cases) {
      const before = snapshot(n);
      const r = await call();
      assert.equal(r.status, status, `${what}: status ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code, `${what}: ${JSON.stringify(r.json)}`);
      assert.equal(typeof r.json.error.message, 'string');
      assert.equal(snapshot(n), before, `${what} changed the state`);
    }
    assert.equal(n.svc.pendingCount, 0);
    assert.equal(n.sink.rejected().length, 0);

    // A stopped operator refuses politely.
    await n.svc.stop();
    const r = await http<ErrorBody>(
      n.url,
      'POST',
      '/v1/contracts',
      { start: '5000', end: '5001', owner: toHex(alice.publicKey) },
      n.token,
    );
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'NOT_RUNNING');
  } finally {
    await n.stop();
    await removeDir(n.dir);
  }
});
