/** `npm run bench`: every benchmark, printing figures and ratios (no timing asserts). */
import { benchCore } from './core.js';
import { benchSortition } from './sortition.js';
import { benchNetwork } from './network.js';
import { benchMemory } from './memory.js';
import { benchOperator } from './operator.js';
import { benchDevnet } from './devnet.js';
import { benchEvm } from './evm.js';
import { benchWatch } from './watch.js';
import { benchFuzz } from './fuzz.js';
import { benchToday } from './today.js';
import { benchApi } from './api.js';
import { benchBrowser } from './browser.js';
import { benchChains } from './chains.js';
import { BENCH_BASE_ENV, benchBase } from './hosts.js';

const GROUPS: Record<string, () => Promise<void>> = {
  core: benchCore,
  sortition: benchSortition,
  memory: benchMemory,
  network: benchNetwork,
  operator: benchOperator,
  devnet: benchDevnet,
  evm: benchEvm,
  watch: benchWatch,
  fuzz: benchFuzz,
  today: benchToday,
  api: benchApi,
  browser: benchBrowser,
  chains: benchChains,
};

// `--base 127.0.9`: the loopback addresses the benchmarks bind (bench/hosts.ts); set in the environment, so the
// processes a benchmark starts take it too.
const args = process.argv.slice(2);
const baseAt = args.indexOf('--base');
if (baseAt >= 0) {
  process.env[BENCH_BASE_ENV] = args[baseAt + 1] ?? '';
  args.splice(baseAt, 2);
}
benchBase();
const only = args[0];
if (only !== undefined && !(only in GROUPS)) {
  console.error(`bench: unknown group ${JSON.stringify(only)}; one of: ${Object.keys(GROUPS).join(', ')}`);
  process.exit(2);
}
const started = Date.now();
for (const [name, run] of Object.entries(GROUPS)) if (!only || only === name) await run();
console.log(`\nbenchmarks done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
