/**
 * CPU per judged 16-transaction block against the code as it stood when issue 15 set its target ("at most 0.7x
 * today's"): the last commit before block version 2 (BASELINE_COMMIT, version 1 only). The bench's own v1/v2 figure
 * (bench/core.ts) compares both versions in this build, where version 1 got faster too, from code they share; this
 * one holds the baseline still. The baseline is checked out from this repository's history into a temporary
 * directory, built against this checkout's node_modules, and judges today's version 1 block; this build judges
 * both versions. Needs git history (a clone, not an archive).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '../src/crypto/keys.js';
import { toHex } from '../src/crypto/hash.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';
import { benchBlock, buildTree, MULTIPROOF_CONTRACTS, SPACE_END } from './core.js';
import type { StoredBlock, TodayChildReport } from './today-child.js';
import { benchGenesis, heading, table } from './util.js';

/** 319c03a: protocol.md §14 written, no version 2 code yet; the metrics and Dusk items already in. */
export const BASELINE_COMMIT = '319c03a000a3d84d76af7ef92b59b2bd716879e9';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'today-child.js');
/** dist/bench -> the checkout. */
const REPO = join(here, '..', '..');

function storeBlocks(file: string, txs: number): void {
  const op = generateKeyPair();
  const owner = generateKeyPair();
  const genesis = benchGenesis(op.publicKey, SPACE_END, 'bench');
  const { tree, width } = buildTree(MULTIPROOF_CONTRACTS, owner.publicKey);
  installNativeCrypto('libsodium');
  const out: Record<string, StoredBlock> = {};
  for (const version of [1, 2] as const) {
    const { block, state } = benchBlock(tree, width, genesis, op, owner, txs, version);
    out[version] = {
      block: toHex(block.bytes),
      genesis: toHex(state.genesis.bytes),
      height: state.height,
      headHash: toHex(state.headHash),
      stateRoot: toHex(state.stateRoot),
      stateMin: String(state.stateMin),
      stateMax: String(state.stateMax),
      timeMs: state.timeMs,
      beacon: toHex(state.beacon),
    };
  }
  installNativeCrypto('pure');
  writeFileSync(file, JSON.stringify(out));
}

/** The baseline's dist, built in `dir` from this repository's history. */
function buildBaseline(dir: string): string {
  const src = join(dir, 'src-tree');
  execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', src, BASELINE_COMMIT], { stdio: 'ignore' });
  symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: src, stdio: 'ignore' });
  return join(src, 'dist');
}

export async function benchToday(rounds = 5, txs = 16): Promise<void> {
  heading(
    `today: CPU per judged ${txs}-tx block, this build against ${BASELINE_COMMIT.slice(0, 7)} (before version 2)`,
  );
  try {
    execFileSync('git', ['-C', REPO, 'cat-file', '-e', `${BASELINE_COMMIT}^{commit}`], { stdio: 'ignore' });
  } catch {
    console.log(
      `skipped: commit ${BASELINE_COMMIT.slice(0, 7)} is not in this checkout's history (a clone has it)`,
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sortition-today-'));
  try {
    const file = join(dir, 'blocks.json');
    storeBlocks(file, txs);
    const base = buildBaseline(dir);
    const now = join(REPO, 'dist');
    const runs: Record<string, number[]> = { base1: [], now1: [], now2: [] };
    const judge = (root: string, version: number): number =>
      (
        JSON.parse(
          execFileSync(process.execPath, [CHILD, root, file, String(version)], { encoding: 'utf8' }),
        ) as TodayChildReport
      ).cpuMs;
    for (let r = 0; r < rounds; r++) {
      runs.base1.push(judge(base, 1));
      runs.now1.push(judge(now, 1));
      runs.now2.push(judge(now, 2));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const m = { base1: median(runs.base1), now1: median(runs.now1), now2: median(runs.now2) };
    table([
      {
        code: `${BASELINE_COMMIT.slice(0, 7)}, version 1`,
        'cpu ms/block (median)': m.base1,
        runs: runs.base1.map((x) => x.toFixed(3)).join(' '),
      },
      {
        code: 'this build, version 1',
        'cpu ms/block (median)': m.now1,
        runs: runs.now1.map((x) => x.toFixed(3)).join(' '),
      },
      {
        code: 'this build, version 2',
        'cpu ms/block (median)': m.now2,
        runs: runs.now2.map((x) => x.toFixed(3)).join(' '),
      },
    ]);
    console.log(
      `version 2 now / version 1 at ${BASELINE_COMMIT.slice(0, 7)}: ${(m.now2 / m.base1).toFixed(2)}x (target <= 0.7x); ` +
        `version 1 now / then: ${(m.now1 / m.base1).toFixed(2)}x; version 2 / version 1, this build: ${(m.now2 / m.now1).toFixed(2)}x`,
    );
  } finally {
    try {
      execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', join(dir, 'src-tree')], {
        stdio: 'ignore',
      });
    } catch {
      // not created: the failure above says why
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
