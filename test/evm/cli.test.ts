/**
 * `sortition-node evm deploy` and `evm status` as processes against a real anvil: deploy lands the anchor where
 * its dry run said, writes the verification bundle, warns of a key on the command line, refuses unsafe parameters
 * off the devnet's chain id; transactions on it show up in status; bad keys or endpoints fail with a message and
 * status 1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicClient, encodeAbiParameters, http, toHex, type Address } from 'viem';
import { DrandBeacon } from '../../src/gen/contracts.js';
import { DEV_DRAND, drandConstructorArgs } from '../../src/evm/drand.js';
import { DEVNET_DEPLOY, PUBLIC_DEPLOY, evmAnchorId } from '../../src/evm/anchor.js';
import { startAnvil, anvilAccount, type Anvil } from '../../src/evm/anvil.js';
import { parseSalt, predictAnchor } from '../../src/evm/deploy.js';
import { useAnvil } from './helpers.js';
import { attachAnchor, header, registerChain, sealedReport } from './anchor-helpers.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** The children's working folder: where a deployment writes its verification bundle by default. */
const cwd = mkdtempSync(join(tmpdir(), 'evm-cli-cwd-'));

/** A file holding anvil dev account `i`'s key, mode 0600: the form `--evm-key` is documented with. */
function keyFile(i: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'evm-key-')), 'evm.key');
  writeFileSync(file, `${toHex(anvilAccount(i).getHdKey().privateKey!)}\n`, { mode: 0o600 });
  return file;
}

/** Runs the command without blocking this process's event loop (anvil answers the child meanwhile). */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('sortition-node evm deploy / status', () => {
  const env = useAnvil();

  it('--dry-run sends nothing and prints the prediction; the deployment lands there, and again finds it', async () => {
    const key = keyFile(5);
    const deployer = env.account(5).address;
    const args = [
      'evm',
      'deploy',
      '--evm-rpc',
      env.anvil.rpcUrl,
      '--evm-key',
      key,
      '--challenge-window',
      '7',
    ];
    const predicted = predictAnchor(31337, { ...DEVNET_DEPLOY, challengeWindow: 7n });
    const nonce = await env.pub.getTransactionCount({ address: deployer });
    const dry = await run([...args, '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(dry.stderr, '', 'a key file: no warning');
    const plan = JSON.parse(dry.stdout) as Record<string, unknown> & { gas: Record<string, string> };
    assert.deepEqual(
      [
        plan.dryRun,
        plan.evmChainId,
        plan.address,
        plan.verifier,
        plan.anchorId,
        plan.factory,
        plan.salt,
        plan.drand,
      ],
      [
        true,
        31337,
        predicted.anchor,
        predicted.verifier,
        predicted.anchorId,
        predicted.factory,
        predicted.salt,
        { network: 'devnet', address: predicted.drand },
      ],
    );
    assert.deepEqual(
      [plan.challengeWindow, plan.finality, plan.claimBond, plan.reporterBps],
      ['7', '0', String(10n ** 16n), 1000],
    );
    assert.deepEqual([plan.alreadyDeployed, plan.factoryPresent, plan.enoughFunds], [false, true, true]);
    const gas = BigInt(plan.gas.total);
    assert.ok(
      gas > 5_000_000n &&
        gas === BigInt(plan.gas.verifier) + BigInt(plan.gas.drand) + BigInt(plan.gas.anchor),
      plan.gas.total,
    );
    assert.equal(BigInt(plan.costWei as string), gas * BigInt(plan.feePerGasWei as string));
    assert.equal(plan.verificationFile, undefined, 'a dry run writes nothing unless asked');
    assert.equal(await env.pub.getTransactionCount({ address: deployer }), nonce, 'nothing sent');
    assert.equal(await env.pub.getCode({ address: predicted.anchor }), undefined);

    const d = await run(args);
    assert.equal(d.status, 0, d.stderr);
    const out = JSON.parse(d.stdout) as {
      address: Address;
      anchorId: string;
      deployer: string;
      alreadyDeployed: boolean;
      verificationFile: string;
      transactions: string[];
    };
    assert.deepEqual([out.address, out.anchorId], [predicted.anchor, predicted.anchorId]);
    assert.equal(out.deployer, deployer);
    assert.equal(out.anchorId, toHex(evmAnchorId(31337, out.address)));
    assert.deepEqual([out.alreadyDeployed, out.transactions.length], [false, 3]);
    assert.equal(
      out.verificationFile,
      join(cwd, `sortition-anchor-31337-${predicted.anchor}.verification.json`),
    );
    const bundle = JSON.parse(readFileSync(out.verificationFile, 'utf8')) as {
      contracts: { fullyQualifiedName: string; address: string; constructorArguments: string }[];
      input: { sources: Record<string, unknown> };
    };
    assert.deepEqual(
      bundle.contracts.map((c) => [c.fullyQualifiedName, c.address, c.constructorArguments]),
      [
        ['Ed25519Verifier.sol:Ed25519Verifier', predicted.verifier, ''],
        ['DrandBeacon.sol:DrandBeacon', predicted.drand, encodeAbiParameters(DrandBeacon.abi.find((e) => e.type === 'constructor')!.inputs, drandConstructorArgs(DEV_DRAND)).slice(2)], // prettier-ignore
        ['SortitionAnchor.sol:SortitionAnchor', predicted.anchor, predicted.anchorConstructorArgs.slice(2)],
      ],
    );
    assert.ok('SortitionAnchor.sol' in bundle.input.sources);

    // Idempotent: reported, not failed, nothing sent; the bundle can go to stdout instead.
    const nonce2 = await env.pub.getTransactionCount({ address: deployer });
    const again = await run([...args, '--print-verification']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /deployed already at/);
    const o2 = JSON.parse(again.stdout) as {
      address: string;
      alreadyDeployed: boolean;
      verification: unknown;
    };
    assert.deepEqual([o2.address, o2.alreadyDeployed], [predicted.anchor, true]);
    assert.deepEqual(o2.verification, bundle);
    assert.equal(await env.pub.getTransactionCount({ address: deployer }), nonce2);
  });

  it('deploys with a key file, then reports registrations, commits and slashings', async () => {
    const d = await run([
      'evm',
      'deploy',
      '--rpc',
      env.anvil.rpcUrl,
      '--evm-key',
      keyFile(5),
      '--challenge-window',
      '7',
      '--salt',
      'status test',
    ]);
    assert.equal(d.status, 0, d.stderr);
    const out = JSON.parse(d.stdout) as { address: Address; anchorId: string };
    assert.equal(out.address, predictAnchor(31337, { ...DEVNET_DEPLOY, challengeWindow: 7n }, parseSalt('status test')).anchor); // prettier-ignore

    const anchor = await attachAnchor(env, out.address);
    assert.equal(await anchor.read<bigint>('challengeWindow'), 7n);
    const expiry = Number(await env.pub.getBlockNumber()) + 500;
    const r = await registerChain(anchor, {
      start: 0n,
      end: 1n << 32n,
      expiry,
      committer: env.account(1).address,
    });
    const h1 = header(r.genesis.chainId, 1, r.key, { salt: 1 });
    await anchor.send(1, 'commit', [r.id, toHex(h1.bytes)]);
    await sealedReport(anchor, 2, 'slashCommitMismatch', [
      r.id,
      toHex(header(r.genesis.chainId, 1, r.key, { salt: 2 }).bytes),
    ]);

    const s = await run(['evm', 'status', '--evm-rpc', env.anvil.rpcUrl, '--anchor-address', out.address]);
    assert.equal(s.status, 0, s.stderr);
    const st = JSON.parse(s.stdout) as {
      anchorId: string;
      registrations: {
        chainId: string;
        start: string;
        end: string;
        phase: string;
        slashed: boolean;
        height: string;
        genesis: string;
      }[];
      commits: { chainId: string; height: string; headerHash: string }[];
      slashings: { chainId: string; kind: number; reporter: string }[];
      balance: string;
      locked: string;
      owed: string;
    };
    assert.equal(st.anchorId, out.anchorId);
    assert.equal(st.registrations.length, 1);
    assert.deepEqual(
      [
        st.registrations[0].chainId,
        st.registrations[0].start,
        st.registrations[0].end,
        st.registrations[0].phase,
      ],
      [r.id, '0', String(1n << 32n), 'active'],
    );
    assert.equal(st.registrations[0].slashed, true);
    // The genesis record itself is on chain, so a node can follow the chain from the anchor alone.
    assert.equal(st.registrations[0].genesis, toHex(r.genesis.bytes));
    assert.deepEqual(
      st.commits.map((c) => [c.chainId, c.height, c.headerHash]),
      [[r.id, '1', toHex(h1.hash)]],
    );
    assert.deepEqual(
      st.slashings.map((x) => [x.chainId, x.kind, x.reporter]),
      [[r.id, 2, env.account(2).address]],
    );
    assert.equal(BigInt(st.balance), BigInt(st.locked) + BigInt(st.owed));
  });

  it('deploys with a 0x hex key given inline, warning that every user of the machine sees it', async () => {
    const d = await run(['evm', 'deploy', '--rpc', env.anvil.rpcUrl, '--evm-key', toHex(env.account(6).getHdKey().privateKey!)]); // prettier-ignore
    assert.equal(d.status, 0, d.stderr);
    assert.equal((JSON.parse(d.stdout) as { deployer: string }).deployer, env.account(6).address);
    assert.match(d.stderr, /warning: --evm-key: a key given on the command line is visible to every user/);
    assert.match(d.stderr, /chmod 600/);
  });

  it('fails with a message on a bad key, a dead endpoint or a non-contract address', async () => {
    const bad = await run(['evm', 'deploy', '--rpc', env.anvil.rpcUrl, '--evm-key', '0x1234']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--evm-key/);
    const dead = await run([
      'evm',
      'status',
      '--rpc',
      'http://127.0.0.1:1',
      '--address',
      env.account(0).address,
    ]);
    assert.equal(dead.status, 1);
    assert.match(dead.stderr, /no EVM JSON-RPC answers/);
    const none = await run(['evm', 'status', '--rpc', env.anvil.rpcUrl, '--address', env.account(0).address]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no contract at/);
  });
});

describe("sortition-node evm deploy on a chain id other than the devnet's", () => {
  let anvil: Anvil;
  before(async () => {
    anvil = await startAnvil({ chainId: 1337 });
  });
  after(() => anvil?.stop());

  it('refuses unsafe parameters, naming the parameter and its safe range; --unsafe deploys with a warning', async () => {
    const key = keyFile(7);
    const base = ['evm', 'deploy', '--rpc', anvil.rpcUrl, '--evm-key', key];
    const pub = createPublicClient({ transport: http(anvil.rpcUrl) });
    const refused = await run([...base, '--challenge-window', '20']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /DEPLOY_UNSAFE_PARAM: challengeWindow 20 blocks is outside the safe range 7200\.\.1048576 on EVM chain 1337.*--unsafe/); // prettier-ignore
    const tinyBond = await run([...base, '--claim-bond', '0', '--dry-run']);
    assert.equal(tinyBond.status, 1);
    assert.match(tinyBond.stderr, /DEPLOY_UNSAFE_PARAM: claimBond 0 wei is outside the safe range/);
    const invalid = await run([...base, '--finality', '129', '--unsafe']);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /DEPLOY_INVALID_PARAM: finality 129 blocks: the contract takes 0\.\.128/);
    assert.equal(await pub.getTransactionCount({ address: anvilAccount(7).address }), 0, 'nothing sent');

    const forced = await run([
      ...base,
      '--challenge-window',
      '20',
      '--unsafe',
      '--verification',
      join(cwd, 'forced.json'),
    ]);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /warning: --unsafe: challengeWindow 20 blocks is outside the safe range/);
    const out = JSON.parse(forced.stdout) as {
      address: string;
      anchorId: string;
      warnings: string[];
      verificationFile: string;
    };
    const p = predictAnchor(1337, { ...PUBLIC_DEPLOY, challengeWindow: 20n });
    assert.deepEqual([out.address, out.anchorId, out.warnings.length], [p.anchor, p.anchorId, 1]);
    assert.ok(existsSync(out.verificationFile));

    // The public defaults pass (a fresh chain is taken to have 12 s blocks: a 7-day window is 50,400 of them).
    const dry = await run(['evm', 'deploy', '--rpc', anvil.rpcUrl, '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as Record<string, unknown>;
    assert.deepEqual(
      [plan.challengeWindow, plan.finality, plan.claimBond, plan.blockSeconds, plan.address],
      ['50400', '64', String(10n ** 17n), 12, predictAnchor(1337, PUBLIC_DEPLOY).anchor],
    );
  });
});
