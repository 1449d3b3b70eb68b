/**
 * The monitoring profile tells the truth: Prometheus scrapes every node service of docker-compose.yml, its
 * configuration passes `promtool check config`, and every metric the Grafana dashboard queries is one a real
 * validator or operator exports (a renamed metric would leave a panel silently empty).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { collectDefaultMetrics } from 'prom-client';
import { isNodeImage, loadCompose } from '../../src/devnet/compose.js';
import { anchorAndTop } from '../helpers/chains.js';
import { testNet } from '../helpers/net.js';
import { removeDir, startChainNode } from '../operator/helpers.js';
import { generateKeyPair } from '../../src/crypto/keys.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PROM = join(ROOT, 'monitoring', 'prometheus.yml');
const DASHBOARD = join(ROOT, 'monitoring', 'grafana', 'dashboards', 'sortition.json');

interface PromConfig {
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
}

test('monitoring: every node service of docker-compose.yml is a Prometheus target, and only those', () => {
  const services = loadCompose(join(ROOT, 'docker-compose.yml'));
  const nodes = Object.entries(services)
    .filter(
      ([, s]) => isNodeImage(s) && ['anchor', 'operator', 'run'].includes(String([s.command].flat()[0])),
    )
    .map(([n]) => n)
    .sort();
  const cfg = YAML.parse(readFileSync(PROM, 'utf8'), { merge: true }) as PromConfig;
  const targets = cfg.scrape_configs
    .flatMap((j) => j.static_configs.flatMap((c) => c.targets))
    .map((t) => t.split(':')[0])
    .sort();
  assert.deepEqual(targets, nodes);
  assert.ok(services.prometheus && services.grafana, 'the monitoring profile has Prometheus and Grafana');
});

test('monitoring: promtool accepts the Prometheus configuration', (t) => {
  const which = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    // .ci/run installs Debian's prometheus package, so CI always runs this; a bare machine may not have it.
    t.skip('promtool is not installed (apt-get install prometheus)');
    return;
  }
  const out = execFileSync('promtool', ['check', 'config', PROM], { encoding: 'utf8' });
  assert.match(out, /SUCCESS/);
});

/** Metric names in a PromQL expression: identifiers not followed by `(` and not label names or keywords. */
function metricNames(expr: string): string[] {
  const withoutLabels = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const ids = [...withoutLabels.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined)
    .map((m) => m[1]);
  return ids.filter((x) => !['offset', 'bool', 'and', 'or', 'unless'].includes(x));
}

test('monitoring: every metric the dashboard queries is exported by a running validator or operator', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const wanted = new Map<string, string>();
  for (const p of dashboard.panels)
    for (const tg of p.targets) for (const m of metricNames(tg.expr)) wanted.set(m, p.title);
  assert.ok(wanted.size >= 15, `the dashboard queries ${wanted.size} metrics`);

  const net = await testNet();
  const { top, follow } = anchorAndTop();
  const op = await startChainNode(top.genesis, top.key);
  try {
    const node = await net.start({ ip: '127.0.0.36', ...follow });
    // Node processes collect process metrics (src/app/node.ts); this registry gets the same.
    collectDefaultMetrics({ register: net.registryOf(node) });
    // Exercise the labelled series so that each has a sample to show.
    top.producer.create({ start: 0n, end: 10n, owner: generateKeyPair().publicKey });
    await node.publishBlock(top.genesis.chainId, top.producer.seal(1).block.bytes);
    await op.svc.create({ start: 0n, end: 10n, owner: generateKeyPair().publicKey });
    await op.svc.sealNow();
    const exported = new Set<string>();
    for (const text of [await net.registryOf(node).metrics(), await op.registry.metrics()]) {
      for (const line of text.split('\n')) {
        const m = /^# TYPE (\S+) (\S+)/.exec(line);
        if (!m) continue;
        exported.add(m[1]);
        if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m[1] + s);
      }
    }
    const missing = [...wanted]
      .filter(([m]) => !exported.has(m))
      .map(([m, title]) => `${m} (panel "${title}")`);
    assert.deepEqual(missing, [], 'metrics the dashboard queries but no node exports');
  } finally {
    await op.stop();
    await removeDir(op.dir);
    await net.close();
  }
});
