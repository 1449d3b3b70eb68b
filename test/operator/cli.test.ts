import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '../../src/crypto/hash.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { contractCommand, ContractCliError } from '../../src/cli/contract.js';
import { ApiError } from '../../src/runtime/http-client.js';
import type { ContractView, SubmitResult } from '../../src/api/operator.js';
import { anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { removeDir, startChainNode } from './helpers.js';

test('the contract command trades through the API, signing owner actions locally', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const n = await startChainNode(top.genesis, top.key);
  const [alice, bob, carol] = await Promise.all(
    ['alice', 'bob', 'carol'].map((w) => writeKeyFile(join(n.dir, `${w}.json`))),
  );
  const keyFile = (w: string) => join(n.dir, `${w}.json`);
  const run = async <T>(...args: string[]): Promise<T> => {
    const out: string[] = [];
    await contractCommand((s) => out.push(s)).parseAsync([...args, '--api', n.url], { from: 'user' });
    assert.equal(out.length, 1);
    return JSON.parse(out[0]) as T;
  };
  try {
    const created = await run<SubmitResult>(
      'create',
      '--token',
      n.token,
      '--start',
      '0',
      '--end',
      '100',
      '--owner',
      toHex(alice.publicKey),
    );
    assert.equal(created.status, 'accepted');
    await assert.rejects(
      run('create', '--start', '200', '--end', '300', '--owner', toHex(alice.publicKey)),
      (e: unknown) => e instanceof ContractCliError && e.code === 'NO_TOKEN',
    );
    await n.svc.sealNow();

    const t = await run<SubmitResult>(
      'transfer',
      '0',
      '--to',
      toHex(bob.publicKey),
      '--key',
      keyFile('alice'),
    );
    assert.equal(t.status, 'accepted');
    assert.equal(t.contract!.owner, toHex(bob.publicKey));
    // Alice no longer owns it: refused locally, before anything is signed.
    await assert.rejects(
      run('transfer', '0', '--to', toHex(carol.publicKey), '--key', keyFile('alice')),
      (e: unknown) => e instanceof ContractCliError && e.code === 'NOT_OWNER',
    );
    // The operator's refusals come back with their protocol code.
    await assert.rejects(
      run('split', '0', '--at', '100', '--right-owner', toHex(carol.publicKey), '--key', keyFile('bob')),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.code === 'SPLIT_OUT_OF_RANGE',
    );
    const s = await run<SubmitResult>(
      'split',
      '0',
      '--at',
      '50',
      '--right-owner',
      toHex(carol.publicKey),
      '--key',
      keyFile('bob'),
    );
    assert.equal(s.contract!.end, '50');
    await n.svc.sealNow();

    const list = await run<{ contracts: { start: string }[] }>('list', '--owner', toHex(carol.publicKey));
    assert.deepEqual(
      list.contracts.map((c) => c.start),
      ['50'],
    );
    await run('close', '50', '--key', keyFile('carol'));

    // Bob opens his half as a child chain.
    const kid = childChain(top.genesis, 0n, 50n, 'kid');
    const gfile = join(n.dir, 'kid.genesis');
    await writeFile(gfile, JSON.stringify({ genesis: toHex(kid.genesis.bytes) }));
    await run('open-child', '0', '--genesis', gfile, '--key', keyFile('bob'));
    await n.svc.sealNow();
    const shown = await run<ContractView>('show', '0');
    assert.equal(shown.committed!.child!.chain, toHex(kid.genesis.chainId));
    assert.notEqual(shown.proof, null);
    await assert.rejects(run('show', '50'), (e: unknown) => e instanceof ApiError && e.status === 404);
    assert.equal(n.sink.rejected().length, 0);
  } finally {
    await n.stop();
    await removeDir(n.dir);
  }
});
