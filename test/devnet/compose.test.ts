import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCompose, planServices, scaleValidators, rewriteValue } from '../../src/devnet/compose.js';
import { Devnet } from '../../src/devnet/runner.js';
import { createLogger } from '../../src/runtime/logger.js';
import { COMPOSE } from './helpers.js';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { readFileSync } from 'node:fs';
import { DEVNET_ANCHOR_ADDRESS } from '../../src/evm/devnode.js';
import { DEVNET_DEPLOY, DEVNET_EVM_CHAIN_ID } from '../../src/evm/anchor.js';
import { predictAnchor } from '../../src/evm/deploy.js';

const RESYNC =
  `the devnet's anchor is at ${DEVNET_ANCHOR_ADDRESS} (CREATE2: it moves with the contracts' bytecode); ` +
  '`npm run devnet-address` puts it in docker-compose.yml';

test('docker-compose.yml names the devnet anchor where the CREATE2 factory puts it', () => {
  const text = readFileSync(COMPOSE, 'utf8');
  const named = [...text.matchAll(/SORTITION_ANCHOR_ADDRESS: '(0x[0-9a-fA-F]{40})'/g)].map((m) => m[1]);
  assert.ok(named.length > 0, 'the compose file names the anchor');
  const predicted = predictAnchor(DEVNET_EVM_CHAIN_ID, DEVNET_DEPLOY).anchor;
  assert.equal(predicted, DEVNET_ANCHOR_ADDRESS);
  for (const a of named) assert.equal(a, predicted, RESYNC);
});

test('the local runner is driven by docker-compose.yml itself: same services, commands and environment', () => {
  const raw = loadCompose(COMPOSE);
  const plans = planServices(raw, { workDir: '/tmp/w' });
  const defaults = Object.keys(raw).filter((n) => !(raw[n] as { profiles?: string[] }).profiles?.length);
  assert.deepEqual(
    plans.map((p) => p.name),
    defaults,
    'every default service, in file order',
  );
  const devnet = new Devnet({ plans, workDir: '/tmp/w', log: createLogger('silent', 't') });
  for (const p of plans) {
    const svc = raw[p.name] as { command: string[]; environment?: Record<string, string> };
    assert.equal(p.args.length, svc.command.length, `${p.name}: the file's command`);
    assert.deepEqual(
      Object.keys(p.env).sort(),
      Object.keys(svc.environment ?? {}).sort(),
      `${p.name}: the file's variables`,
    );
    const running = devnet.service(p.name);
    for (const [k, v] of Object.entries(p.env))
      assert.equal(running.env[k], v, `${p.name} runs with ${k} from the file`);
    // Nothing from the file is left pointing at a service name or an any-address bind.
    for (const v of [...Object.values(p.env), ...p.args]) {
      assert.doesNotMatch(v, /0\.0\.0\.0|\/dns4\/|https?:\/\/[a-z]/, `${p.name}: ${v} is rewritten`);
    }
    if (p.role !== 'client') {
      assert.ok(
        p.healthUrl?.startsWith(`http://${p.address}:`),
        `${p.name} has a healthcheck on its own address`,
      );
      assert.ok(p.dataDirs.length === 1, `${p.name} keeps its data in a named volume`);
    }
  }
  // The topology the issue asks for: an EVM chain with the anchor contract, a top-level operator registered there
  // with a deposit, a nested operator, four validators or more, all pointed at the same contract.
  const roles = plans.map((p) => p.role);
  assert.equal(roles.filter((r) => r === 'evm').length, 1);
  const evm = plans.find((p) => p.role === 'evm')!;
  const top = plans.find((p) => p.name === 'operator-top')!;
  assert.ok(top.env.SORTITION_EVM_KEY && top.env.SORTITION_DEPOSIT, 'the top operator pays a deposit');
  assert.ok(evm.env.SORTITION_FUND?.includes(privateKeyToAccount(top.env.SORTITION_EVM_KEY as Hex).address));
  for (const p of plans.filter((x) => x.role === 'operator' || x.role === 'validator')) {
    assert.equal(p.env.SORTITION_EVM_RPC, `http://${evm.address}:8545`, `${p.name} uses the devnet's EVM`);
    assert.equal(
      p.env.SORTITION_ANCHOR_ADDRESS,
      DEVNET_ANCHOR_ADDRESS,
      `${p.name} trusts its contract: ${RESYNC}`,
    );
  }
  assert.ok(roles.filter((r) => r === 'operator').length >= 2);
  assert.ok(roles.filter((r) => r === 'validator').length >= 4);
  assert.equal(new Set(plans.map((p) => p.address)).size, plans.length, 'one address per service');
  assert.ok(
    plans.some((p) => p.labels['sortition.fault-target'] === 'true'),
    'a fault target for scenarios',
  );
  // The optional misbehaving operator lives in a profile.
  const faulty = planServices(raw, { workDir: '/tmp/w', profiles: ['faulty'] });
  assert.ok(faulty.some((p) => p.env.SORTITION_FAULT?.startsWith('equivocate@')));
  // Scaling clones the first validator with its own volume.
  const scaled = planServices(scaleValidators(raw, 12), { workDir: '/tmp/w' });
  assert.equal(scaled.filter((p) => p.role === 'validator').length, 12);
  assert.equal(
    new Set(scaled.flatMap((p) => p.dataDirs)).size,
    scaled.filter((p) => p.role !== 'client').length,
  );
});

test('service names become addresses in URLs and multiaddrs, volumes become folders', () => {
  const addrs = new Map([
    ['anchor', '127.0.2.1'],
    ['operator-top', '127.0.2.2'],
  ]);
  const mounts = new Map([['/data', '/w/v/anchor-data']]);
  assert.equal(rewriteValue('http://anchor:8080', '127.0.2.9', addrs, mounts), 'http://127.0.2.1:8080');
  assert.equal(
    rewriteValue('/dns4/operator-top/tcp/9000,/dns4/anchor/tcp/9000', '127.0.2.9', addrs, mounts),
    '/ip4/127.0.2.2/tcp/9000,/ip4/127.0.2.1/tcp/9000',
  );
  assert.equal(rewriteValue('/ip4/0.0.0.0/tcp/9000', '127.0.2.9', addrs, mounts), '/ip4/127.0.2.9/tcp/9000');
  assert.equal(rewriteValue('0.0.0.0', '127.0.2.9', addrs, mounts), '127.0.2.9');
  assert.equal(rewriteValue('/data', '127.0.2.9', addrs, mounts), '/w/v/anchor-data');
  assert.equal(
    rewriteValue('http://anchorage:1', '127.0.2.9', addrs, mounts),
    'http://anchorage:1',
    'only whole names',
  );
});

test('--subnet moves every service and every reference to it into another loopback block', () => {
  const raw = loadCompose(COMPOSE);
  const moved = planServices(raw, { workDir: '/tmp/w', subnet: '127.0.3' });
  assert.ok(moved.every((p) => p.address.startsWith('127.0.3.')));
  for (const p of moved)
    for (const v of [...Object.values(p.env), ...p.args, p.healthUrl ?? ''])
      assert.doesNotMatch(v, /127\.0\.2\./, `${p.name}: ${v} stays inside 127.0.3`);
  assert.equal(moved.find((p) => p.role === 'evm')!.address, '127.0.3.1');
  for (const bad of ['127.0.0', '10.0.3', '127.0.300', '127.0.3.1'])
    assert.throws(() => planServices(raw, { workDir: '/tmp/w', subnet: bad }), { code: 'COMPOSE_INVALID' });
});
