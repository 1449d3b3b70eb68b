/**
 * Memory benchmark: a light validator's resident memory while following a chain of 10^6 contracts vs one of
 * 10^3. Replaying 10^6 creates through blocks would take too long, so the chain starts from a trusted
 * checkpoint: this process builds the tree, signs a checkpoint header over its root, restores a ChainProducer on
 * it and produces blocks of transfers signed by the contracts' owners, splits and creates. A child process
 * (bench/memory-child.ts, with --expose-gc) restores a Tracker at the checkpoint from the genesis record and the
 * signed header alone, judges every block, and reports its memory after a full GC. It never holds the tree.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { GenesisRecord } from '../src/chain/genesis.js';
import { signHeader } from '../src/chain/header.js';
import { ChainProducer } from '../src/chain/producer.js';
import { stateAfter } from '../src/chain/state.js';
import { signAction, type OwnerOp } from '../src/chain/tx.js';
import { txRoot } from '../src/chain/txroot.js';
import { toHex } from '../src/crypto/hash.js';
import { generateKeyPair, type KeyPair } from '../src/crypto/keys.js';

import { ProbabilityTree } from '../src/tree/tree.js';
import type { MemoryChildReport } from './memory-child.js';
import { benchGenesis, heading, jitteredLeaves, now, table } from './util.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'memory-child.js');
const SPACE_END = 1n << 62n;
const MiB = 1024 * 1024;

export interface MemoryRunResult {
  readonly contracts: number;
  readonly blocks: number;
  readonly txs: number;
  readonly buildMs: number;
  readonly produceMs: number;
  /** Heap the producing side holds for the tree (approximate: heap growth while building it). */
  readonly treeHeap: number;
  readonly child: MemoryChildReport;
}

/** A full GC in this process when possible (the flag is set at run time; a no-op if that fails). */
function collect(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // Without a GC the tree-heap figure is only rougher.
  }
}

/** Runs the child on `dir`; resolves with its report, kills it on timeout. */
async function runChild(dir: string, timeoutMs: number): Promise<MemoryChildReport> {
  const child = spawn(process.execPath, ['--expose-gc', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const err: string[] = [];
  let report: MemoryChildReport | null = null;
  createInterface({ input: child.stdout }).on('line', (l) => {
    if (l.startsWith('{"bench":"memory"')) report = JSON.parse(l) as MemoryChildReport;
  });
  createInterface({ input: child.stderr }).on('line', (l) => err.push(l));
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
      timer = setTimeout(() => reject(new Error(`memory child timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    // The last stdout line may still be in the pipe when 'exit' fires.
    await new Promise((r) => (child.stdout.readableEnded ? r(null) : child.stdout.once('end', r)));
    if (code !== 0 || report === null) throw new Error(`memory child exited ${code}: ${err.join('\n')}`);
    return report;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** n contracts of one owner spread over the space with jittered starts (as in bench/core.ts). */
function buildTree(n: number, owner: Uint8Array): { tree: ProbabilityTree; starts: bigint[]; width: bigint } {
  const { leaves, width } = jitteredLeaves(n, owner, SPACE_END);
  return { tree: ProbabilityTree.fromLeaves(leaves), starts: leaves.map((l) => l.contract.start), width };
}

export async function runMemory(n: number, blocks: number, txs: number): Promise<MemoryRunResult> {
  const op = generateKeyPair();
  const original = generateKeyPair();
  const genesis: GenesisRecord = benchGenesis(op.publicKey, SPACE_END, 'bench-memory');
  collect();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = now();
  const built = buildTree(n, original.publicKey);
  const { tree, width } = built;
  const buildMs = now() - t0;
  // Contracts acted on, spread evenly over the tree.
  const total = blocks * txs;
  const step = Math.max(1, Math.floor(n / total));
  const picks = built.starts.filter((_, i) => i % step === 0).slice(0, total);
  built.starts.length = 0;
  collect();
  const treeHeap = process.memoryUsage().heapUsed - heap0;

  // The trusted checkpoint: a header over the tree's root, signed by the operator, as a validator would have
  // persisted it after validating the chain up to there.
  const root = tree.summary();
  const checkpoint = signHeader(
    {
      chainId: genesis.chainId,
      height: 1000,
      prevHash: new Uint8Array(randomBytes(32)),
      stateRoot: root.digest,
      stateMin: root.min,
      stateMax: root.max,
      txRoot: txRoot([]),
      txCount: 0,
      timeMs: 1,
      beaconSig: new Uint8Array(0),
    },
    op.secretKey,
  );
  const producer = new ChainProducer(genesis, op.secretKey, { tree, state: stateAfter(genesis, checkpoint) });

  // Each picked contract's current owner, and how many creates its gap took.
  const ownerOf = new Map<bigint, KeyPair>();
  const gapUsed = new Map<bigint, bigint>();
  const owners = Array.from({ length: 8 }, () => generateKeyPair());
  const dir = await mkdtemp(join(tmpdir(), 'sortition-bench-mem-'));
  try {
    await writeFile(join(dir, 'genesis.bin'), genesis.bytes);
    await writeFile(join(dir, 'checkpoint.bin'), checkpoint.bytes);
    const t1 = now();
    let k = 0;
    for (let b = 0; b < blocks; b++) {
      for (let i = 0; i < txs; i++) {
        const s = picks[k++ % picks.length];
        if (i % 4 === 3) {
          // Unallocated space right after the contract's original half-width.
          const used = gapUsed.get(s) ?? 0n;
          gapUsed.set(s, used + 1n);
          const free = s + width / 2n + 1n + used * 16n;
          producer.create({ start: free, end: free + 10n, owner: owners[i % owners.length].publicKey });
          continue;
        }
        const leaf = tree.get(s)!;
        const owner = ownerOf.get(s) ?? original;
        const sign = (o: OwnerOp) =>
          signAction(
            { chainId: genesis.chainId, contractHash: leaf.digest, nonce: leaf.contract.nonce + 1, op: o },
            owner.secretKey,
          );
        if (i % 4 === 1) {
          const at = leaf.contract.start + (leaf.contract.end - leaf.contract.start) / 2n;
          const right = owners[(b + i) % owners.length];
          producer.owner(
            sign({ kind: 'split', at, rightOwner: right.publicKey, rightTerms: new Uint8Array(0) }),
            s,
          );
          ownerOf.set(at, right);
        } else {
          const to = owners[(b * 7 + i) % owners.length];
          producer.owner(sign({ kind: 'transfer', newOwner: to.publicKey, terms: new Uint8Array(0) }), s);
          ownerOf.set(s, to);
        }
      }
      const { block } = producer.seal(2 + b);
      await writeFile(join(dir, `block-${String(b).padStart(4, '0')}.bin`), block.bytes);
    }
    const produceMs = now() - t1;
    const child = await runChild(dir, 180_000);
    if (child.accepted !== blocks)
      throw new Error(`memory bench: ${child.accepted}/${blocks} blocks accepted (${child.refused})`);
    if (child.stateRoot !== toHex(producer.state.stateRoot))
      throw new Error('memory bench: the validator ended on another state root than the producer');
    return { contracts: n, blocks, txs, buildMs, produceMs, treeHeap, child };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchMemory(
  sizes: readonly number[] = [1_000, 1_000_000],
  opts: { blocks?: number; txs?: number } = {},
): Promise<void> {
  const blocks = opts.blocks ?? 30;
  const txs = opts.txs ?? 64;
  heading(
    `memory: light validator RSS following a chain from a trusted checkpoint, ${blocks} blocks of ${txs} ` +
      'transactions (1/2 owner-signed transfers, 1/4 splits, 1/4 creates), measured after a full GC',
  );
  const results: MemoryRunResult[] = [];
  for (const n of sizes) {
    results.push(await runMemory(n, blocks, txs));
    collect();
  }
  table(
    results.map((r) => ({
      contracts: r.contracts,
      'tree build ms': r.buildMs,
      'operator tree MiB': r.treeHeap / MiB,
      'blocks accepted': `${r.child.accepted}/${r.child.blocks}`,
      'validate ms/block': r.child.validateMs / r.child.blocks,
      'validator RSS at start MiB': r.child.rssBefore / MiB,
      'validator RSS MiB': r.child.rss / MiB,
      'validator heap MiB': r.child.heapUsed / MiB,
      gc: r.child.gc ? 'yes' : 'no',
    })),
  );
  const small = results[0];
  const large = results[results.length - 1];
  const ratio = large.child.rss / small.child.rss;
  console.log(
    `validator RSS at ${large.contracts} vs ${small.contracts} contracts: ${ratio.toFixed(3)}x ` +
      `(${((ratio - 1) * 100).toFixed(1)}%; target within 10%); heap ${(large.child.heapUsed / small.child.heapUsed).toFixed(3)}x`,
  );
}
