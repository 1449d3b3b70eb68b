/**
 * The asynchronous signature path (src/crypto/async.ts): WebCrypto's Ed25519 (Node's here; Chromium's in
 * test/web/page.test.ts) gives the rule's verdict on every case of the edge-case corpus, and a tracker judging with
 * it reaches onBlock's verdicts with its signatures checked ahead, not by the synchronous implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureMemo, webCryptoVerifier, type AsyncSignatureVerifier } from '../../src/crypto/async.js';
import {
  checkSignatureEncoding,
  currentSignatureVerifier,
  setSignatureVerifier,
  verify,
  verifyEquation,
} from '../../src/crypto/keys.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { Tracker } from '../../src/light/tracker.js';
import { act, anchorChain } from '../helpers/chains.js';
import { corpus } from './ed25519-corpus.js';

test('WebCrypto Ed25519 through the memo gives the rule verdict on the whole corpus', async () => {
  const wc = await webCryptoVerifier();
  assert.ok(wc, 'Node 22+ has Ed25519 in WebCrypto');
  let asked = 0;
  const counted: AsyncSignatureVerifier = (pk, m, s) => {
    asked++;
    return wc(pk, m, s);
  };
  // The synchronous implementation must not be what answers: it throws if reached.
  setSignatureVerifier(() => {
    throw new Error('synchronous step 5 reached');
  });
  try {
    let passing = 0;
    for (const c of corpus) {
      if (checkSignatureEncoding(c.pk, c.sig) === 'ok') passing++;
      const memo = new SignatureMemo();
      await memo.prefetch(() => void verify(c.pk, c.msg, c.sig), counted);
      assert.equal(
        memo.run(() => verify(c.pk, c.msg, c.sig)),
        c.expect,
        `${c.cls}/${c.name}`,
      );
    }
    assert.equal(asked, passing, 'every case that passes the byte checks went to WebCrypto');
  } finally {
    setSignatureVerifier(null);
  }
  assert.equal(currentSignatureVerifier(), verifyEquation);
});

test('a tracker judging with the asynchronous path reaches the synchronous verdicts', async () => {
  const { genesis, producer, key } = anchorChain();
  const owner = generateKeyPair();
  producer.create({ start: 0n, end: 100n, owner: owner.publicKey });
  const b1 = producer.seal(1000).block;
  const leaf = producer.tree.get(0n)!;
  const transfer = {
    kind: 'transfer',
    newOwner: generateKeyPair().publicKey,
    terms: new Uint8Array(0),
  } as const;
  producer.owner(act(genesis, leaf, owner, transfer), 0n);
  const b2 = producer.seal(1001).block;
  // The same operator signs another block at height 2: equivocation.
  const twin = new ChainProducer(genesis, key.secretKey);
  twin.create({ start: 0n, end: 100n, owner: owner.publicKey });
  twin.seal(1000);
  twin.create({ start: 500n, end: 600n, owner: owner.publicKey });
  const b2x = twin.seal(1002).block;
  const tampered = Uint8Array.from(b2.bytes);
  tampered[tampered.length - 1] ^= 1;

  const sync = new Tracker();
  const async = new Tracker();
  sync.track(genesis);
  async.track(genesis);
  const wc = (await webCryptoVerifier())!;
  let asked = 0;
  const counted: AsyncSignatureVerifier = (pk, m, s) => {
    asked++;
    return wc(pk, m, s);
  };
  const codes: string[] = [];
  for (const bytes of [b1.bytes, tampered, b2.bytes, b2.bytes, b2x.bytes]) {
    const a = sync.onBlock(genesis.chainId, bytes);
    const c = await async.onBlockAsync(genesis.chainId, bytes, counted);
    assert.deepEqual(c.verdict, a.verdict);
    assert.equal(c.evidence.length, a.evidence.length);
    codes.push(c.verdict.code ?? 'OK');
  }
  assert.equal(codes[0], 'OK');
  assert.notEqual(codes[1], 'OK');
  assert.deepEqual(codes.slice(2), ['OK', 'DUPLICATE', 'EQUIVOCATION']);
  assert.deepEqual(async.status(), sync.status());
  assert.ok(async.view(genesis.chainId)!.faulty);
  assert.ok(asked >= 4, `signatures checked ahead: ${asked}`);
});
