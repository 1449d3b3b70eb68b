import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptedBlocks,
  anchorChain,
  flagged,
  waitForAgreement,
  waitForSlashed,
} from '../../src/devnet/checks.js';
import { DEVNET_ANCHOR_ADDRESS } from '../../src/evm/devnode.js';
import { waitFor } from '../helpers/net.js';
import { allPast, up } from './helpers.js';

test('honest devnet converges; a validator restarted, an operator killed with SIGKILL, a partitioned validator all catch up', async () => {
  const u = await up();
  let passed = false;
  try {
    const { devnet } = u;
    await allPast(u, u.child, 2);
    const opHeight = () => u.height('operator-child', u.child);

    // A validator stopped and restarted resumes from its store and catches up.
    await devnet.kill('validator-2');
    const before = await opHeight();
    await waitFor(
      async () => (await opHeight()) >= before + 2,
      'the chain moves on without validator-2',
      60_000,
    );
    await devnet.restart('validator-2');
    await waitFor(
      async () => (await u.height('validator-2', u.child)) >= before + 2,
      'validator-2 catches up',
      60_000,
    );

    // The child operator killed with SIGKILL restarts and continues its chain: no fork, no evidence.
    await devnet.kill('operator-child', 'SIGKILL');
    const killedAt = await u.height('validator-1', u.child);
    await devnet.restart('operator-child');
    await waitFor(
      async () => (await u.height('validator-1', u.child)) >= killedAt + 2,
      'the chain continues after the crash',
      60_000,
    );

    // A partitioned validator misses blocks, then catches up when the partition heals.
    await devnet.partition('validator-3', 6000);
    const cut = await u.height('validator-3', u.child);
    await waitFor(async () => (await opHeight()) >= cut + 2, 'blocks produced during the partition', 60_000);
    await waitFor(
      async () => (await u.height('validator-3', u.child)) >= cut + 2,
      'validator-3 catches up after the partition',
      60_000,
    );

    await devnet.kill('load');
    const agreed = await waitForAgreement(devnet.nodes());
    assert.ok(agreed.ok, `every node agrees on every head: ${JSON.stringify(agreed)}`);
    for (const s of devnet.nodes()) {
      assert.deepEqual(await devnet.evidence(s), [], `${s.plan.name} found no fraud in an honest run`);
      const st = (await devnet.status(s))!;
      assert.ok(st.chains.every((c) => !c.faulty));
    }
    // Anchoring reached the top: the child chain's blocks are committed in the top chain, and the top chain's in the anchor.
    const v1 = (await devnet.status(devnet.service('validator-1')))!;
    assert.ok(v1.chains.find((c) => c.chainId === u.child)!.anchoredHeight >= 1);
    assert.ok(v1.chains.find((c) => c.chainId === u.top)!.anchoredHeight >= 1);
    // On the EVM node: the top chain registered in the contract with its deposit (docker-compose.yml: 10 ether)
    // and its headers committed there; every validator reads the contract and counts the commits as anchored.
    for (const v of devnet.nodes().filter((s) => s.plan.role === 'validator')) {
      const st = (await devnet.status(v))!;
      assert.ok(
        st.chains.find((c) => c.chainId === u.top)!.anchoredHeight >= 1,
        `${v.plan.name} anchored the top chain on the contract's commits`,
      );
      const onChain = await anchorChain(v, u.top);
      assert.ok(onChain, `${v.plan.name} sees the top chain registered in the contract`);
      assert.equal(BigInt(onChain.depositWei), 10n ** 19n);
      assert.ok(onChain.committedHeight >= 1 && !onChain.slashed && onChain.phase === 'active');
    }
    assert.deepEqual(devnet.manifest()[0], {
      name: 'evm',
      role: 'evm',
      rpcUrl: `http://${devnet.evmService()!.plan.address}:8545`,
      anchorAddress: DEVNET_ANCHOR_ADDRESS,
    });
    passed = true;
  } finally {
    await u.close({ keepLogs: !passed });
  }
});

// Equivocation by the top-level chain, registered in the EVM contract: the one fault the contract slashes.
for (const [scenario, target, fault] of [
  ['equivocation', 'operator-top', 'equivocate@4'],
  ['invalid-block', 'operator-child', 'invalid@4'],
  ['root-mismatch', 'operator-child', 'root-mismatch@4'],
] as const) {
  test(`scenario ${scenario}: every honest validator flags the chain; no honest node takes the bad block`, async () => {
    const u = await up({ [target]: { SORTITION_DEVNET: 'true', SORTITION_FAULT: fault } });
    let passed = false;
    try {
      const { devnet } = u;
      const chain = target === 'operator-top' ? u.top : u.child;
      const validators = devnet.nodes().filter((s) => s.plan.role === 'validator');
      for (const v of validators) {
        await waitFor(() => flagged(devnet, v, chain), `${v.plan.name} flags the ${scenario}`, 90_000);
      }
      if (scenario === 'equivocation') {
        // validator-1 (the one with an EVM key) submitted the evidence; every validator reads the outcome.
        const slashed = await waitForSlashed(validators, chain);
        assert.deepEqual(
          slashed,
          validators.map(() => true),
          'the contract slashed the chain',
        );
      }
      await devnet.kill('load');
      const honest = devnet.nodes().filter((s) => s.plan.name !== target);
      const agreed = await waitForAgreement(honest);
      assert.ok(agreed.ok, `honest nodes agree: ${JSON.stringify(agreed)}`);
      // A node relays only what it accepted: each honest validator accepted exactly the blocks of the chain it holds.
      // Every accept raises the head by one, so accepted minus height never changes, except while a block lands
      // between the two reads (the chain goes on growing): a read counts once the height is the same around it.
      for (const v of validators) {
        let seen = { height: -1, accepted: -2 };
        await waitFor(
          async () => {
            const before = await u.height(v.plan.name, chain);
            const accepted = await acceptedBlocks(v, chain);
            const after = await u.height(v.plan.name, chain);
            if (before !== after) return false;
            seen = { height: after, accepted };
            return true;
          },
          `${v.plan.name} read at a steady height`,
          30_000,
        );
        assert.equal(
          seen.accepted,
          seen.height,
          `${v.plan.name} accepted (and relayed) only its chain's blocks`,
        );
      }
      passed = true;
    } finally {
      await u.close({ keepLogs: !passed });
    }
  });
}
