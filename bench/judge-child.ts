/**
 * One version's CPU per judged block (bench/core.ts), in a process of its own: `node --expose-gc
 * dist/bench/judge-child.js VERSION TXS`. A node sees one block version, so its JIT is shaped by that version alone;
 * judging both in one process bills each for the other's code shapes (measured: v1 1.3-1.6 ms alone, 1.8 ms beside
 * v2). The 10^5-contract tree the block is built from is dropped before judging: a validator holds no tree, and
 * with it alive every scavenge of the judge's garbage took 9-16 ms (both versions 1.8-2.0 ms, against 1.2-1.3).
 *
 * Beside the total, the child replays the exact hash and signature calls of one judgement, alone: what the block's
 * cryptography costs, which no encoding can save, against everything else (decoding, the tree walk, garbage).
 * Prints one JSON line (JudgeChildReport).
 */
import { pathToFileURL } from 'node:url';
import { generateKeyPair, setSignatureVerifier, verify } from '../src/crypto/keys.js';
import { setSha256, sha256 } from '../src/crypto/hash.js';
import type { BlockVersion } from '../src/chain/block.js';
import { validateBlock } from '../src/chain/validate.js';
import { installNativeCrypto, sodiumEd25519Verify, sodiumSha256 } from '../src/runtime/native-crypto.js';
import { benchBlock, buildTree, cpuMsPer, MULTIPROOF_CONTRACTS, SPACE_END } from './core.js';
import { benchGenesis } from './util.js';

export interface JudgeChildReport {
  readonly version: BlockVersion;
  readonly txs: number;
  readonly cpuMs: number;
  /** The same judgement's SHA-256 calls alone, replayed. */
  readonly hashMs: number;
  readonly hashes: number;
  /** Its signature checks alone, replayed. */
  readonly verifyMs: number;
  readonly verifies: number;
}

function setup(version: BlockVersion, txs: number) {
  const op = generateKeyPair();
  const owner = generateKeyPair();
  const genesis = benchGenesis(op.publicKey, SPACE_END, 'bench');
  const { tree, width } = buildTree(MULTIPROOF_CONTRACTS, owner.publicKey);
  installNativeCrypto('libsodium');
  return benchBlock(tree, width, genesis, op, owner, txs, version);
}

/** Every hash input and signature check one call of `f` makes, copied, through the libsodium functions. */
function recordCrypto(f: () => void): {
  hashes: Uint8Array[];
  verifies: [Uint8Array, Uint8Array, Uint8Array][];
} {
  const sha = sodiumSha256();
  const ver = sodiumEd25519Verify();
  const hashes: Uint8Array[] = [];
  const verifies: [Uint8Array, Uint8Array, Uint8Array][] = [];
  setSha256((d) => (hashes.push(d.slice()), sha(d)));
  setSignatureVerifier((k, m, s) => (verifies.push([k.slice(), m.slice(), s.slice()]), ver(k, m, s)));
  try {
    f();
  } finally {
    installNativeCrypto('libsodium');
  }
  return { hashes, verifies };
}

function main(): void {
  const version = Number(process.argv[2]);
  const txs = Number(process.argv[3]);
  if ((version !== 1 && version !== 2) || !(txs > 0)) throw new Error('usage: judge-child VERSION(1|2) TXS');
  const { block, state } = setup(version, txs);
  (globalThis as { gc?: () => void }).gc?.();
  const judge = (): void => {
    const r = validateBlock(state, block.bytes);
    if (!r.ok) throw new Error(`bench block v${version} invalid: ${r.error.code} ${r.error.message}`);
  };
  // Warm up for a second, as a node that has judged for a while: the optimizing compiler runs on other threads,
  // which the process clock would otherwise bill to the first blocks measured (30 warm-up blocks left v1 at
  // 1.4-1.6 ms against 1.2 ms in steady state).
  cpuMsPer(judge, 1000);
  const cpuMs = cpuMsPer(judge, 1000);
  const calls = recordCrypto(judge);
  const hashMs = cpuMsPer(() => calls.hashes.forEach((d) => sha256(d)), 300);
  const verifyMs = cpuMsPer(() => calls.verifies.forEach(([k, m, s]) => verify(k, m, s)), 300);
  const report: JudgeChildReport = {
    version,
    txs,
    cpuMs,
    hashMs,
    hashes: calls.hashes.length,
    verifyMs,
    verifies: calls.verifies.length,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

// Runs only as a program, so that importing the module (for its types) starts nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`judge-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  }
}
