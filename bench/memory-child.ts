/**
 * The validator side of the memory benchmark (bench/memory.ts), run as its own process:
 * `node --expose-gc dist/bench/memory-child.js DIR`. DIR holds `genesis.bin` (the chain's genesis record),
 * `checkpoint.bin` (a signed header trusted as the head) and `block-NNNN.bin` (the blocks after it, in order).
 * It restores a Tracker at the checkpoint, judges every block (read one at a time), and prints one JSON line
 * (MemoryChildReport) with the process's memory after a full garbage collection. It never holds a tree.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeGenesis } from '../src/chain/genesis.js';
import { decodeSignedHeader } from '../src/chain/header.js';
import { toHex } from '../src/crypto/hash.js';
import { Tracker } from '../src/light/tracker.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';

export interface MemoryChildReport {
  readonly bench: 'memory';
  readonly blocks: number;
  readonly accepted: number;
  /** First refusal, if any: "height: result code". */
  readonly refused: string | null;
  readonly height: number;
  readonly stateRoot: string;
  readonly validateMs: number;
  /** Bytes, after a full GC, before restoring the checkpoint and after judging every block. */
  readonly rssBefore: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly gc: boolean;
}

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): NodeJS.MemoryUsage {
  gc?.();
  gc?.();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: memory-child DIR');
  // What a validator process runs (src/app/node.ts), addon included in the RSS.
  installNativeCrypto();
  const rssBefore = settle().rss;
  const genesis = decodeGenesis(await readFile(join(dir, 'genesis.bin')));
  const checkpoint = decodeSignedHeader(await readFile(join(dir, 'checkpoint.bin')));
  const tracker = new Tracker();
  tracker.track(genesis, { head: checkpoint, recent: [checkpoint], anchoredHeight: 0, faulty: false });

  const files = (await readdir(dir)).filter((f) => /^block-\d+\.bin$/.test(f)).sort();
  let accepted = 0;
  let refused: string | null = null;
  let validateMs = 0;
  for (const f of files) {
    const bytes = new Uint8Array(await readFile(join(dir, f)));
    const t0 = performance.now();
    const out = tracker.onBlock(genesis.chainId, bytes);
    validateMs += performance.now() - t0;
    if (out.verdict.result === 'accept') accepted++;
    else refused ??= `${f}: ${out.verdict.result} ${out.verdict.code ?? ''}`;
  }
  const state = tracker.state(genesis.chainId)!;
  const m = settle();
  const report: MemoryChildReport = {
    bench: 'memory',
    blocks: files.length,
    accepted,
    refused,
    height: state.height,
    stateRoot: toHex(state.stateRoot),
    validateMs,
    rssBefore,
    rss: m.rss,
    heapUsed: m.heapUsed,
    gc: gc !== undefined,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

// Runs only as a program, so that importing the module (for its types) starts nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`memory-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
