/**
 * A sender whose EVM account cannot pay fails at once with a typed error and an error-level log that names the
 * account, its balance and what to do, instead of retrying (or rebroadcasting) forever; nothing is journaled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { keccak256, parseEther, toHex, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { walletFor } from '../../src/evm/client.js';
import { TxSender, type Journal } from '../../src/evm/sender.js';
import { newAnchor } from './anchor-helpers.js';
import { useAnvil } from './helpers.js';

const env = useAnvil();

function memoryJournal(): Journal & { readonly records: Map<string, unknown> } {
  const records = new Map<string, unknown>();
  return {
    records,
    get: <T>(name: string) => Promise.resolve(records.get(name) as T | undefined),
    put: (name, value) => {
      records.set(name, value);
      return Promise.resolve();
    },
  };
}

/** A logger whose JSON lines land in `lines`. */
function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

async function sender(key: Hex, address: Hex) {
  const { log, lines } = capture();
  const journal = memoryJournal();
  const w = await walletFor(env.anvil.rpcUrl, key);
  const s = new TxSender({
    w,
    address,
    journal,
    name: 'tx',
    confirmations: 1,
    log,
    signal: AbortSignal.timeout(20_000),
  });
  return { s, lines, journal };
}

test('an unfunded --evm-key fails with INSUFFICIENT_FUNDS, its address and balance in an error log', async () => {
  const anchor = await newAnchor(env);
  const key = generatePrivateKey();
  const who = privateKeyToAccount(key).address;
  const data = keccak256(toHex('existence'));
  for (const [what, value] of [
    ['a call that only pays gas', undefined],
    ['a call that sends value', 1n],
  ] as const) {
    const { s, lines, journal } = await sender(key, anchor.address);
    const t0 = Date.now();
    await assert.rejects(
      s.send('record', 'recordExistence', [data], value),
      (e: Error & { code?: string; address?: string; balanceWei?: bigint }) => {
        assert.equal(e.code, 'INSUFFICIENT_FUNDS', `${what}: ${e.message}`);
        assert.equal(e.address, who);
        assert.equal(e.balanceWei, 0n);
        assert.match(e.message, new RegExp(`${who}.*holds 0 wei.*send it ETH`));
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 10_000, `${what}: refused at once, not after retries`);
    const err = lines.find((l) => l.level === 50);
    assert.ok(err, `${what}: logged at error level`);
    assert.deepEqual([err.address, err.balanceWei], [who, '0']);
    assert.match(String(err.msg), /send ETH to 0x[0-9a-fA-F]{40}/);
    assert.equal(journal.records.get('tx'), undefined, `${what}: nothing journaled`);
  }
  // Funded, the same account sends.
  await env.test.setBalance({ address: who, value: parseEther('1') });
  const { s } = await sender(key, anchor.address);
  const sent = await s.send('record', 'recordExistence', [data]);
  assert.equal(sent.receipt.status, 'success');
});
