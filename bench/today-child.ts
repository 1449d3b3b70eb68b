/**
 * Judges one stored block with the code under a given build (bench/today.ts): `node dist/bench/today-child.js
 * DIST_ROOT BLOCKS_JSON VERSION`. DIST_ROOT is this build's dist or an earlier commit's, so the block a node writes
 * today can be judged by the code as it stood before. Steady state, process clock, as bench/judge-child.ts. Prints
 * one JSON line (TodayChildReport).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A block and the state before it, in hex and decimal strings, as bench/today.ts stores them. */
export interface StoredBlock {
  readonly block: string;
  readonly genesis: string;
  readonly height: number;
  readonly headHash: string;
  readonly stateRoot: string;
  readonly stateMin: string;
  readonly stateMax: string;
  readonly timeMs: number;
  readonly beacon: string;
}

export interface TodayChildReport {
  readonly root: string;
  readonly version: string;
  readonly cpuMs: number;
}

/** What the child needs of a build; the functions kept their names and places since before version 2. */
interface Build {
  readonly validateBlock: (state: unknown, bytes: Uint8Array) => { ok: boolean; error?: { code: string } };
  readonly decodeGenesis: (bytes: Uint8Array) => unknown;
  readonly installNativeCrypto: (prefer: 'libsodium') => unknown;
}

async function load(root: string): Promise<Build> {
  const mod = async (p: string) =>
    (await import(pathToFileURL(join(root, p)).href)) as Record<string, unknown>;
  const validate = await mod('src/chain/validate.js');
  const genesis = await mod('src/chain/genesis.js');
  const crypto = await mod('src/runtime/native-crypto.js');
  return {
    validateBlock: validate.validateBlock as Build['validateBlock'],
    decodeGenesis: genesis.decodeGenesis as Build['decodeGenesis'],
    installNativeCrypto: crypto.installNativeCrypto as Build['installNativeCrypto'],
  };
}

/**
 * bench/core.ts's cpuMsPer, repeated: importing it would load this build's chain code into a child judging with an
 * earlier build's, and a process should hold only the code it measures (see bench/judge-child.ts).
 */
function cpuMsPer(f: () => void, ms: number): number {
  let runs = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (runs < 3 || performance.now() - t0 < ms) {
    f();
    runs++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / runs;
}

async function main(): Promise<void> {
  const [root, file, version] = process.argv.slice(2);
  if (!root || !file || !version) throw new Error('usage: today-child DIST_ROOT BLOCKS_JSON VERSION');
  const b = load(root);
  const d = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, StoredBlock>)[version];
  const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
  const build = await b;
  build.installNativeCrypto('libsodium');
  const state = {
    genesis: build.decodeGenesis(hex(d.genesis)),
    height: d.height,
    headHash: hex(d.headHash),
    stateRoot: hex(d.stateRoot),
    stateMin: BigInt(d.stateMin),
    stateMax: BigInt(d.stateMax),
    timeMs: d.timeMs,
    beacon: hex(d.beacon),
  };
  const bytes = hex(d.block);
  const judge = (): void => {
    const r = build.validateBlock(state, bytes);
    if (!r.ok) throw new Error(`block v${version} refused by ${root}: ${r.error?.code}`);
  };
  cpuMsPer(judge, 1000); // warm-up, as bench/judge-child.ts
  const report: TodayChildReport = { root, version, cpuMs: cpuMsPer(judge, 1000) };
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`today-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
