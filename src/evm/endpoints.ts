/**
 * Whose block hash: the EVM endpoints a node reads (`--evm-rpc`, repeatable) and the rule that makes a block hash
 * count (`--evm-quorum k`: k of the n endpoints name it, each with a header that hashes to it), an optional trusted
 * checkpoint block (`--evm-checkpoint <number>:<hash>`: an endpoint on another chain there is left out), and a
 * count of what endpoints answered against the others (`sortition_evm_endpoint_disagreements_total`).
 *
 * A block hash agreed this way roots what the node then proves (src/evm/proven.ts): storage words from any one
 * endpoint's eth_getProof, checked against the agreed header's state root, so a proof may come from a liar and
 * still be believed only when it is true. What the quorum cannot give is the chain's own consensus: k endpoints run
 * by one party can agree on a chain nobody else follows (the README says what removing that trust takes).
 *
 * Endpoints are named in metrics and the API by their position (`0`, `1`, ...): a URL can carry an API key.
 */
import { Counter, type Registry } from 'prom-client';
import { createPublicClient, http, toHex, type Hex, type PublicClient } from 'viem';
import { CodedError } from '../codec/errors.js';
import type { Logger } from '../runtime/logger.js';
import { checkHeader, ProofError, type CheckedHeader, type RpcBlock } from './proof.js';

/** How long an endpoint may take to answer before it counts as silent (a stalled endpoint must not stop the rest). */
export const DEFAULT_ENDPOINT_TIMEOUT_MS = 10_000;

export type EndpointDisagreement =
  /** It named another block hash at a height than the agreed one. */
  | 'BLOCK_HASH'
  /** It sent a header that does not hash to the hash it named, or a malformed one. */
  | 'BAD_HEADER'
  /** It named a head further than the agreed one by more than the tolerated lag. */
  | 'HEAD'
  /** It did not answer in time, or answered an error or garbage. */
  | 'NO_ANSWER'
  /** Its block at the trusted checkpoint's height is another: it follows another chain, and is left out. */
  | 'CHECKPOINT'
  /** Its storage proof did not verify against the agreed state root. */
  | 'PROOF';

export type QuorumCode = 'NO_QUORUM' | 'CHECKPOINT';

export class QuorumError extends CodedError<QuorumCode> {
  override readonly name = 'QuorumError';
}

/** How a block hash was taken: named by k >= 2 endpoints (`quorum`), or on one endpoint's word (`trusted`). */
export type HashBasis = 'quorum' | 'trusted';

/** A checked header whose hash counts, and how. */
export interface AgreedBlock extends CheckedHeader {
  readonly by: HashBasis;
  /** Endpoints that named this hash, of those asked. */
  readonly agreeing: number;
  readonly of: number;
}

export interface Checkpoint {
  readonly number: bigint;
  readonly hash: Hex;
}

/** `<number>:<0x hash>`, as `--evm-checkpoint` takes it. */
export function parseCheckpoint(text: string): Checkpoint | null {
  const m = /^(\d+):(0x[0-9a-fA-F]{64})$/.exec(text.trim());
  return m ? { number: BigInt(m[1]), hash: m[2].toLowerCase() as Hex } : null;
}

export interface EndpointsOptions {
  readonly urls: readonly string[];
  /** Endpoints that must name a block hash for it to count (1 <= k <= n). */
  readonly quorum: number;
  readonly checkpoint?: Checkpoint;
  readonly timeoutMs?: number;
  /** Blocks an endpoint's head may run past the agreed head before it counts as a disagreement. */
  readonly headLag?: bigint;
  readonly registry?: Registry;
  readonly log: Logger;
}

interface Endpoint {
  readonly index: number;
  readonly pub: PublicClient;
  /** Left out: its block at the checkpoint is another. */
  excluded: boolean;
}

export class EvmEndpoints {
  private readonly list: Endpoint[];
  private readonly counter: Counter | null;
  private readonly counts = new Map<string, number>();

  constructor(private readonly o: EndpointsOptions) {
    if (o.urls.length === 0) throw new Error('no EVM endpoint');
    if (!Number.isInteger(o.quorum) || o.quorum < 1 || o.quorum > o.urls.length)
      throw new Error(`--evm-quorum ${o.quorum}: expected 1 to ${o.urls.length} (the --evm-rpc endpoints)`);
    const timeout = o.timeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS;
    this.list = o.urls.map((url, index) => ({
      index,
      pub: createPublicClient({ transport: http(url, { timeout, retryCount: 0 }), cacheTime: 0 }),
      excluded: false,
    }));
    this.counter = o.registry
      ? new Counter({
          name: 'sortition_evm_endpoint_disagreements_total',
          help: 'Answers of an EVM endpoint (by position in --evm-rpc) that disagreed with the agreed view, by kind',
          labelNames: ['endpoint', 'code'],
          registers: [o.registry],
        })
      : null;
  }

  get size(): number {
    return this.list.length;
  }

  get quorum(): number {
    return this.o.quorum;
  }

  get checkpoint(): Checkpoint | null {
    return this.o.checkpoint ?? null;
  }

  /** How block hashes are taken: by a quorum of two or more endpoints, or on one endpoint's word. */
  get basis(): HashBasis {
    return this.o.quorum >= 2 ? 'quorum' : 'trusted';
  }

  /** Disagreements counted so far, by `endpoint/code`. */
  disagreements(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** The endpoints not left out, in --evm-rpc order (proofs are asked in this order), with their positions. */
  clients(): { readonly index: number; readonly pub: PublicClient }[] {
    return this.live().map((e) => ({ index: e.index, pub: e.pub }));
  }

  disagree(index: number, code: EndpointDisagreement, detail: string): void {
    const key = `${index}/${code}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.counter?.inc({ endpoint: String(index), code });
    this.o.log.warn({ endpoint: index, code, detail }, 'an EVM endpoint disagrees with the others');
  }

  private live(): Endpoint[] {
    return this.list.filter((e) => !e.excluded);
  }

  /**
   * Checks every endpoint's block at the checkpoint: one that names another hash there is left out for good (it
   * follows another chain); fewer than the quorum left is fatal. Endpoints that do not answer stay in.
   * @throws QuorumError CHECKPOINT
   */
  async checkCheckpoint(): Promise<void> {
    const cp = this.o.checkpoint;
    if (!cp) return;
    await Promise.all(
      this.list.map(async (e) => {
        const b = await this.blockOf(e, cp.number);
        if (b === undefined || b === null) return;
        if (b.hash !== cp.hash) {
          e.excluded = true;
          this.disagree(
            e.index,
            'CHECKPOINT',
            `block ${cp.number} is ${b.hash}, not the checkpoint ${cp.hash}`,
          );
        }
      }),
    );
    if (this.live().length < this.o.quorum)
      throw new QuorumError(
        'CHECKPOINT',
        `only ${this.live().length} of ${this.list.length} EVM endpoints hold the checkpoint block ` +
          `${cp.number} ${cp.hash}; --evm-quorum is ${this.o.quorum}`,
      );
  }

  /**
   * The head: the highest block that k endpoints have reached (the k-th highest head named), so no fewer than k
   * endpoints can move it. An endpoint further ahead than `headLag` is a disagreement.
   * @throws QuorumError NO_QUORUM when fewer than k answer
   */
  async head(): Promise<bigint> {
    const live = this.live();
    const heads = await Promise.all(
      live.map((e) =>
        e.pub.getBlockNumber({ cacheTime: 0 }).catch((err: unknown) => {
          this.disagree(e.index, 'NO_ANSWER', `eth_blockNumber: ${firstLine(err)}`);
          return null;
        }),
      ),
    );
    const named = heads.filter((h): h is bigint => h !== null).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    if (named.length < this.o.quorum)
      throw new QuorumError('NO_QUORUM', `${named.length} of ${live.length} EVM endpoints named a head`);
    const head = named[this.o.quorum - 1];
    const lag = this.o.headLag ?? 64n;
    heads.forEach((h, i) => {
      if (h !== null && h - head > lag)
        this.disagree(live[i].index, 'HEAD', `named head ${h}, ${h - head} past the agreed ${head}`);
    });
    return head;
  }

  /**
   * Block `n` as k endpoints name it, each with a header that hashes to its hash; null when no endpoint has it
   * (the chain is not there yet). Endpoints naming another hash or a bad header are counted.
   * @throws QuorumError NO_QUORUM when some have it but no hash is named by k
   */
  async block(n: bigint): Promise<AgreedBlock | null> {
    const live = this.live();
    const answers = await Promise.all(live.map((e) => this.blockOf(e, n)));
    const votes = new Map<Hex, { header: CheckedHeader; count: number }>();
    for (const a of answers) {
      if (!a) continue;
      const v = votes.get(a.hash) ?? { header: a, count: 0 };
      v.count++;
      votes.set(a.hash, v);
    }
    if (votes.size === 0) {
      if (answers.every((a) => a === null)) return null;
      throw new QuorumError('NO_QUORUM', `no EVM endpoint gave a valid block ${n}`);
    }
    const best = [...votes.values()].sort((a, b) => b.count - a.count)[0];
    answers.forEach((a, i) => {
      if (a && a.hash !== best.header.hash)
        this.disagree(
          live[i].index,
          'BLOCK_HASH',
          `block ${n} is ${a.hash}, the others' ${best.header.hash}`,
        );
    });
    if (best.count < this.o.quorum)
      throw new QuorumError(
        'NO_QUORUM',
        `block ${n}: ${best.count} of ${live.length} EVM endpoints name ${best.header.hash}; ` +
          `--evm-quorum is ${this.o.quorum}`,
      );
    return { ...best.header, by: this.basis, agreeing: best.count, of: live.length };
  }

  /** One endpoint's checked header at `n`: null when it has no such block, undefined when it failed (counted). */
  private async blockOf(e: Endpoint, n: bigint): Promise<CheckedHeader | null | undefined> {
    let raw: unknown;
    try {
      raw = await e.pub.request({ method: 'eth_getBlockByNumber', params: [toHex(n), false] });
    } catch (err) {
      this.disagree(e.index, 'NO_ANSWER', `eth_getBlockByNumber ${n}: ${firstLine(err)}`);
      return undefined;
    }
    if (raw === null) return null;
    try {
      if (typeof raw !== 'object') throw new ProofError('HEADER_FIELDS', 'the block is not an object');
      const h = checkHeader(raw as RpcBlock);
      if (h.number !== n) throw new ProofError('HEADER_FIELDS', `asked block ${n}, got ${h.number}`);
      return h;
    } catch (err) {
      if (!(err instanceof ProofError)) throw err;
      this.disagree(e.index, 'BAD_HEADER', err.message);
      return undefined;
    }
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
