// The cost of a proven read per counted commit (issue 26 item 2): RPC calls, bytes of proof, and the CPU of checking
// the header and the Merkle-Patricia proofs, on a local anvil holding COMMITS commits of one chain (and other
// chains registered beside it, so the trie is not trivially small): node scripts/measure-proofs.mjs (after npm run build).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from 'viem';
import { startAnvil, anvilAccount } from '../dist/src/evm/anvil.js';
import { deployAnchor } from '../dist/src/evm/anchor.js';
import { walletFor } from '../dist/src/evm/client.js';
import { EvmAnchor } from '../dist/src/evm/node-anchor.js';
import { fileJournal } from '../dist/src/evm/journal.js';
import { EvmEndpoints } from '../dist/src/evm/endpoints.js';
import { ProvenAnchor } from '../dist/src/evm/proven.js';
import { checkHeader, provenWords } from '../dist/src/evm/proof.js';
import { StorageLayout } from '../dist/src/evm/storage.js';
import { SortitionAnchor } from '../dist/src/gen/contracts.js';
import { ChainProducer } from '../dist/src/chain/producer.js';
import { generateKeyPair, sign } from '../dist/src/crypto/keys.js';
import { decodeGenesis } from '../dist/src/chain/genesis.js';
import { createLogger } from '../dist/src/runtime/logger.js';

const COMMITS = Number(process.env.COMMITS ?? 50);
const a = await startAnvil();
try {
  const key = (i) => toHex(anvilAccount(i).getHdKey().privateKey);
  const w = await walletFor(a.rpcUrl, key(0));
  const d = await deployAnchor(w.wallet, w.pub);
  const log = createLogger('silent', 'm');
  const ev = await EvmAnchor.open({
    rpcUrl: a.rpcUrl,
    address: d.address,
    key: key(1),
    journal: fileJournal(await mkdtemp(join(tmpdir(), 'evm-proofs-'))),
    log,
  });
  const k = generateKeyPair();
  const g = decodeGenesis(
    (
      await ev.registerChain({
        operatorKey: k.publicKey,
        amount: 1_000_000n,
        sign: (m) => sign(k.secretKey, m),
      })
    ).genesis,
  );
  const p = new ChainProducer(g, k.secretKey);
  for (let i = 0; i < COMMITS; i++) {
    p.create({ start: BigInt(i) * 10n, end: BigInt(i) * 10n + 10n, owner: generateKeyPair().publicKey });
    await ev.commitRoot(p.seal(1000 + i).block.signed.bytes);
  }
  const id = toHex(g.chainId);
  const endpoints = new EvmEndpoints({ urls: [a.rpcUrl], quorum: 1, log });
  const proven = new ProvenAnchor({ endpoints, address: d.address });
  const head = await w.pub.getBlockNumber();
  const raw = await w.pub.request({ method: 'eth_getBlockByNumber', params: [toHex(head), false] });
  const at = await endpoints.block(head);

  // Wall time of a proven commit read (one eth_getProof and its check), against the agreed block.
  let t = performance.now();
  for (let h = 1; h <= COMMITS; h++) if (!(await proven.commit(id, h, at))) throw new Error(`no commit ${h}`);
  const wallMs = (performance.now() - t) / COMMITS;

  // CPU of the checks alone: the header hash, and the account + storage proofs of one commit slot.
  const layout = new StorageLayout(SortitionAnchor.storageLayout);
  const proofs = [];
  for (let h = 1; h <= COMMITS; h++) {
    const slot = layout.field('commits', id, BigInt(h), 'headerHash').slot;
    const pr = await w.pub.request({
      method: 'eth_getProof',
      params: [d.address, [toHex(slot, { size: 32 })], toHex(head)],
    });
    proofs.push({ slot, pr });
  }
  const bytes = proofs.map(({ pr }) =>
    [...pr.accountProof, ...pr.storageProof[0].proof].reduce((s, n) => s + (n.length - 2) / 2, 0),
  );
  const nodes = proofs.map(({ pr }) => pr.accountProof.length + pr.storageProof[0].proof.length);
  const rounds = 5;
  let c = process.cpuUsage();
  for (let r = 0; r < rounds; r++)
    for (const { slot, pr } of proofs) await provenWords(at.stateRoot, d.address, [slot], pr);
  let u = process.cpuUsage(c);
  const proofUs = (u.user + u.system) / (rounds * COMMITS);
  c = process.cpuUsage();
  for (let r = 0; r < 1000; r++) checkHeader(raw);
  u = process.cpuUsage(c);
  const headerUs = (u.user + u.system) / 1000;
  const sorted = [...bytes].sort((x, y) => x - y);
  console.log(
    JSON.stringify({
      commits: COMMITS,
      rpcPerCommit: { eth_getProof: 1 },
      rpcPerPoll: {
        eth_getBlockByNumber: 'one per endpoint (the confirmed block, shared by every commit judged)',
      },
      proofBytes: { median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) },
      proofNodes: { min: Math.min(...nodes), max: Math.max(...nodes) },
      cpuUsPerCommitProof: Math.round(proofUs),
      cpuUsPerHeader: Math.round(headerUs),
      wallMsPerProvenCommit: Number(wallMs.toFixed(2)),
    }),
  );
} finally {
  await a.stop();
}
