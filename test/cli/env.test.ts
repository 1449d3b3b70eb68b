/**
 * One flag name per thing, and a SORTITION_* variable for every option (issue 27 item 4): the test walks every
 * command of the program as main.ts builds it. An option without a variable must be registered, with its reason, in
 * WITHOUT_ENV (what an invocation acts on; what a stray variable must not set unseen).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command, Option } from 'commander';
import { commands } from '../../src/cli/commands.js';
import { keygenCommand } from '../../src/cli/keygen.js';
import { WITHOUT_ENV } from '../../src/runtime/config.js';

function walk(c: Command, path: string, out: { path: string; o: Option }[]): void {
  for (const o of c.options) out.push({ path, o });
  for (const s of c.commands) walk(s, `${path} ${s.name()}`, out);
}

const all: { path: string; o: Option }[] = [];
for (const c of [keygenCommand(), ...commands()]) walk(c, c.name(), all);

test('every option has its SORTITION_* variable, or a stated reason to have none', () => {
  const missing = all.filter(({ o }) => !o.envVar && !WITHOUT_ENV.has(o)).map((x) => `${x.path} ${x.o.long}`);
  assert.deepEqual(missing, [], 'options with neither a variable nor a reason');
  // Named otherwise, as the README says: the devnet's subnet (the tests move devnets with it) and the API token.
  const named: Record<string, string> = {
    '--subnet': 'SORTITION_DEVNET_SUBNET',
    '--token': 'SORTITION_API_TOKEN',
  };
  for (const { path, o } of all) {
    if (!o.envVar) continue;
    const expected =
      named[o.long!] ?? 'SORTITION_' + o.long!.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
    assert.equal(o.envVar, expected, `${path} ${o.long}: its variable is named after it`);
  }
});

test('evm deploy and evm status take --evm-rpc and --anchor-address like every other command', () => {
  const evm = commands().find((c) => c.name() === 'evm')!;
  const sub = (n: string) => evm.commands.find((c) => c.name() === n)!;
  const longs = (c: Command) => new Map(c.options.map((o) => [o.long, o]));
  const deploy = longs(sub('deploy'));
  const status = longs(sub('status'));
  assert.equal(deploy.get('--evm-rpc')?.envVar, 'SORTITION_EVM_RPC');
  assert.equal(status.get('--evm-rpc')?.envVar, 'SORTITION_EVM_RPC');
  assert.equal(status.get('--anchor-address')?.envVar, 'SORTITION_ANCHOR_ADDRESS');
  // The old names still work, out of --help.
  for (const o of [deploy.get('--rpc'), status.get('--rpc'), status.get('--address')]) {
    assert.ok(o, 'old name kept');
    assert.equal(o.hidden, true);
  }
  // Every command that reaches the EVM names it the same way.
  const rpcNames = new Set(
    all.filter(({ o }) => /rpc/.test(o.long ?? '') && !o.hidden).map(({ o }) => o.long),
  );
  assert.deepEqual([...rpcNames], ['--evm-rpc']);
});
