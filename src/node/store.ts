/**
 * The validator's own small durable state (LevelDB via classic-level): genesis records, per tracked chain its
 * meta (anchored height, faulty), signed headers and blocks by height (to resume, to answer equivocation checks
 * after a restart, and to serve peers that backfill), the height of every owner action by the contract state it gave
 * up, evidence, and watched contracts. Memory use does not grow with the chains:
 * everything here is on disk and read by key or range.
 */
import { ClassicLevel } from 'classic-level';
import { toHex, fromHex } from '../crypto/hash.js';
import { decodeGenesis, type GenesisRecord } from '../chain/genesis.js';
import { decodeSignedHeader, type SignedHeader } from '../chain/header.js';
import { openLevel } from '../runtime/level.js';

export interface ChainMeta {
  readonly height: number;
  readonly anchoredHeight: number;
  readonly faulty: boolean;
  /** Which chain each contract holds, by start (absent in stores written before it was kept). */
  readonly holds?: Readonly<Record<string, string>>;
}

const pad = (n: number) => n.toString(16).padStart(14, '0');

export class NodeStore {
  private readonly db: ClassicLevel<string, Uint8Array>;

  constructor(private readonly path: string) {
    this.db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
  }

  /** Throws DatabaseLockedError while another process has the database open. */
  async open(): Promise<void> {
    await openLevel(this.db, this.path);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async putGenesis(rec: GenesisRecord): Promise<void> {
    await this.db.put(`g/${toHex(rec.chainId)}`, rec.bytes);
  }

  async genesis(): Promise<GenesisRecord[]> {
    const out: GenesisRecord[] = [];
    for await (const v of this.db.values({ gt: 'g/', lt: 'g0' })) out.push(decodeGenesis(v));
    return out;
  }

  async genesisById(chainId: Uint8Array): Promise<GenesisRecord | undefined> {
    const v = await this.db.get(`g/${toHex(chainId)}`);
    return v ? decodeGenesis(v) : undefined;
  }

  /**
   * Records an accepted block and the chain's meta in one atomic write, with the height of each owner action it
   * carries under the digest of the contract state the action gave up (`acted`): what finds the consent that
   * defeats a claim of that state without reading the chain's blocks.
   */
  async putBlock(
    chainId: Uint8Array,
    height: number,
    block: Uint8Array,
    signed: SignedHeader,
    meta: ChainMeta,
    acted: readonly Uint8Array[] = [],
  ): Promise<void> {
    const c = toHex(chainId);
    const at = Buffer.from(pad(height));
    await this.db.batch([
      { type: 'put', key: `b/${c}/${pad(height)}`, value: block },
      { type: 'put', key: `s/${c}/${pad(height)}`, value: signed.bytes },
      { type: 'put', key: `m/${c}`, value: Buffer.from(JSON.stringify(meta)) },
      ...acted.map((d) => ({ type: 'put' as const, key: `a/${c}/${toHex(d)}`, value: at })),
    ]);
  }

  /** The height of the block whose owner action gave up the contract state with leaf digest `digest`. */
  async actedAt(chainId: Uint8Array, digest: Uint8Array): Promise<number | undefined> {
    const v = await this.db.get(`a/${toHex(chainId)}/${toHex(digest)}`);
    return v ? parseInt(Buffer.from(v).toString('utf8'), 16) : undefined;
  }

  async putMeta(chainId: Uint8Array, meta: ChainMeta): Promise<void> {
    await this.db.put(`m/${toHex(chainId)}`, Buffer.from(JSON.stringify(meta)));
  }

  async meta(chainId: Uint8Array): Promise<ChainMeta | undefined> {
    const v = await this.db.get(`m/${toHex(chainId)}`);
    return v ? (JSON.parse(Buffer.from(v).toString('utf8')) as ChainMeta) : undefined;
  }

  /** The last `count` signed headers up to `height`, oldest first. */
  async recentHeaders(chainId: Uint8Array, height: number, count: number): Promise<SignedHeader[]> {
    const c = toHex(chainId);
    const out: SignedHeader[] = [];
    const from = Math.max(1, height - count + 1);
    for await (const v of this.db.values({ gte: `s/${c}/${pad(from)}`, lte: `s/${c}/${pad(height)}` })) {
      out.push(decodeSignedHeader(v));
    }
    return out;
  }

  async blocks(chainId: Uint8Array, start: number, count: number): Promise<Uint8Array[]> {
    const c = toHex(chainId);
    const out: Uint8Array[] = [];
    if (count <= 0) return out;
    for await (const v of this.db.values({
      gte: `b/${c}/${pad(start)}`,
      lte: `b/${c}/${pad(start + count - 1)}`,
    }))
      out.push(v);
    return out;
  }

  async putEvidence(id: Uint8Array, bytes: Uint8Array): Promise<void> {
    await this.db.put(`e/${toHex(id)}`, bytes);
  }

  async evidence(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const v of this.db.values({ gt: 'e/', lt: 'e0' })) out.push(v);
    return out;
  }

  async evidenceById(id: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.db.get(`e/${toHex(id)}`)) ?? undefined;
  }

  /** Watched contracts (src/node/watches.ts), one JSON record each; a batch writes several at once. */
  async putWatches(records: readonly { readonly id: string }[]): Promise<void> {
    await this.db.batch(
      records.map((r) => ({ type: 'put' as const, key: `w/${r.id}`, value: Buffer.from(JSON.stringify(r)) })),
    );
  }

  async deleteWatch(id: string): Promise<void> {
    await this.db.del(`w/${id}`);
  }

  async watches(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const v of this.db.values({ gt: 'w/', lt: 'w0' }))
      out.push(JSON.parse(Buffer.from(v).toString('utf8')));
    return out;
  }

  /** Approximate bytes on disk, for metrics. */
  async approximateSize(): Promise<number> {
    return this.db.approximateSize('', '\xff');
  }
}

export { fromHex };
