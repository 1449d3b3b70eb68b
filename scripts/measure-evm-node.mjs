// Gas and latency of the node's EVM anchor transactions on a local anvil (automine): node scripts/measure-evm-node.mjs (after npm run build).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAnvil, anvilAccount } from '../dist/src/evm/anvil.js';
import { deployAnchor } from '../dist/src/evm/anchor.js';
import { walletFor } from '../dist/src/evm/client.js';
import { EvmAnchor } from '../dist/src/evm/node-anchor.js';
import { fileJournal } from '../dist/src/evm/journal.js';
import { ChainProducer } from '../dist/src/chain/producer.js';
import { generateKeyPair } from '../dist/src/crypto/keys.js';
import { decodeGenesis } from '../dist/src/chain/genesis.js';
import { makeEquivocation } from '../dist/src/chain/evidence.js';
import { craftBlock } from '../dist/src/operator/faults.js';
import { createLogger } from '../dist/src/runtime/logger.js';
import { toHex } from 'viem';
const a = await startAnvil();
const key = (i) => toHex(anvilAccount(i).getHdKey().privateKey);
const w = await walletFor(a.rpcUrl, key(0));
const d = await deployAnchor(w.wallet, w.pub);
const log = createLogger('silent', 'm');
const ev = await EvmAnchor.open({
  rpcUrl: a.rpcUrl,
  address: d.address,
  key: key(1),
  journal: fileJournal(await mkdtemp(join(tmpdir(), 'evm-measure-'))),
  log,
});
const k = generateKeyPair();
let t = performance.now();
const reg = await ev.registerChain({ operatorKey: k.publicKey, amount: 1000000n, deposit: 1000000n });
const regMs = performance.now() - t;
const g = decodeGenesis(reg.genesis);
const p = new ChainProducer(g, k.secretKey);
const ms = [],
  gas = [];
for (let i = 0; i < 20; i++) {
  p.create({ start: BigInt(i) * 10n, end: BigInt(i) * 10n + 10n, owner: generateKeyPair().publicKey });
  const b = p.seal(1000 + i).block;
  t = performance.now();
  await ev.commitRoot(b.signed.bytes);
  ms.push(performance.now() - t);
}
const commits = await w.pub.getContractEvents({
  address: d.address,
  abi: (await import('../dist/src/evm/anchor.js')).ANCHOR_ABI,
  eventName: 'Committed',
  fromBlock: 0n,
});
for (const e of commits) gas.push((await w.pub.getTransactionReceipt({ hash: e.transactionHash })).gasUsed);
const regGas = (
  await w.pub.getTransactionReceipt({
    hash: (
      await w.pub.getContractEvents({
        address: d.address,
        abi: (await import('../dist/src/evm/anchor.js')).ANCHOR_ABI,
        eventName: 'Registered',
        fromBlock: 0n,
      })
    )[0].transactionHash,
  })
).gasUsed;
const alt = craftBlock(g, k.secretKey, p.state, [], { timeMs: 99999 });
// equivocation at the head height+1 is not committed; use two headers at height 21
p.create({ start: 900n, end: 910n, owner: generateKeyPair().publicKey });
const b21 = p.seal(5000).block;
t = performance.now();
const rec = await ev.recordEvidence(makeEquivocation(b21.signed, alt.signed), [g.bytes]);
const evMs = performance.now() - t;
const sl = await w.pub.getContractEvents({
  address: d.address,
  abi: (await import('../dist/src/evm/anchor.js')).ANCHOR_ABI,
  eventName: 'Slashed',
  fromBlock: 0n,
});
const slGas = (await w.pub.getTransactionReceipt({ hash: sl[0].transactionHash })).gasUsed;
ms.sort((x, y) => x - y);
gas.sort((x, y) => Number(x - y));
console.log(
  JSON.stringify({
    registerGas: regGas.toString(),
    registerMs: Math.round(regMs),
    commitGas: [gas[0].toString(), gas[gas.length - 1].toString()],
    commitMs: { p50: Math.round(ms[10]), max: Math.round(ms[19]) },
    slashEquivocationGas: slGas.toString(),
    evidenceMs: Math.round(evMs),
    slashedWei: rec.slashed.toString(),
  }),
);
await a.stop();
