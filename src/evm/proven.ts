/**
 * Proven reads of the anchor contract: what a validator relies on (a counted commit's header hash, a chain's
 * phase, deposit, slashed flag and committed height, the standing claim) read from storage words that
 * `eth_getProof` proves against the state root of a block whose hash the endpoints agreed on (src/evm/endpoints.ts),
 * at slots derived from solc's storage layout (src/evm/storage.ts). Neither `eth_call` nor a log is believed here.
 *
 * A proof is asked of each endpoint in turn until one verifies: a wrong proof costs only the liar (counted as its
 * disagreement). Every read is counted by what was read and its verdict (`sortition_evm_proven_reads_total`).
 */
import type { ChainOnChain } from './node-anchor.js';
import { Counter, type Registry } from 'prom-client';
import { getAddress, toHex, type Address, type Hex } from 'viem';
import { SortitionAnchor } from '../gen/contracts.js';
import { type AgreedBlock, type EvmEndpoints } from './endpoints.js';
import { ProofError, provenWords, type ProofCode, type RpcProof } from './proof.js';
import { fieldValue, StorageLayout, word32, type StorageField } from './storage.js';

const PHASES = ['none', 'active', 'settling', 'settled'] as const;

/**
 * A chain's registration as its proven storage holds it: the very shape EvmAnchor reads with `eth_call`, so a field
 * added to the contract's Chain is added once.
 */
export type ProvenChain = ChainOnChain;

export interface ProvenClaim {
  readonly winnerKey: Hex;
  readonly payout: Address;
  readonly height: number;
  readonly deadline: bigint;
  readonly claimant: Address;
  /** keccak256 of the judged levels: what a Claimed log's levels are checked against. */
  readonly levelsHash: Hex;
}

export type ProvenWhat = 'commit' | 'chain' | 'claim';

export interface ProvenAnchorOptions {
  readonly endpoints: EvmEndpoints;
  readonly address: Address;
  readonly registry?: Registry;
}

export class ProvenAnchor {
  private readonly layout = new StorageLayout(SortitionAnchor.storageLayout);
  private readonly counter: Counter | null;
  /** Proven reads by `what/result/code`, for the API. */
  private readonly counts = new Map<string, number>();

  constructor(private readonly o: ProvenAnchorOptions) {
    this.counter = o.registry
      ? new Counter({
          name: 'sortition_evm_proven_reads_total',
          help: 'Anchor state read with eth_getProof against an agreed block, by what was read and verdict',
          labelNames: ['what', 'result', 'code'],
          registers: [o.registry],
        })
      : null;
  }

  get endpoints(): EvmEndpoints {
    return this.o.endpoints;
  }

  /** The head block k endpoints reached and agree on: what reads "now" are proven at. */
  async head(): Promise<AgreedBlock> {
    const e = this.o.endpoints;
    const at = await e.block(await e.head());
    if (!at) throw new ProofError('HEADER_FIELDS', 'no EVM endpoint holds the head it named');
    return at;
  }

  /** Reads so far, by `what/result/code` (result `proven` or `refused`; code `OK` or a ProofCode). */
  reads(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** The header hash committed for `chainId` at `height` in the state of `block` (null: none). */
  async commit(chainId: Hex, height: number, block: AgreedBlock): Promise<Hex | null> {
    const f = this.layout.field('commits', chainId, BigInt(height), 'headerHash');
    const [v] = await this.read('commit', [f], block);
    return v === 0n ? null : word32(v);
  }

  async chain(chainId: Hex, block: AgreedBlock): Promise<ProvenChain> {
    const at = (m: string): StorageField => this.layout.field('chains', chainId, m);
    const names = [
      'phase',
      'slashed',
      'height',
      'deposit',
      'safety',
      'beacon',
      'committer',
      'start',
      'end',
      'expiry',
      'operatorKey',
      'beaconRound',
      'beaconTime',
    ] as const;
    const v = await this.read('chain', names.map(at), block);
    return {
      phase: PHASES[Number(v[0])] ?? 'none',
      slashed: v[1] !== 0n,
      height: Number(v[2]),
      depositWei: v[3],
      safetyWei: v[4],
      beacon: word32(v[5]),
      committer: address(v[6]),
      start: v[7],
      end: v[8],
      expiry: v[9],
      operatorKey: word32(v[10]),
      beaconRound: v[11],
      beaconTime: v[12],
    };
  }

  /** The standing claim of a chain, null when none stands. */
  async claim(chainId: Hex, block: AgreedBlock): Promise<ProvenClaim | null> {
    const at = (m: string): StorageField => this.layout.field('claims', chainId, m);
    const names = ['winnerKey', 'payout', 'height', 'deadline', 'claimant', 'levelsHash'] as const;
    const v = await this.read('claim', names.map(at), block);
    if (v[4] === 0n) return null;
    return {
      winnerKey: word32(v[0]),
      payout: address(v[1]),
      height: Number(v[2]),
      deadline: v[3],
      claimant: address(v[4]),
      levelsHash: word32(v[5]),
    };
  }

  /**
   * The values of `fields` in the state of `block`, from the first endpoint whose proof verifies.
   * @throws ProofError (the last endpoint's) when none does
   */
  private async read(
    what: ProvenWhat,
    fields: readonly StorageField[],
    block: AgreedBlock,
  ): Promise<bigint[]> {
    const slots = [...new Set(fields.map((f) => f.slot))];
    const keys = slots.map((s) => toHex(s, { size: 32 }));
    const clients = this.o.endpoints.clients();
    let last: ProofError | null = null;
    for (const { index, pub } of clients) {
      let raw: unknown;
      try {
        raw = await pub.request({
          method: 'eth_getProof',
          params: [this.o.address, keys, toHex(block.number)],
        });
      } catch (e) {
        last = new ProofError('ACCOUNT_PROOF', `eth_getProof: ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      try {
        const words = await provenWords(block.stateRoot, this.o.address, slots, shape(raw));
        this.count(what, 'proven', 'OK');
        return fields.map((f) => fieldValue(words.get(f.slot)!, f));
      } catch (e) {
        if (!(e instanceof ProofError)) throw e;
        last = e;
        // A contract proven absent is the chain's state, not one endpoint's lie.
        if (e.code === 'NO_CONTRACT') break;
        this.o.endpoints.disagree(index, 'PROOF', `${what}: ${e.message}`);
      }
    }
    const err = last ?? new ProofError('ACCOUNT_PROOF', 'no EVM endpoint to prove from');
    this.count(what, 'refused', err.code);
    throw err;
  }

  private count(what: ProvenWhat, result: 'proven' | 'refused', code: ProofCode | 'OK'): void {
    const key = `${what}/${result}/${code}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.counter?.inc({ what, result, code });
  }
}

function address(v: bigint): Address {
  return getAddress(toHex(v, { size: 20 }));
}

/** eth_getProof's answer as far as it is read: anything else is a malformed proof. */
function shape(raw: unknown): RpcProof {
  const r = raw as Partial<RpcProof> | null;
  if (!r || !Array.isArray(r.accountProof) || !Array.isArray(r.storageProof))
    throw new ProofError('ACCOUNT_PROOF', 'eth_getProof answered no accountProof/storageProof lists');
  return r as RpcProof;
}
