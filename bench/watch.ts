/**
 * Watched contracts (src/light/watch.ts): the cost of bringing watched paths up to date per block, per watch,
 * next to judging the same block, and what 10^4 watches on one validator cost in time per block and in memory.
 * Blocks are 128 transactions (1/2 creates, 1/2 transfers) on a chain of 2^15 contracts.
 */
import { generateKeyPair } from '../src/crypto/keys.js';
import { ChainProducer } from '../src/chain/producer.js';
import { decodeBlock } from '../src/chain/block.js';
import { signAction, decodeTx, type Tx } from '../src/chain/tx.js';
import { validateBlock } from '../src/chain/validate.js';
import { ProbabilityTree } from '../src/tree/tree.js';
import { followBlock, WatchedPath } from '../src/light/watch.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';
import { benchGenesis, heading, jitteredLeaves, now, table } from './util.js';

const SPACE_END = 1n << 62n;

export async function benchWatch(contracts = 1 << 15, blocks = 12, txsPerBlock = 128): Promise<void> {
  const backend = installNativeCrypto('libsodium').backend;
  heading(
    `watch: watched paths per block (${txsPerBlock} txs: 1/2 creates, 1/2 transfers) on ${contracts} contracts, ${backend}`,
  );
  const op = generateKeyPair();
  const owner = generateKeyPair();
  const genesis = benchGenesis(op.publicKey, SPACE_END, 'bench');
  const { leaves, width } = jitteredLeaves(contracts, owner.publicKey, SPACE_END);
  const tree = ProbabilityTree.fromLeaves(leaves);
  const root = tree.summary();
  const state0 = {
    genesis,
    height: 0,
    headHash: genesis.chainId,
    stateRoot: root.digest,
    stateMin: root.min,
    stateMax: root.max,
    timeMs: 0,
    beacon: genesis.chainId,
  };
  const producer = new ChainProducer(genesis, op.secretKey, { tree, state: state0 });
  // Watches are taken before any block, from the full tree, as holders would get them from the operator.
  const starts = leaves.map((l) => l.contract.start);
  const paths = starts.map((s) => tree.memberPath(s));
  const made: { bytes: Uint8Array; txs: Tx[] }[] = [];
  let next = 0;
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < txsPerBlock / 2; i++) {
      // A create in the free right half of a contract's slot; a transfer of a contract nobody watches last.
      const s = starts[(next * 7919) % contracts] + width / 2n + 1n + BigInt(b);
      producer.create({ start: s, end: s + 1n, owner: owner.publicKey });
      const t = starts[contracts - 1 - (next % (contracts / 4))];
      const leaf = producer.tree.get(t)!;
      const action = signAction(
        {
          chainId: genesis.chainId,
          contractHash: leaf.digest,
          nonce: leaf.contract.nonce + 1,
          op: { kind: 'transfer', newOwner: owner.publicKey, terms: new Uint8Array(0) },
        },
        owner.secretKey,
      );
      producer.owner(action, t);
      next++;
    }
    const bytes = producer.seal(b + 1).block.bytes;
    made.push({ bytes, txs: decodeBlock(bytes).txs.map(decodeTx) });
  }
  // Judging the same blocks, for scale.
  let st = state0;
  const tj = now();
  for (const m of made) {
    const r = validateBlock(st, m.bytes);
    if (!r.ok) throw new Error(`bench block rejected: ${r.error.code}`);
    st = r.state;
  }
  const judgeMs = (now() - tj) / blocks;

  const rows: Record<string, string | number>[] = [];
  for (const n of [1, 100, 10_000]) {
    // The first watches are on contracts no block transfers, so every watch stays current throughout.
    const set = new Map<bigint, WatchedPath>();
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) set.set(starts[i], WatchedPath.from(paths[i]));
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    const t0 = now();
    for (const m of made) followBlock(set, m.txs);
    const ms = (now() - t0) / blocks;
    const w = set.get(starts[0])!;
    if (w.status !== 'current') throw new Error('bench watch ended');
    rows.push({
      watches: n,
      'ms/block': ms,
      'us/block/watch': (ms * 1000) / n,
      'vs judging': ms / judgeMs,
      'heap MB': n >= 100 ? heapMb : '-',
      depth: w.depth,
    });
  }
  table(rows);
  console.log(`judging one block: ${judgeMs.toFixed(2)} ms`);
}
