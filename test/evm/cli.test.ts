/**
 * `sortition-node evm deploy` and `evm status` as processes against a real anvil: deploy prints the address,
 * transactions on it show up in status, and bad keys or endpoints fail with a message and status 1.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex, type Address } from 'viem';
import { evmAnchorId } from '../../src/evm/anchor.js';
import { useAnvil } from './helpers.js';
import { attachAnchor, header, registerChain, sealedReport } from './anchor-helpers.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs the command without blocking this process's event loop (anvil answers the child meanwhile). */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  it('deploys with a key file, then reports registrations, commits and slashings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evm-cli-'));
    const keyFile = join(dir, 'evm.key');
    writeFileSync(keyFile, `${toHex(env.account(5).getHdKey().privateKey!)}\n`, { mode: 0o600 });
    const d = await run([
      'evm',
      'deploy',
      '--rpc',
      env.anvil.rpcUrl,
      '--evm-key',
      keyFile,
      '--challenge-window',
      '7',
    ]);
    assert.equal(d.status, 0, d.stderr);
    const out = JSON.parse(d.stdout) as {
      address: Address;
      anchorId: string;
      deployer: string;
      challengeWindow: number;
    };
    assert.match(out.address, /^0x[0-9a-fA-F]{40}$/);
    assert.equal(out.deployer, env.account(5).address);
    assert.equal(out.anchorId, toHex(evmAnchorId(31337, out.address)));

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

    const s = await run(['evm', 'status', '--rpc', env.anvil.rpcUrl, '--address', out.address]);
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

  it('deploys with a 0x hex key given inline', async () => {
    const d = await run(['evm', 'deploy', '--rpc', env.anvil.rpcUrl, '--evm-key', toHex(env.account(6).getHdKey().privateKey!)]); // prettier-ignore
    assert.equal(d.status, 0, d.stderr);
    assert.equal((JSON.parse(d.stdout) as { deployer: string }).deployer, env.account(6).address);
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
