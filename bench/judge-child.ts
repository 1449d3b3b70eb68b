/**
 * One version's CPU per judged block (bench/core.ts), in a process of its own: `node dist/bench/judge-child.js
 * VERSION TXS`. A node sees one block version, so its JIT is shaped by that version alone; judging both in one
 * process bills each for the other's code shapes (measured: v1 1.3-1.6 ms alone, 1.8 ms beside v2). Prints one
 * JSON line (JudgeChildReport).
 */
import { pathToFileURL } from 'node:url';
import { generateKeyPair } from '../src/crypto/keys.js';
import type { BlockVersion } from '../src/chain/block.js';
import { validateBlock } from '../src/chain/validate.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';
import { benchBlock, buildTree, cpuMsPer, MULTIPROOF_CONTRACTS, SPACE_END } from './core.js';
import { benchGenesis } from './util.js';

export interface JudgeChildReport {
  readonly version: BlockVersion;
  readonly txs: number;
  readonly cpuMs: number;
}

function main(): void {
  const version = Number(process.argv[2]);
  const txs = Number(process.argv[3]);
  if ((version !== 1 && version !== 2) || !(txs > 0)) throw new Error('usage: judge-child VERSION(1|2) TXS');
  const op = generateKeyPair();
  const owner = generateKeyPair();
  const genesis = benchGenesis(op.publicKey, SPACE_END, 'bench');
  const { tree, width } = buildTree(MULTIPROOF_CONTRACTS, owner.publicKey);
  installNativeCrypto('libsodium');
  const { block, state } = benchBlock(tree, width, genesis, op, owner, txs, version);
  const judge = (): void => {
    const r = validateBlock(state, block.bytes);
    if (!r.ok) throw new Error(`bench block v${version} invalid: ${r.error.code} ${r.error.message}`);
  };
  for (let i = 0; i < 30; i++) judge();
  const report: JudgeChildReport = { version, txs, cpuMs: cpuMsPer(judge, 800) };
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
