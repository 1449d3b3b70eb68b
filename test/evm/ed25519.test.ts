/**
 * The contract's Ed25519 (contracts/Ed25519.sol) against libsodium, the node's verifier, on the whole edge-case
 * corpus of test/crypto/verify-agreement.test.ts and RFC 8032's vectors, run on a real EVM (anvil). A consensus
 * rule held on chain must give the node's verdict on every signature, or an operator could be slashed on chain
 * for a header the network accepts (or escape for one it rejects).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sha512 } from '@noble/hashes/sha2.js';
import { toHex, type Address, type Hex } from 'viem';
import { Ed25519Probe, Ed25519Verifier } from '../../src/gen/contracts.js';
import { keyPairFromSecret, setSignatureVerifier, sign, verify } from '../../src/crypto/keys.js';
import { sodiumEd25519Verify } from '../../src/runtime/native-crypto.js';
import { corpus, type Case } from '../crypto/ed25519-corpus.js';
import { deploy, useAnvil } from './helpers.js';
import { deployAnchor } from '../../src/evm/anchor.js';

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** RFC 8032 section 7.1: tests 1, 2, 3 and SHA(abc) (secret key, public key, message, signature). */
const RFC8032: [string, string, string, string][] = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '', 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'], // prettier-ignore
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72', '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'], // prettier-ignore
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82', '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'], // prettier-ignore
  ['833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42', 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf', 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704'], // prettier-ignore
];

describe('Ed25519 on the EVM agrees with libsodium', () => {
  const env = useAnvil();
  let probe: Address;

  before(async () => {
    probe = await deploy(env, Ed25519Probe);
  });

  const onChain = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> =>
    msg.length === 32
      ? env.pub.readContract({ address: probe, abi: Ed25519Probe.abi, functionName: 'verifyEd25519', args: [toHex(pk), toHex(msg), toHex(sig)] }) // prettier-ignore
      : env.pub.readContract({ address: probe, abi: Ed25519Probe.abi, functionName: 'verifyEd25519Message', args: [toHex(pk), toHex(msg), toHex(sig)] }); // prettier-ignore

  it('computes SHA-512 as FIPS 180-4 does, across block boundaries', async () => {
    for (const len of [0, 1, 55, 111, 112, 127, 128, 129, 239, 240, 256, 1000]) {
      const data = new Uint8Array(len).map((_, i) => (i * 131 + len) & 255);
      const [h0, h1] = await env.pub.readContract({
        address: probe,
        abi: Ed25519Probe.abi,
        functionName: 'sha512',
        args: [toHex(data)],
      });
      assert.equal(h0 + h1.slice(2), '0x' + createHash('sha512').update(data).digest('hex'), `length ${len}`);
    }
  });

  it('accepts the RFC 8032 vectors and rejects them altered', async () => {
    for (const [sk, pk, msg, sig] of RFC8032) {
      // The transcription is checked by signing: Ed25519 is deterministic.
      assert.equal(Buffer.from(keyPairFromSecret(unhex(sk)).publicKey).toString('hex'), pk);
      assert.equal(Buffer.from(sign(unhex(sk), unhex(msg))).toString('hex'), sig);
      assert.equal(await onChain(unhex(pk), unhex(msg), unhex(sig)), true, `vector ${pk.slice(0, 8)}`);
      const bad = unhex(sig);
      bad[10] ^= 1;
      assert.equal(await onChain(unhex(pk), unhex(msg), bad), false);
    }
    // A message spanning many SHA-512 blocks (RFC 8032's test 1024 is of this kind).
    const kp = keyPairFromSecret(sha512(new TextEncoder().encode('long')).subarray(0, 32));
    const long = new Uint8Array(1023).map((_, i) => (i * 7) & 255);
    assert.equal(await onChain(kp.publicKey, long, sign(kp.secretKey, long)), true);
  });

  it('gives libsodium`s verdict, and the rule`s, on every case of the agreement corpus', async (t) => {
    setSignatureVerifier(sodiumEd25519Verify());
    try {
      // A bytes32 key cannot carry the corpus's wrong-length keys; every other case runs.
      const cases = corpus.filter((c) => c.pk.length === 32);
      const got: boolean[] = [];
      for (let i = 0; i < cases.length; i += 32) {
        const chunk = cases.slice(i, i + 32);
        got.push(...(await Promise.all(chunk.map((c: Case) => onChain(c.pk, c.msg, c.sig)))));
      }
      const wrong = cases.filter((c, i) => got[i] !== c.expect || got[i] !== verify(c.pk, c.msg, c.sig));
      assert.deepEqual(
        wrong.map((c) => `${c.cls}: ${c.name}`),
        [],
      );
      t.diagnostic(
        `${cases.length} cases agree (${corpus.length - cases.length} wrong-length keys not representable)`,
      );
    } finally {
      setSignatureVerifier(null);
    }
  });

  it('the verifier the anchor calls: false and never a revert for arbitrary bytes', async () => {
    const { verifier: address } = await deployAnchor(env.wallet(0), env.pub);
    const call = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) =>
      env.pub.readContract({ address, abi: Ed25519Verifier.abi, functionName: 'verify', args: [toHex(pk), toHex(msg), toHex(sig)] }); // prettier-ignore
    const kp = keyPairFromSecret(sha512(new TextEncoder().encode('anchor')).subarray(0, 32));
    const msg = sha512(new TextEncoder().encode('anchor msg')).subarray(0, 32);
    assert.equal(await call(kp.publicKey, msg, sign(kp.secretKey, msg)), true);
    let seed = sha512(new TextEncoder().encode('fuzz'));
    const next = (n: number) => {
      seed = sha512(seed);
      return seed.slice(0, n);
    };
    const verdicts = await Promise.all(
      Array.from({ length: 48 }, (_, i) =>
        call(i % 2 ? kp.publicKey : next(32), next(32), next(i % 3 ? 64 : i % 7)),
      ),
    );
    assert.deepEqual(verdicts, new Array<boolean>(48).fill(false));
  });

  it('costs a measured amount of gas', async (t) => {
    const kp = keyPairFromSecret(sha512(new TextEncoder().encode('gas')).subarray(0, 32));
    const msg = sha512(new TextEncoder().encode('m')).subarray(0, 32);
    const gas = await env.pub.estimateContractGas({
      address: probe,
      abi: Ed25519Probe.abi,
      functionName: 'verifyEd25519',
      args: [toHex(kp.publicKey), toHex(msg), toHex(sign(kp.secretKey, msg)) as Hex],
    });
    t.diagnostic(`verifyEd25519: ${gas} gas (transaction total)`);
    assert.ok(gas < 30_000_000n);
  });
});
