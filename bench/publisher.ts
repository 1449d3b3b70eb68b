/**
 * The operator side of the propagation benchmark (bench/network.ts), run as its own process
 * (`node dist/bench/publisher.js --dir DIR --listen MULTIADDR`). It runs a ValidatorNode as the operator's node,
 * builds an anchor and a top-level chain under it, writes both genesis records to DIR for the validators
 * (`--genesis`), and then obeys JSON commands on stdin, one a line:
 *
 *   {"cmd":"publish","count":40,"rate":4,"transfers":10,"creates":6}
 *       waits until its block-topic mesh has a peer, produces `count` blocks (each with `transfers` owner-signed
 *       transfers of earlier contracts and `creates` new contracts), then publishes them at a fixed rate, each
 *       judged locally first like any operator block. One `{"height":h,"published":epochMs,"txs":n}` line per
 *       block, taken right before it is handed to gossip, then `{"bench":"done","count":n}`.
 *   {"cmd":"stop"} (or the end of stdin, or SIGTERM): stops the node and exits.
 *
 * Startup ends with one `{"bench":"ready",...}` line naming the chains, the genesis files and the peer id.
 * Protocol lines carry `bench` or `published`; the node's own (pino) log lines are kept to warnings.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import type { GenesisRecord } from '../src/chain/genesis.js';
import { ChainProducer } from '../src/chain/producer.js';
import { signAction, type OwnerOp } from '../src/chain/tx.js';
import { toHex } from '../src/crypto/hash.js';
import { generateKeyPair, type KeyPair } from '../src/crypto/keys.js';
import { ValidatorNode } from '../src/node/validator.js';
import { createLogger } from '../src/runtime/logger.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';
import { anchorChain, childChain } from '../test/helpers/chains.js';

/** The top-level chain's space; contracts are 2^19 wide, 2^20 apart. */
const SPACE = 1n << 40n;
const SLOT = 1n << 20n;

export interface PublishCommand {
  readonly cmd: 'publish';
  readonly count: number;
  readonly rate: number;
  readonly transfers: number;
  readonly creates: number;
}

export type PublisherCommand = PublishCommand | { readonly cmd: 'stop' };

/** What the publisher prints once its node runs and the genesis files are written. */
export interface PublisherReady {
  readonly bench: 'ready';
  readonly peerId: string;
  readonly listen: string[];
  readonly anchor: string;
  readonly top: string;
  readonly genesisFiles: string[];
}

/** One line per published block. */
export interface PublishedLine {
  readonly height: number;
  readonly published: number;
  readonly txs: number;
}

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`publisher: --${name} is required`);
  return v;
}

const emit = (o: object): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function chains(): { anchor: GenesisRecord; top: GenesisRecord; topKey: KeyPair } {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE, 'bench-top');
  return { anchor: anchor.genesis, top: top.genesis, topKey: top.key };
}

/** Produces blocks of owner-signed transfers and creates; remembers who owns what. */
class Workload {
  private readonly owners: KeyPair[] = Array.from({ length: 8 }, () => generateKeyPair());
  /** Contract start -> index of its owner in `owners`. */
  private readonly ownerOf = new Map<bigint, number>();
  private readonly starts: bigint[] = [];
  private nextSlot = 0n;
  private cursor = 0;

  constructor(
    private readonly genesis: GenesisRecord,
    private readonly producer: ChainProducer,
  ) {}

  block(transfers: number, creates: number): { bytes: Uint8Array; height: number; txs: number } {
    const n = Math.min(transfers, this.starts.length);
    for (let i = 0; i < n; i++) {
      const start = this.starts[this.cursor++ % this.starts.length];
      const leaf = this.producer.tree.get(start)!;
      const from = this.ownerOf.get(start)!;
      const to = (from + 1 + (this.cursor % (this.owners.length - 1))) % this.owners.length;
      const op: OwnerOp = { kind: 'transfer', newOwner: this.owners[to].publicKey, terms: new Uint8Array(0) };
      const signed = signAction(
        { chainId: this.genesis.chainId, contractHash: leaf.digest, nonce: leaf.contract.nonce + 1, op },
        this.owners[from].secretKey,
      );
      this.producer.owner(signed, start);
      this.ownerOf.set(start, to);
    }
    for (let i = 0; i < creates; i++) {
      const start = this.nextSlot++ * SLOT;
      const owner = this.starts.length % this.owners.length;
      this.producer.create({ start, end: start + SLOT / 2n, owner: this.owners[owner].publicKey });
      this.ownerOf.set(start, owner);
      this.starts.push(start);
    }
    const { block, state } = this.producer.seal(Date.now());
    return { bytes: block.bytes, height: state.height, txs: n + creates };
  }
}

async function main(): Promise<void> {
  // As in every node process (src/app/node.ts): the operator judges its own blocks natively.
  installNativeCrypto();
  const dir = arg('dir');
  const listen = arg('listen');
  const { anchor, top, topKey } = chains();
  const genesisFiles = [join(dir, 'anchor.genesis'), join(dir, 'top.genesis')];
  await writeFile(genesisFiles[0], JSON.stringify({ genesis: toHex(anchor.bytes) }) + '\n');
  await writeFile(genesisFiles[1], JSON.stringify({ genesis: toHex(top.bytes) }) + '\n');

  const node = new ValidatorNode({
    dataDir: join(dir, 'publisher'),
    listen: [listen],
    bootstrap: [],
    anchorId: anchor.chainId,
    track: [top.chainId],
    genesis: [anchor, top],
    registry: new Registry(),
    log: createLogger('warn', 'publisher'),
    // No periodic status polls: they would make validators backfill (and, in the baseline, re-validate).
    syncIntervalMs: 600_000,
  });
  const work = new Workload(top, new ChainProducer(top, topKey.secretKey));
  let stopping: Promise<void> | null = null;
  const stop = (code: number) => {
    stopping ??= node
      .stop()
      .catch((e: unknown) => {
        process.stderr.write(`publisher: stop failed: ${String(e)}\n`);
      })
      .finally(() => process.exit(code));
    return stopping;
  };
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGINT', () => void stop(0));

  await node.start();
  const ready: PublisherReady = {
    bench: 'ready',
    peerId: node.peerId.toString(),
    listen: node.multiaddrs(),
    anchor: toHex(anchor.chainId),
    top: toHex(top.chainId),
    genesisFiles,
  };
  emit(ready);

  const publish = async (c: PublishCommand): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (node.meshPeers(top.chainId) < 1) {
      if (Date.now() > deadline) throw new Error('publisher: no mesh peer on the block topic after 60 s');
      await sleep(50);
    }
    // Produce first, so that signing never shifts the publication schedule.
    const blocks = Array.from({ length: c.count }, () => work.block(c.transfers, c.creates));
    const interval = 1000 / c.rate;
    const t0 = Date.now();
    for (let i = 0; i < blocks.length; i++) {
      await sleep(t0 + i * interval - Date.now());
      const b = blocks[i];
      // What publishBlock does, with the clock read between the operator's own check and the gossip.
      const v = await node.ingest(top.chainId, b.bytes, 'local');
      if (v.result !== 'accept')
        throw new Error(`publisher: own block ${b.height} judged ${v.result} ${v.code}`);
      const published = Date.now();
      await node.publishBlock(top.chainId, b.bytes, { raw: true });
      const line: PublishedLine = { height: b.height, published, txs: b.txs };
      emit(line);
    }
    emit({ bench: 'done', count: blocks.length });
  };

  const rl = createInterface({ input: process.stdin });
  for await (const text of rl) {
    if (!text.trim()) continue;
    const c = JSON.parse(text) as PublisherCommand;
    if (c.cmd === 'stop') break;
    await publish(c);
  }
  await stop(0);
}

// Runs only as a program, so that importing the module (for its types) starts nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`publisher: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
