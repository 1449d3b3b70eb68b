import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { loadCompose } from '../../src/devnet/compose.js';
import { SETTLE_FILE, SETTLE_VARS, STACK_FILE, profileFile, stackFiles } from '../../src/devnet/stack.js';
import { COMPOSE } from './helpers.js';

const ROOT = dirname(COMPOSE);
const RESYNC = 'docker-compose.yml changed: `npm run stack` rewrites the stack files from it';

interface StackService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: { target: number; published: number; mode: string }[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  deploy: {
    endpoint_mode: string;
    restart_policy: { condition: string };
    placement?: { constraints?: string[]; max_replicas_per_node?: number };
  };
  [key: string]: unknown;
}
interface StackDoc {
  version: string;
  services: Record<string, StackService>;
  volumes: Record<string, null>;
}

const parse = (text: string) => YAML.parse(text) as StackDoc;
const composeText = () => readFileSync(COMPOSE, 'utf8');

test('the committed stack files are the ones docker-compose.yml generates', () => {
  const files = stackFiles(composeText());
  assert.deepEqual(Object.keys(files).sort(), [STACK_FILE, SETTLE_FILE, profileFile('faulty')].sort());
  for (const [name, text] of Object.entries(files))
    assert.equal(readFileSync(join(ROOT, name), 'utf8'), text, `${name}: ${RESYNC}`);
});

test('the stack holds every service of this image, profiles as their own files, and no Compose-only key', () => {
  const compose = loadCompose(COMPOSE);
  const files = stackFiles(composeText());
  const main = parse(files[STACK_FILE]);
  const faulty = parse(files[profileFile('faulty')]);
  const own = Object.keys(compose).filter((n) => (compose[n].image ?? '').startsWith('sortition-node:'));
  assert.deepEqual(
    Object.keys(main.services),
    own.filter((n) => !compose[n].profiles?.length),
  );
  assert.deepEqual(
    Object.keys(faulty.services),
    own.filter((n) => compose[n].profiles?.includes('faulty')),
  );
  const settle = parse(files[SETTLE_FILE]);
  for (const doc of [main, faulty, settle])
    for (const [name, s] of Object.entries(doc.services)) {
      for (const key of ['depends_on', 'profiles', 'build', 'restart'])
        assert.equal(s[key], undefined, `${name} has ${key}, which docker stack deploy refuses or ignores`);
      // No virtual IP (it needs ip_vs), so no ingress: ports publish on the node the task runs on.
      assert.equal(s.deploy.endpoint_mode, 'dnsrr', name);
      for (const p of s.ports ?? []) assert.equal(p.mode, 'host', name);
      assert.ok(['any', 'on-failure'].includes(s.deploy.restart_policy.condition), name);
      // The environment and command are compose's own (merge keys resolved).
      const c = compose[name] as { environment?: Record<string, string>; command?: string[] };
      assert.deepEqual(s.command, c.command, name);
      if (doc !== settle) assert.deepEqual(s.environment, c.environment, name);
      for (const v of s.volumes ?? []) assert.ok(v.split(':')[0] in doc.volumes, `${name}: volume ${v}`);
    }
});

test('validators spread one per node; the evm and operators stay with their volumes on managers', () => {
  const main = parse(stackFiles(composeText())[STACK_FILE]);
  const byCommand = (c: string) => Object.entries(main.services).filter(([, s]) => s.command?.[0] === c);
  assert.equal(byCommand('run').length, 4);
  for (const [name, s] of byCommand('run')) {
    assert.equal(s.deploy.placement?.max_replicas_per_node, 1, name);
    assert.ok(s.healthcheck, name);
  }
  for (const [name, s] of [...byCommand('operator'), ...byCommand('evm')]) {
    assert.deepEqual(s.deploy.placement?.constraints, ['node.role == manager'], name);
    assert.equal(s.volumes?.length, 1, `${name} keeps its data in a volume`);
    assert.ok(s.healthcheck, name);
  }
});

test('the anchor address comes from docker-compose.yml: a new one there is the one in the stack', () => {
  const text = composeText();
  const [address] = /SORTITION_ANCHOR_ADDRESS: '(0x[0-9a-fA-F]{40})'/.exec(text)!.slice(1);
  const moved = '0x' + 'ab'.repeat(20);
  const files = stackFiles(text.replaceAll(address, moved));
  for (const [name, out] of Object.entries(files)) {
    assert.ok(!out.includes(address), `${name} still names the old address`);
    for (const s of Object.values(parse(out).services))
      if (s.environment?.SORTITION_ANCHOR_ADDRESS)
        assert.equal(s.environment.SORTITION_ANCHOR_ADDRESS, moved, name);
  }
});

test('the settle variant replaces the slash-target operator and asks for its expiry and payout at deploy', () => {
  const settle = parse(stackFiles(composeText())[SETTLE_FILE]);
  const main = parse(stackFiles(composeText())[STACK_FILE]);
  assert.deepEqual(Object.keys(settle.services), ['operator-top']);
  const env = settle.services['operator-top'].environment!;
  assert.match(env.SORTITION_EXPIRY, new RegExp(`^\\$\\{${SETTLE_VARS.expiry}:\\?`));
  assert.match(env.SORTITION_SETTLE_PAYOUT, new RegExp(`^\\$\\{${SETTLE_VARS.payout}:\\?`));
  assert.equal(env.SORTITION_SETTLE_KEY, '/data/operator-key.json');
  // Otherwise the same service: a deploy with both files changes only these variables.
  const { SORTITION_EXPIRY, SORTITION_SETTLE_KEY, SORTITION_SETTLE_PAYOUT, ...rest } = env;
  assert.ok(SORTITION_EXPIRY && SORTITION_SETTLE_KEY && SORTITION_SETTLE_PAYOUT);
  assert.deepEqual(rest, main.services['operator-top'].environment);
  assert.deepEqual(
    { ...settle.services['operator-top'], environment: undefined },
    { ...main.services['operator-top'], environment: undefined },
  );
});
