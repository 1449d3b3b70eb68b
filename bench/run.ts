/** `npm run bench`: every benchmark, printing figures and ratios (no timing asserts). */
import { benchCore } from './core.js';

const only = process.argv[2];
const started = Date.now();
if (!only || only === 'core') await benchCore();
console.log(`\nbenchmarks done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
