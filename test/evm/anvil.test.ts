import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Placeholder } from '../../src/gen/contracts.js';
import { deploy, useAnvil } from './helpers.js';

describe('anvil from the npm package', () => {
  const env = useAnvil();

  it('runs a local EVM on loopback that takes a deployment and answers calls', async () => {
    assert.match(env.anvil.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await env.pub.getChainId(), 31337);
    const address = await deploy(env, Placeholder);
    assert.equal(await env.pub.readContract({ address, abi: Placeholder.abi, functionName: 'ping' }), 1n);
  });
});
