import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pooled, topology, type NetworkRunResult } from '../../bench/network.js';

function run(latencies: number[], cpuCores: number): NetworkRunResult {
  const lat = [...latencies].sort((a, b) => a - b);
  return {
    config: { nodes: 2, mode: 'full', blocks: 1, rate: 1, transfers: 0, creates: 0, seed: 1 },
    latencies: lat,
    p50: lat[0],
    p99: lat[lat.length - 1],
    max: lat[lat.length - 1],
    delivery: 1,
    blocksPerSec: 1,
    txPerSec: 0,
    viaSync: 1,
    maxHops: 1,
    validateMs: 1,
    judgeCpuMs: 1,
    queueWaitMs: 0,
    delayMs: 1,
    cpuCores,
    idleCores: 0,
  };
}

test('rounds of the network benchmark pool their latencies before taking percentiles', () => {
  // One slow round must not decide the p99 alone, nor vanish: the pooled tail is the tail of all samples.
  const fast = run(
    Array.from({ length: 99 }, (_, i) => i + 1),
    0.2,
  );
  const slow = run([500], 0.4);
  const p = pooled([fast, slow]);
  assert.equal(p.latencies.length, 100);
  assert.equal(p.p50, 50);
  assert.equal(p.p99, 99);
  assert.equal(p.max, 500);
  assert.equal(p.viaSync, 2);
  assert.ok(Math.abs(p.cpuCores - 0.3) < 1e-9);
});

test('the benchmark topology is connected and fixed by its seed', () => {
  const edges = topology(25, 7);
  assert.deepEqual(topology(25, 7), edges);
  const seen = new Set([0]);
  for (let changed = true; changed;) {
    changed = false;
    edges.forEach((to, i) =>
      to.forEach((j) => {
        if (seen.has(i) !== seen.has(j)) {
          seen.add(i);
          seen.add(j);
          changed = true;
        }
      }),
    );
  }
  assert.equal(seen.size, 26);
});
