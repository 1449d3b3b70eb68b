/**
 * An operator of a top-level chain on the EVM anchor in a process of its own, for the restart test:
 * `node operator-child.js <data-dir> <rpc-url> <anchor-address> <evm-key> <commit-every>`. Prints one JSON line
 * `{chainId, height}` when it runs; each stdin line `create` sells one more contract and prints `{height}` once
 * the block holding it is sealed; `status` prints `{inFlight}`, the commit broadcast and awaiting its receipt. The
 * test kills it with SIGKILL.
 */
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { HttpApi } from '../../src/runtime/http.js';
import { createLogger } from '../../src/runtime/logger.js';
import { prepareOperator, startOperator } from '../../src/app/operator.js';

const [dataDir, evmRpc, anchorAddress, evmKey, commitEvery] = process.argv.slice(2);
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'evm-operator');
const api = new HttpApi(log);
await api.start('127.0.0.1', 0);
const prepared = await prepareOperator(
  {
    dataDir,
    amount: 1_000_000,
    deposit: 2_000_000,
    blockIntervalMs: 10,
    evmRpc,
    anchorAddress,
    evmKey,
    commitEvery,
  },
  { log },
);
const op = await startOperator(prepared, {
  api,
  registry: new Registry(),
  log,
  sink: { publishBlock: async () => undefined },
});
const out = (v: unknown) => process.stdout.write(JSON.stringify(v) + '\n');
out({ chainId: toHex(op.genesis.chainId), height: op.service.head.height });
const owner = generateKeyPair().publicKey;
let next = BigInt(op.service.head.height) * 10n;
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'status') {
    out({ inFlight: op.committer?.inFlight ?? null });
    continue;
  }
  if (line.trim() !== 'create') continue;
  const target = op.service.head.height + 1;
  const sealed = new Promise<void>((resolve) =>
    op.service.onSealed((s) => {
      if (s.signed.header.height >= target) resolve();
    }),
  );
  await op.service.create({ start: next, end: next + 10n, owner });
  next += 10n;
  await sealed;
  out({ height: op.service.head.height });
}
