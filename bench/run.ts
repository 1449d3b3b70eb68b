/** `npm run bench`: every benchmark, printing figures and ratios (no timing asserts). */
import { benchCore } from './core.js';
import { benchSortition } from './sortition.js';
import { benchNetwork } from './network.js';
import { benchMemory } from './memory.js';
import { benchDevnet } from './devnet.js';

const only = process.argv[2];
const started = Date.now();
if (!only || only === 'core') await benchCore();
if (!only || only === 'sortition') await benchSortition();
if (!only || only === 'memory') await benchMemory();
if (!only || only === 'network') await benchNetwork();
if (!only || only === 'devnet') await benchDevnet();
console.log(`\nbenchmarks done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
