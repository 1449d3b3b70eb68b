/**
 * The anchor's deployment through the CREATE2 factory (src/evm/deploy.ts): the predicted addresses and anchor id
 * are where the contracts land on a real anvil, a second deployment sends nothing, the parameter checks, the
 * factory's own presigned deployment on a chain without it, the verification bundle and encrypted key files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  createPublicClient,
  createWalletClient,
  decodeAbiParameters,
  encodeAbiParameters,
  encodeDeployData,
  getContractAddress,
  http,
  recoverTransactionAddress,
  toHex,
  type Chain,
  type PublicClient,
  type TransactionSerializedLegacy,
  type Transport,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { ANCHOR_ABI, DEVNET_DEPLOY, PUBLIC_DEPLOY, evmAnchorId } from '../../src/evm/anchor.js';
import { anvilAccount, startAnvil, type Anvil } from '../../src/evm/anvil.js';
import {
  CREATE2_FACTORY,
  CREATE2_FACTORY_DEPLOYMENT,
  installFactory,
  requireFactory,
} from '../../src/evm/create2.js';
import {
  DEFAULT_SALT,
  defaultParams,
  deployAnchorCreate2,
  parseSalt,
  planAnchor,
  predictAnchor,
} from '../../src/evm/deploy.js';
import {
  CONTRACT_BOUNDS,
  checkDeployParams,
  safeRanges,
  type AnchorParams,
} from '../../src/evm/deploy-params.js';
import { verificationBundle } from '../../src/evm/verification.js';
import { decryptKeystore } from '../../src/evm/keystore.js';
import { loadEvmKey } from '../../src/evm/client.js';
import { DrandBeacon, SortitionAnchor } from '../../src/gen/contracts.js';
import { QUICKNET, drandConstructorArgs } from '../../src/evm/drand.js';
import { useAnvil } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('CREATE2 deployment on anvil (chain id 31337)', () => {
  const env = useAnvil();

  it('lands the verifier and the anchor at the predicted addresses, with the predicted anchor id; again: nothing sent', async () => {
    const params: AnchorParams = { ...DEVNET_DEPLOY, challengeWindow: 33n };
    const p = predictAnchor(31337, params, parseSalt('deploy-test'));
    const wallet = env.wallet(3);
    const nonce0 = await env.pub.getTransactionCount({ address: wallet.account.address });

    const plan = await planAnchor(env.pub, p, wallet.account.address);
    assert.equal(plan.anchor.deployed, false);
    assert.ok(plan.verifier.gas > 1_000_000n && plan.anchor.gas > 4_000_000n, `gas ${plan.gas}`);
    assert.equal(plan.costWei, plan.gas * plan.feePerGas);

    const d = await deployAnchorCreate2(wallet, env.pub, p, plan);
    // The Ed25519 verifier, the drand verifier (the devnet's network on its chain id) and the anchor.
    assert.deepEqual([d.verifierSent, d.anchorSent, d.transactions.length], [true, true, 3]);
    // Within the estimate (which had a stand-in verifier for the anchor): what a dry run prints is an upper bound.
    assert.ok(d.gasUsed <= plan.gas, `${d.gasUsed} > ${plan.gas}`);
    const read = <T>(functionName: string): Promise<T> =>
      env.pub.readContract({ address: p.anchor, abi: ANCHOR_ABI, functionName } as never) as Promise<T>;
    assert.equal(await read('anchorId'), p.anchorId, "the contract's own id (chain id, address(this))");
    assert.equal(p.anchorId, toHex(evmAnchorId(31337, p.anchor)));
    assert.equal(await read('verifier'), p.verifier);
    assert.equal(await read('drand'), p.drand);
    assert.notEqual(p.drand, '0x0000000000000000000000000000000000000000');
    assert.deepEqual(
      [
        await read('challengeWindow'),
        await read('reporterBps'),
        await read('finality'),
        await read('claimBond'),
      ],
      [33n, 1000, 0n, 10n ** 16n],
    );
    // The checks' notion of the contract's bounds is the contract's: its constructor takes each bound and refuses
    // one past it (the bounds are private constants: no getter to spend code on).
    const b = CONTRACT_BOUNDS;
    const ctor = async (over: Partial<typeof params>): Promise<boolean> => {
      const q = { ...params, ...over };
      const data = encodeDeployData({
        abi: SortitionAnchor.abi,
        bytecode: SortitionAnchor.bytecode,
        args: [p.verifier, q.challengeWindow, q.reporterBps, q.finality, q.claimBond, p.drand],
      });
      return env.pub.estimateGas({ data, account: wallet.account.address }).then(
        () => true,
        () => false,
      );
    };
    assert.deepEqual(
      [
        await ctor({ challengeWindow: b.challengeWindow.min }),
        await ctor({ challengeWindow: b.challengeWindow.max }),
        await ctor({ reporterBps: Number(b.reporterBps.max) }),
        await ctor({ finality: b.finality.max }),
      ],
      [true, true, true, true],
    );
    assert.deepEqual(
      [
        await ctor({ challengeWindow: b.challengeWindow.min - 1n }),
        await ctor({ challengeWindow: b.challengeWindow.max + 1n }),
        await ctor({ reporterBps: Number(b.reporterBps.max) + 1 }),
        await ctor({ finality: b.finality.max + 1n }),
      ],
      [false, false, false, false],
    );

    const again = await deployAnchorCreate2(env.wallet(4), env.pub, p);
    assert.deepEqual(
      [again.verifierSent, again.anchorSent, again.transactions, again.gasUsed],
      [false, false, [], 0n],
    );
    const replan = await planAnchor(env.pub, p);
    assert.deepEqual([replan.anchor.deployed, replan.verifier.deployed, replan.drand?.deployed, replan.gas], [true, true, true, 0n]); // prettier-ignore
    assert.equal(await env.pub.getTransactionCount({ address: wallet.account.address }), nonce0 + 3);

    // Other parameters, same salt: the verifier is found, only the anchor is sent.
    const q = predictAnchor(31337, { ...params, challengeWindow: 34n }, p.salt);
    assert.equal(q.verifier, p.verifier);
    assert.notEqual(q.anchor, p.anchor);
    const e = await deployAnchorCreate2(wallet, env.pub, q);
    assert.deepEqual([e.verifierSent, e.anchorSent], [false, true]);
    assert.equal(await env.pub.readContract({ address: q.anchor, abi: ANCHOR_ABI, functionName: 'anchorId' }), q.anchorId); // prettier-ignore
  });
});

describe('predictions, salts and defaults', () => {
  it('the addresses follow from the salt and the parameters, not the chain; the id from all three', () => {
    const a = predictAnchor(1, PUBLIC_DEPLOY);
    assert.equal(a.salt, DEFAULT_SALT);
    assert.deepEqual(predictAnchor(1, PUBLIC_DEPLOY), a, 'a pure function');
    const b = predictAnchor(10, PUBLIC_DEPLOY);
    assert.deepEqual([b.verifier, b.anchor], [a.verifier, a.anchor], 'the same addresses on every chain');
    assert.notEqual(b.anchorId, a.anchorId);
    assert.equal(a.anchorId, toHex(evmAnchorId(1, a.anchor)));
    const c = predictAnchor(1, PUBLIC_DEPLOY, parseSalt('another'));
    assert.notEqual(c.verifier, a.verifier);
    assert.notEqual(c.anchor, a.anchor);
    const d = predictAnchor(1, { ...PUBLIC_DEPLOY, claimBond: PUBLIC_DEPLOY.claimBond + 1n });
    assert.equal(d.verifier, a.verifier);
    assert.notEqual(d.anchor, a.anchor);
    const [verifier, window, bps, finality, bond] = decodeAbiParameters(
      SortitionAnchor.abi.find((x) => x.type === 'constructor')!.inputs,
      a.anchorConstructorArgs,
    );
    assert.deepEqual([verifier, window, bps, finality, bond], [a.verifier, 50_400n, 1000, 64n, 10n ** 17n]);
    assert.ok(a.anchorInitcode.endsWith(a.anchorConstructorArgs.slice(2)));
  });

  it('--salt: 32 bytes of hex as they are, a short text padded like the default', () => {
    assert.equal(parseSalt('sortition-anchor/v1'), DEFAULT_SALT);
    assert.equal(parseSalt(`0x${'Ab'.repeat(32)}`), `0x${'ab'.repeat(32)}`);
    assert.equal(parseSalt('a'), `0x61${'0'.repeat(62)}`);
    assert.throws(() => parseSalt('0x1234'), /64 hex digits/);
    assert.throws(() => parseSalt('x'.repeat(33)), /at most 32 bytes/);
  });

  it("the factory's presigned deployment comes from its one-time sender and lands at the factory", async () => {
    const d = CREATE2_FACTORY_DEPLOYMENT;
    assert.equal(
      await recoverTransactionAddress({
        serializedTransaction: d.rawTransaction as TransactionSerializedLegacy,
      }),
      d.signer,
    );
    assert.equal(getContractAddress({ from: d.signer, nonce: 0n }), CREATE2_FACTORY);
  });

  it('defaults: the devnet keeps its own; elsewhere the window is 7 days of the chain blocks (at most 2^20)', () => {
    assert.deepEqual(defaultParams(31337), DEVNET_DEPLOY);
    assert.deepEqual(defaultParams(1), PUBLIC_DEPLOY);
    assert.equal(defaultParams(1, 2).challengeWindow, 302_400n);
    assert.equal(defaultParams(1, 0.25).challengeWindow, 1n << 20n);
    for (const s of [12, 2, 0.25]) assert.deepEqual(checkDeployParams(1, defaultParams(1, s), { blockSeconds: s }).warnings, []); // prettier-ignore
  });
});

describe('parameter checks', () => {
  const safe = PUBLIC_DEPLOY;
  const unsafe: [keyof AnchorParams, AnchorParams][] = [
    ['challengeWindow', { ...safe, challengeWindow: 7_199n }],
    ['finality', { ...safe, finality: 31n }],
    ['claimBond', { ...safe, claimBond: 0n }],
    ['claimBond', { ...safe, claimBond: 10n ** 16n - 1n }],
    ['claimBond', { ...safe, claimBond: 10n ** 20n + 1n }],
    ['reporterBps', { ...safe, reporterBps: 99 }],
  ];

  it("refuses unsafe parameters on any chain id but the devnet's, naming the parameter and the safe range", () => {
    assert.deepEqual(checkDeployParams(1, safe).warnings, []);
    for (const [param, p] of unsafe) {
      assert.throws(
        () => checkDeployParams(11155111, p),
        (e: Error & { code?: string; param?: string; min?: bigint; max?: bigint }) => {
          assert.equal(e.code, 'DEPLOY_UNSAFE_PARAM');
          assert.equal(e.param, param);
          const r = safeRanges()[param];
          assert.deepEqual([e.min, e.max], [r.min, r.max]);
          assert.match(e.message, new RegExp(`^${param} .* safe range ${r.min}\\.\\.${r.max} .*--unsafe`));
          return true;
        },
      );
      assert.deepEqual(
        checkDeployParams(31337, p).warnings,
        [],
        'the devnet takes anything the contract takes',
      );
      const { warnings } = checkDeployParams(1, p, { unsafe: true });
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], new RegExp(`^${param} `));
    }
  });

  it("a day of blocks is a day at the chain's block time", () => {
    assert.equal(safeRanges(12).challengeWindow.min, 7_200n);
    assert.equal(safeRanges(2).challengeWindow.min, 43_200n);
    assert.throws(
      () => checkDeployParams(10, safe, { blockSeconds: 1 }),
      /challengeWindow 50400 blocks .*86400\.\./,
    );
  });

  it('refuses what the contract would refuse everywhere, --unsafe or not', () => {
    const bad: [keyof AnchorParams, AnchorParams][] = [
      ['challengeWindow', { ...DEVNET_DEPLOY, challengeWindow: 1n }],
      ['challengeWindow', { ...DEVNET_DEPLOY, challengeWindow: (1n << 20n) + 1n }],
      ['finality', { ...DEVNET_DEPLOY, finality: 129n }],
      ['reporterBps', { ...DEVNET_DEPLOY, reporterBps: 5001 }],
    ];
    for (const [param, p] of bad)
      for (const chain of [31337, 1])
        assert.throws(() => checkDeployParams(chain, p, { unsafe: true }), {
          code: 'DEPLOY_INVALID_PARAM',
          param,
        });
  });
});

describe('a chain without the CREATE2 factory', () => {
  let anvil: Anvil;
  let pub: PublicClient<Transport, Chain>;
  before(async () => {
    anvil = await startAnvil({ noCreate2Factory: true });
    pub = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), cacheTime: 0 });
  });
  after(() => anvil?.stop());

  it('is refused with a message that says how to fix it; installing the factory from its presigned transaction fixes it', async () => {
    const p = predictAnchor(31337, DEVNET_DEPLOY);
    await assert.rejects(planAnchor(pub, p), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CREATE2_FACTORY_MISSING');
      assert.match(
        e.message,
        /no CREATE2 factory at 0x4e59b44847b379578588920cA78FbF26c0B4956C.*--install-factory/,
      );
      return true;
    });
    const wallet = createWalletClient({
      chain: foundry,
      transport: http(anvil.rpcUrl),
      account: anvilAccount(1),
    });
    assert.deepEqual(await installFactory(wallet, pub), { installed: true });
    await requireFactory(pub);
    assert.deepEqual(await installFactory(wallet, pub), { installed: false });
    const d = await deployAnchorCreate2(wallet, pub, p);
    assert.equal(d.anchorSent, true);
    assert.equal(await pub.readContract({ address: p.anchor, abi: ANCHOR_ABI, functionName: 'anchorId' }), p.anchorId); // prettier-ignore
  });
});

describe('the verification bundle', () => {
  it('holds the exact sources and settings compiled, the compiler, names, addresses and constructor arguments', async () => {
    const p = predictAnchor(1, PUBLIC_DEPLOY);
    const b = await verificationBundle(p);
    assert.match(b.compilerVersion, /^v0\.8\.\d+\+commit\.[0-9a-f]{8}$/);
    const input = b.input as {
      language: string;
      sources: Record<string, { content: string }>;
      settings: { optimizer: unknown; viaIR: boolean; evmVersion: string };
    };
    assert.equal(input.language, 'Solidity');
    // The contracts/ folder as it is now, byte for byte: a stale bundle would not verify.
    const files = readdirSync(join(ROOT, 'contracts')).filter((f) => f.endsWith('.sol'));
    assert.deepEqual(Object.keys(input.sources).sort(), files.sort());
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    for (const f of files)
      assert.equal(sha(input.sources[f].content), sha(readFileSync(join(ROOT, 'contracts', f), 'utf8')), f);
    assert.deepEqual(input.settings.optimizer, { enabled: true, runs: 200 });
    assert.equal(input.settings.viaIR, true);
    assert.deepEqual(
      b.contracts.map((c) => [c.fullyQualifiedName, c.address, c.constructorArguments]),
      [
        ['Ed25519Verifier.sol:Ed25519Verifier', p.verifier, ''],
        // Off the devnet, quicknet's key: the anchor's lotteries draw from the League of Entropy's rounds.
        ['DrandBeacon.sol:DrandBeacon', p.drand, encodeAbiParameters(DrandBeacon.abi.find((e) => e.type === 'constructor')!.inputs, drandConstructorArgs(QUICKNET)).slice(2)], // prettier-ignore
        ['SortitionAnchor.sol:SortitionAnchor', p.anchor, p.anchorConstructorArgs.slice(2)],
      ],
    );
    assert.deepEqual(
      [b.factory, b.salt, b.anchorId, b.evmChainId],
      [CREATE2_FACTORY, DEFAULT_SALT, p.anchorId, 1],
    );
    // The file written beside the artifacts is the same input.
    assert.deepEqual(JSON.parse(readFileSync(join(ROOT, 'src', 'gen', 'solc-input.json'), 'utf8')), input);
  });
});

describe('encrypted key files (Web3 Secret Storage v3)', () => {
  // The format's published test vectors (geth's, ethers', every wallet's).
  const SECRET = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d';
  const PBKDF2 = {
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
      ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
      kdf: 'pbkdf2',
      kdfparams: {
        c: 262144,
        dklen: 32,
        prf: 'hmac-sha256',
        salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd',
      },
      mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
    },
    id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
    version: 3,
  };
  const SCRYPT = {
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
      ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
      kdf: 'scrypt',
      kdfparams: {
        dklen: 32,
        n: 262144,
        p: 8,
        r: 1,
        salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19',
      },
      mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
    },
    id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
    version: 3,
  };

  it('decrypt the published vectors; a wrong password is told apart from a broken file', () => {
    assert.equal(decryptKeystore(PBKDF2, 'testpassword'), SECRET);
    assert.equal(decryptKeystore(SCRYPT, 'testpassword'), SECRET);
    assert.equal(privateKeyToAccount(SECRET).address, '0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b');
    assert.throws(() => decryptKeystore(PBKDF2, 'wrong'), { code: 'KEYSTORE_PASSWORD' });
    assert.throws(() => decryptKeystore({ ...PBKDF2, version: 2 }, 'testpassword'), {
      code: 'KEYSTORE_INVALID',
    });
  });

  it('--evm-key takes a keystore file with its password, says when the password is missing, warns of a readable file', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'keystore-')), 'key.json');
    writeFileSync(file, JSON.stringify(PBKDF2), { mode: 0o600 });
    assert.equal(
      (await loadEvmKey(file, { password: 'testpassword' })).address,
      privateKeyToAccount(SECRET).address,
    );
    await assert.rejects(loadEvmKey(file), /encrypted keystore: give its password with --evm-password-file/);
    const open = join(mkdtempSync(join(tmpdir(), 'keystore-')), 'key');
    writeFileSync(open, `${SECRET}\n`, { mode: 0o644 });
    const warnings: string[] = [];
    await loadEvmKey(open, { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [`${open} is readable by other users of this machine: chmod 600 ${open}`]);
  });
});
