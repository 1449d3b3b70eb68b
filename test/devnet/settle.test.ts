/**
 * `sortition-node devnet --scenario settle` as a user runs it: the top-level chain gets an expiry a few EVM blocks
 * ahead, its operator stops sealing there (and the nested chain's with it), settles its chain from its own tree (claim, the challenge window,
 * timeout), and the runner's verdict (exit 0) requires every validator to show the payout. The test reads the
 * contract itself, on the devnet's EVM node, while the runner waits for its verdict.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createPublicClient, http } from 'viem';
import { ANCHOR_ABI } from '../../src/evm/anchor.js';
import { DrandBeacon } from '../../src/gen/contracts.js';
import { anvilAccount } from '../../src/evm/anvil.js';
import { DEVNET_ANCHOR_ADDRESS } from '../../src/evm/devnode.js';
import { waitFor } from '../helpers/net.js';
import { COMPOSE } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'devnet-settle-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** What src/cli/devnet.ts pays the settle scenario's prize to (anvil's dev account 5). */
const PAYOUT = anvilAccount(5).address;

test('devnet --scenario settle: the top chain stops at its expiry, settles, and its prize is paid on chain', async () => {
  const subnet = process.env.SORTITION_DEVNET_SUBNET ?? '127.0.2';
  const child = spawn(
    process.execPath,
    [CLI, 'devnet', '--compose', COMPOSE, '--scenario', 'settle', '--duration', '15', '--work-dir', work],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: Record<string, unknown>[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(`${l}\n`);
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // the summary table
    }
  });
  try {
    await waitFor(async () => lines.some((x) => x.msg === 'devnet up'), 'devnet up', 180_000);
    const pub = createPublicClient({ transport: http(`http://${subnet}.1:8545`) });
    // The contract credits the payout at timeout: expiry (30 blocks), the claim, the window (20), the timeout.
    const owed = () =>
      pub
        .readContract({
          address: DEVNET_ANCHOR_ADDRESS,
          abi: ANCHOR_ABI,
          functionName: 'owed',
          args: [PAYOUT],
        })
        .catch(() => 0n);
    await waitFor(
      async () => (await owed()) > 0n,
      'the prize credited to the payout address in the contract',
      200_000,
    );
    // docker-compose.yml: a 10-ether deposit, the default 50% safety share returned to the operator.
    assert.equal(await owed(), 5n * 10n ** 18n, 'the prize: the deposit less the safety share');
    // Read while the devnet (and its anvil) still runs: it stops once the runner has its verdict.
    // The draw came from the devnet's drand round, posted once published (by the operator, or first by the
    // validator's settler: anyone may; issue 25 item 3).
    const drand = await pub.readContract({
      address: DEVNET_ANCHOR_ADDRESS,
      abi: ANCHOR_ABI,
      functionName: 'drand',
    });
    const posted = await pub.getContractEvents({ address: drand, abi: DrandBeacon.abi, eventName: 'Posted', fromBlock: 0n }); // prettier-ignore
    assert.equal(posted.length, 1, 'the round was posted');
    const [fixed] = await pub.getContractEvents({
      address: DEVNET_ANCHOR_ADDRESS,
      abi: ANCHOR_ABI,
      eventName: 'BeaconFixed',
      fromBlock: 0n,
    });
    assert.equal(fixed.args.block_, 0n, 'drawn from the drand round, not from a block hash');
    const code = await exited;
    const said = lines.filter(
      (x) => (x.level as number) >= 40 || /verdict|settled|agree|DISAGREE/.test(String(x.msg)),
    );
    assert.equal(code, 0, `the runner's verdict: ${JSON.stringify(said)} (stderr: ${err.slice(-2000)})`);
    const verdict = lines.find(
      (x) =>
        x.msg === 'the chain settled on chain: its prize was paid out (GET /v1/anchor on every validator)',
    );
    assert.ok(verdict, 'the runner saw the payout from every validator');
    const agreed = lines.some(
      (x) => x.msg === 'honest nodes hold the same block at a common height on every chain',
    );
    assert.ok(agreed, 'the honest nodes agree, the stopped top chain included');
    const opLog = readFileSync(join(work, 'logs', 'operator-top.log'), 'utf8');
    assert.match(opLog, /chain expired: block production stops/, 'the top operator stopped at its expiry');
    // A chain expires with its parent (issue 27): the nested chain stopped too, saying why.
    const childLog = readFileSync(join(work, 'logs', 'operator-child.log'), 'utf8');
    assert.match(
      childLog,
      /"why":"the parent chain [0-9a-f]{16} expired[^"]*","msg":"chain expired: block production stops"/,
      'the child operator stopped with its parent',
    );
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
    await exited;
  }
});
