/**
 * The operator's embedded durable store (LevelDB via classic-level).
 *
 * Key space (utf8 keys, binary values):
 *   m/genesis             the chain's genesis record
 *   m/head                encoded SignedHeader of the head block (absent before the first block)
 *   m/published           highest height handed to the block sink (decimal; a hint, rewritten lazily)
 *   m/consumed            highest request-log sequence number a block has carried (decimal)
 *   m/<name>              other small JSON records (the operator's registration with its parent, ...)
 *   c/<start:16 hex>      encoded Contract (tree leaf) of the head state
 *   b/<height:14 hex>     encoded Block
 *   a/<digest:64 hex>     the owner's signed action that superseded the contract state with that digest
 *   x/<chain id:64 hex>   child chain index: the contract the child chain lives in, with its genesis record
 *   l/<seq:14 hex>        request log: acknowledged requests no block carries yet, in acceptance order
 *   z/<...>               records of components built on the operator (the devnet anchor)
 *
 * Two writes matter for crash safety, and both are synchronous (fsync) LevelDB batches:
 * - appending to the request log, which completes before the API acknowledges a request;
 * - writing a block: the block, the head, every changed contract, the authorisations and child index entries it
 *   carries, and the deletion of the log entries it consumed, as one atomic batch, before the block is published.
 * At any crash point the store therefore holds a prefix of the chain plus a prefix of the acknowledged requests
 * after it, and replaying the log through the producer reproduces the state the crash interrupted.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { openLevel } from '../runtime/level.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { decodeGenesis, type GenesisRecord } from '../chain/genesis.js';
import { decodeSignedHeader, type SignedHeader } from '../chain/header.js';
import { leafFromBytes, type Leaf } from '../tree/contract.js';

type Op =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: string };

/** An extra record written atomically with a request-log append (keys are placed under `z/`). */
export interface AuxWrite {
  readonly key: string;
  readonly value: Uint8Array;
}

export interface StoredAuthorisation {
  /** Digest of the contract state the action superseded. */
  readonly digest: Uint8Array;
  readonly start: bigint;
  readonly action: Uint8Array;
  readonly signature: Uint8Array;
  readonly height: number;
}

export interface StoredChild {
  readonly chainId: Uint8Array;
  readonly start: bigint;
  readonly genesis: GenesisRecord;
}

export interface BlockWrite {
  readonly height: number;
  readonly block: Uint8Array;
  readonly head: SignedHeader;
  /** Final state of every contract the block changed, by start; null: removed. */
  readonly contracts: ReadonlyMap<bigint, Leaf | null>;
  readonly authorisations: readonly StoredAuthorisation[];
  readonly children: readonly StoredChild[];
  /** Request-log sequence numbers (inclusive) the block carries; null: none. */
  readonly consumed: { readonly from: number; readonly to: number } | null;
}

export interface LogEntry {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

const pad14 = (n: number) => n.toString(16).padStart(14, '0');
const pad16 = (n: bigint) => n.toString(16).padStart(16, '0');
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

export const storeKeys = {
  contract: (start: bigint) => `c/${pad16(start)}`,
  block: (height: number) => `b/${pad14(height)}`,
  auth: (digest: Uint8Array) => `a/${toHex(digest)}`,
  child: (chainId: Uint8Array) => `x/${toHex(chainId)}`,
  log: (seq: number) => `l/${pad14(seq)}`,
  aux: (key: string) => `z/${key}`,
};

export class OperatorStore {
  private readonly db: ClassicLevel<string, Uint8Array>;

  private constructor(readonly dir: string) {
    this.db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  }

  /** Throws DatabaseLockedError while another process has the store open. */
  static async open(dir: string): Promise<OperatorStore> {
    const s = new OperatorStore(dir);
    await openLevel(s.db, dir, { createIfMissing: true });
    return s;
  }

  get isOpen(): boolean {
    return this.db.status === 'open';
  }

  async close(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close();
  }

  // ---- meta

  async genesis(): Promise<GenesisRecord | undefined> {
    const v = await this.db.get('m/genesis');
    return v ? decodeGenesis(v) : undefined;
  }

  async putGenesis(rec: GenesisRecord): Promise<void> {
    await this.db.put('m/genesis', rec.bytes, { sync: true });
  }

  async head(): Promise<SignedHeader | undefined> {
    const v = await this.db.get('m/head');
    return v ? decodeSignedHeader(v) : undefined;
  }

  async published(): Promise<number> {
    const v = await this.db.get('m/published');
    return v ? Number(dec(v)) : 0;
  }

  async putPublished(height: number): Promise<void> {
    await this.db.put('m/published', enc(String(height)));
  }

  async consumed(): Promise<number> {
    const v = await this.db.get('m/consumed');
    return v ? Number(dec(v)) : 0;
  }

  async getJson<T>(name: string): Promise<T | undefined> {
    const v = await this.db.get(`m/${name}`);
    return v ? (JSON.parse(dec(v)) as T) : undefined;
  }

  async putJson(name: string, value: unknown): Promise<void> {
    await this.db.put(`m/${name}`, enc(JSON.stringify(value)), { sync: true });
  }

  // ---- contracts, blocks, authorisations, children

  async contract(start: bigint): Promise<Leaf | undefined> {
    const v = await this.db.get(storeKeys.contract(start));
    return v ? leafFromBytes(v) : undefined;
  }

  /** Every contract of the head state, in start order. */
  async leaves(): Promise<Leaf[]> {
    const out: Leaf[] = [];
    // Batched reads: an async step per entry costs more than decoding it.
    const it = this.db.values({ gt: 'c/', lt: 'c0' });
    try {
      for (let batch = await it.nextv(10_000); batch.length; batch = await it.nextv(10_000))
        for (const v of batch) out.push(leafFromBytes(v));
    } finally {
      await it.close();
    }
    return out;
  }

  async block(height: number): Promise<Uint8Array | undefined> {
    return this.db.get(storeKeys.block(height));
  }

  /** Blocks from `from` (inclusive) in height order, at most `limit`. */
  async *blocks(
    from = 1,
    limit = Number.MAX_SAFE_INTEGER,
  ): AsyncGenerator<{ height: number; bytes: Uint8Array }> {
    let n = 0;
    for await (const [k, v] of this.db.iterator({ gte: storeKeys.block(from), lt: 'b0' })) {
      if (n++ >= limit) break;
      yield { height: parseInt(k.slice(2), 16), bytes: v };
    }
  }

  async authorisation(digest: Uint8Array): Promise<StoredAuthorisation | undefined> {
    const v = await this.db.get(storeKeys.auth(digest));
    if (!v) return undefined;
    const j = JSON.parse(dec(v)) as { s: string; a: string; sig: string; h: number };
    return {
      digest,
      start: BigInt(j.s),
      action: fromHex(j.a, 'stored action'),
      signature: fromHex(j.sig, 'stored signature'),
      height: j.h,
    };
  }

  async children(): Promise<StoredChild[]> {
    const out: StoredChild[] = [];
    for await (const v of this.db.values({ gt: 'x/', lt: 'x0' })) {
      const j = JSON.parse(dec(v)) as { s: string; g: string };
      const genesis = decodeGenesis(fromHex(j.g, 'stored genesis'));
      out.push({ chainId: genesis.chainId, start: BigInt(j.s), genesis });
    }
    return out;
  }

  /** Writes a sealed block and everything it changes as one synchronous atomic batch. */
  async writeBlock(w: BlockWrite): Promise<void> {
    const ops: Op[] = [
      { type: 'put', key: storeKeys.block(w.height), value: w.block },
      { type: 'put', key: 'm/head', value: w.head.bytes },
    ];
    for (const [start, leaf] of w.contracts) {
      if (leaf) ops.push({ type: 'put', key: storeKeys.contract(start), value: leaf.bytes });
      else ops.push({ type: 'del', key: storeKeys.contract(start) });
    }
    for (const a of w.authorisations) {
      const j = { s: a.start.toString(), a: toHex(a.action), sig: toHex(a.signature), h: a.height };
      ops.push({ type: 'put', key: storeKeys.auth(a.digest), value: enc(JSON.stringify(j)) });
    }
    for (const c of w.children) {
      const j = { s: c.start.toString(), g: toHex(c.genesis.bytes) };
      ops.push({ type: 'put', key: storeKeys.child(c.chainId), value: enc(JSON.stringify(j)) });
    }
    if (w.consumed) {
      for (let s = w.consumed.from; s <= w.consumed.to; s++) ops.push({ type: 'del', key: storeKeys.log(s) });
      ops.push({ type: 'put', key: 'm/consumed', value: enc(String(w.consumed.to)) });
    }
    await this.db.batch(ops, { sync: true });
  }

  // ---- request log

  async logEntries(): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for await (const [k, v] of this.db.iterator({ gt: 'l/', lt: 'l0' }))
      out.push({ seq: parseInt(k.slice(2), 16), bytes: v });
    return out;
  }

  /** Appends requests (and records that must become durable with them) in one synchronous batch. */
  async appendLog(entries: readonly LogEntry[], aux: readonly AuxWrite[] = []): Promise<void> {
    const ops: Op[] = entries.map((e) => ({ type: 'put', key: storeKeys.log(e.seq), value: e.bytes }));
    for (const a of aux) ops.push({ type: 'put', key: storeKeys.aux(a.key), value: a.value });
    await this.db.batch(ops, { sync: true });
  }

  // ---- records of components built on the operator

  async getAux(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(storeKeys.aux(key));
  }

  async putAux(key: string, value: Uint8Array): Promise<void> {
    await this.db.put(storeKeys.aux(key), value, { sync: true });
  }

  /** Several records in one synchronous atomic batch. */
  async putAuxMany(writes: readonly AuxWrite[]): Promise<void> {
    await this.db.batch(
      writes.map((w) => ({ type: 'put' as const, key: storeKeys.aux(w.key), value: w.value })),
      { sync: true },
    );
  }

  async *auxEntries(prefix: string): AsyncGenerator<{ key: string; value: Uint8Array }> {
    const lo = storeKeys.aux(prefix);
    for await (const [k, v] of this.db.iterator({ gte: lo, lt: lo + '\uffff' }))
      yield { key: k.slice(2), value: v };
  }

  // ---- maintenance

  /** Bytes the database occupies on disk. */
  async sizeOnDisk(): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.dir)) {
      try {
        total += (await stat(join(this.dir, name))).size;
      } catch {
        // Compaction removed the file between listing and stat.
      }
    }
    return total;
  }

  /**
   * Installs a full state in an empty store: contracts, the block that commits to them and the head. For
   * benchmarks and for seeding a devnet with a large tree; the restart check (tree root = head state root) still
   * applies, so the block must commit to exactly these contracts.
   */
  async importState(
    genesis: GenesisRecord,
    leaves: Iterable<Leaf>,
    head: { height: number; block: Uint8Array; signed: SignedHeader },
  ): Promise<void> {
    if ((await this.genesis()) || (await this.head())) throw new Error('importState needs an empty store');
    let batch = this.db.batch();
    for (const leaf of leaves) {
      batch.put(storeKeys.contract(leaf.contract.start), leaf.bytes);
      if (batch.length >= 20_000) {
        await batch.write();
        batch = this.db.batch();
      }
    }
    await batch.write();
    await this.db.batch(
      [
        { type: 'put', key: 'm/genesis', value: genesis.bytes },
        { type: 'put', key: storeKeys.block(head.height), value: head.block },
        { type: 'put', key: 'm/head', value: head.signed.bytes },
      ],
      { sync: true },
    );
  }
}
