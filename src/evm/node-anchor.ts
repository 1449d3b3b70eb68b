/**
 * The node's side of the EVM anchor (docs/protocol.md section 12): `EvmAnchor` implements the `Anchor` interface
 * over JSON-RPC, read-only without an EVM key; with one it registers chains, commits their headers and submits
 * evidence, every transaction through a crash-safe journal (`TxSender`).
 *
 * Registration differs from the devnet anchor's in one way: the contract takes the chain's genesis record itself
 * (it checks the parent, the interval, the expiry and the deposit), so the anchor picks the next free interval
 * from the `Registered` events, builds the genesis, journals it, and registers it; the returned registration
 * carries the genesis. A restart with a journaled genesis registers that one (or finds it registered).
 */
import {
  decodeFunctionData,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  hexToBytes,
  keccak256,
  toHex,
  zeroAddress,
  type Address,
  type Hex,
} from 'viem';
import { sortition } from '../gen/proto.js';
import { bytesEqual, bytesOf, decodeCanonical } from '../codec/canonical.js';
import { LIMITS } from '../codec/limits.js';
import { randomBytes } from 'node:crypto';
import { fromHex, toHex as hexOf } from '../crypto/hash.js';
import { PUBLIC_KEY_BYTES } from '../crypto/keys.js';
import { EvidenceError, verifyEvidence, type EvidenceKind } from '../chain/evidence.js';
import { decodeGenesis, type GenesisRecord } from '../chain/genesis.js';
import { decodeSignedHeader } from '../chain/header.js';
import { AnchorError } from '../anchor/types.js';
import type { Logger } from '../runtime/logger.js';
import type {
  Anchor,
  CommitResult,
  EvidenceRecord,
  Registration,
  RegistrationRequest,
} from '../anchor/types.js';
import { ANCHOR_ABI, evmAnchorId, evmGenesis, registrationMessage } from './anchor.js';
import { DrandBeacon } from '../gen/contracts.js';
import { DEFAULT_BLOCK_SECONDS } from './deploy-params.js';
import {
  QUICKNET_RELAY,
  chooseRound,
  devDrandSource,
  g1ForEvm,
  g2FromEvm,
  httpDrandSource,
  knownNetwork,
  type DrandNetwork,
  type DrandSource,
} from './drand.js';
import { connect, walletFor, type EvmWallet } from './client.js';
import type { ProvenAnchor } from './proven.js';
import { AnchorRevert, revertOf, TxSender, type Journal } from './sender.js';

/** Expiry used when none is given: far beyond any EVM block, and a safe integer. */
export const NO_EXPIRY = Number.MAX_SAFE_INTEGER;

export interface EvmAnchorOptions {
  readonly rpcUrl: string;
  readonly address: Address;
  /** `0x` hex private key or a file holding it; absent: read-only. */
  readonly key?: string;
  /** Needed with a key: where pending transactions are journaled. */
  readonly journal?: Journal;
  /** Blocks a transaction or commit needs on top of it (1: its own block) before it counts. */
  readonly confirmations?: number;
  /** Share of the deposit that is the operator's safety share, in basis points. */
  readonly safetyBps?: number;
  /** A drand HTTP relay for the anchor's drand network (`--drand-url`; quicknet's public relay by default). */
  readonly drandUrl?: string;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/** A registration's live state in the contract (`chains(chainId)`). */
export interface ChainOnChain {
  readonly phase: 'none' | 'active' | 'settling' | 'settled';
  readonly slashed: boolean;
  readonly start: bigint;
  readonly end: bigint;
  readonly expiry: bigint;
  readonly height: number;
  readonly operatorKey: Hex;
  readonly depositWei: bigint;
  readonly safetyWei: bigint;
  readonly beacon: Hex;
  readonly committer: Address;
  /** The drand round the chain draws from (0: none) and when it is published (Unix seconds; commits stop then). */
  readonly beaconRound: bigint;
  readonly beaconTime: bigint;
}

/** The contract functions sent through the settlement journal. */
export type SettleFunction =
  | 'claim'
  | 'challenge'
  | 'timeout'
  | 'withdraw'
  | 'requestData'
  | 'answerData'
  | 'slashWithheld'
  | 'revealSeed';

/** A data request (`dataRequests(id)`): the lookup path of `point` at committed `height`, due by `deadline`. */
export interface DataRequestView {
  readonly id: Hex;
  readonly chainId: Hex;
  readonly height: number;
  readonly point: bigint;
  readonly deadline: bigint;
  readonly answered: boolean;
  readonly requester: Address;
}

/** One level of a judged winner proof as the contract keeps it (its Claimed event carries them). */
export interface ClaimLevel {
  readonly digest: Hex;
  readonly ident: Hex;
  readonly chain: Hex;
}

/** The standing claim of a chain (`claims(chainId)`), with its levels and the transaction that made it. */
export interface PendingClaim {
  readonly winnerKey: Hex;
  readonly payout: Address;
  readonly height: number;
  /** The last EVM block a challenge or a superseding claim is taken in; `timeout` works from the next. */
  readonly deadline: bigint;
  readonly claimant: Address;
  /** The levels the contract judged, which every later claim or challenge must name (`standing`). */
  readonly levels: readonly ClaimLevel[];
  /** The claim transaction, whose calldata holds the winner proof's paths. */
  readonly tx: Hex;
}

const PHASES = ['none', 'active', 'settling', 'settled'] as const;
const SLASH_KINDS: Record<
  number,
  EvidenceKind | 'commit_mismatch' | 'sold_twice' | 'withheld' | 'seed_withheld'
> = {
  1: 'equivocation',
  2: 'commit_mismatch',
  3: 'sold_twice',
  4: 'withheld',
  5: 'seed_withheld',
};

export class EvmAnchor implements Anchor {
  readonly anchorId: Uint8Array;
  private readonly call: { address: Address; abi: typeof ANCHOR_ABI };
  private readonly sender: TxSender | null;
  private readonly evidenceSender: TxSender | null;
  private readonly settleSender: TxSender | null;
  private levelsBound: Promise<number> | undefined;
  private drandInfo: Promise<{ address: Address; network: DrandNetwork } | null> | undefined;
  private proven: ProvenAnchor | null = null;

  private constructor(
    readonly o: EvmAnchorOptions,
    readonly evmChainId: number,
    readonly pub: EvmWallet['pub'],
    readonly wallet: EvmWallet | null,
  ) {
    this.anchorId = evmAnchorId(evmChainId, o.address);
    this.call = { address: o.address, abi: ANCHOR_ABI };
    const mk = (name: string): TxSender | null =>
      wallet && o.journal
        ? new TxSender({
            w: wallet,
            address: o.address,
            journal: o.journal,
            name,
            confirmations: this.confirmations,
            log: o.log,
            signal: o.signal,
            pollMs: o.pollMs,
          })
        : null;
    this.sender = mk('evm-tx');
    // Evidence goes through its own journal record: it must not wait behind a commit, nor a commit behind it.
    this.evidenceSender = mk('evm-evidence-tx');
    this.settleSender = mk('evm-settle-tx');
  }

  /** Connects (retrying until the RPC answers) and checks that the contract is there. */
  static async open(o: EvmAnchorOptions): Promise<EvmAnchor> {
    const address = getAddress(o.address);
    if (o.key && !o.journal) throw new Error('an EVM key needs a journal');
    const w = o.key ? await walletFor(o.rpcUrl, o.key) : null;
    const pub = w ? w.pub : (await connect(o.rpcUrl)).pub;
    const code = await pub.getCode({ address });
    if (!code || code === '0x') throw new Error(`no anchor contract at ${address} on ${o.rpcUrl}`);
    return new EvmAnchor({ ...o, address }, await pub.getChainId(), pub, w);
  }

  /** The label of the commit or registration broadcast and not yet confirmed, if any. */
  get inFlight(): string | null {
    return this.sender?.waiting ?? null;
  }

  get confirmations(): number {
    return Math.max(1, this.o.confirmations ?? 1);
  }

  get address(): Address {
    return this.o.address;
  }

  get evmAddress(): Address | null {
    return this.wallet?.account.address ?? null;
  }

  async chainId(): Promise<Uint8Array> {
    return this.anchorId;
  }

  private need(): TxSender {
    if (!this.sender) throw new AnchorError('BAD_REQUEST', 'this node has no EVM key (--evm-key)');
    return this.sender;
  }

  /**
   * From now on `chain()` is read with eth_getProof at the head the endpoints agree on, not by eth_call: a validator's
   * settler, watchtower, data guard and evidence submission then act on the proven phase, height and slashed flag
   * (an endpoint saying "slashed" would otherwise keep the node from submitting evidence).
   */
  proveWith(p: ProvenAnchor): void {
    this.proven = p;
  }

  async chain(chainId: Uint8Array): Promise<ChainOnChain> {
    if (this.proven) return this.proven.chain(toHex(chainId), await this.proven.head());
    const c = await this.pub.readContract({ ...this.call, functionName: 'chains', args: [toHex(chainId)] });
    return {
      committer: c[0],
      phase: PHASES[c[2]] ?? 'none',
      slashed: c[3],
      start: BigInt(c[5]),
      end: BigInt(c[6]),
      expiry: BigInt(c[7]),
      height: Number(c[8]),
      operatorKey: c[9],
      depositWei: c[10],
      safetyWei: c[11],
      beacon: c[12],
      beaconRound: BigInt(c[14]),
      beaconTime: BigInt(c[15]),
    };
  }

  /**
   * The drand network the anchor's chains may draw from and its verifier's address; null for an anchor without
   * one. A key that is neither quicknet's nor the devnet's is taken as it is (`name: 'custom'`).
   */
  async drand(): Promise<{ address: Address; network: DrandNetwork } | null> {
    this.drandInfo ??= (async () => {
      const address = await this.pub.readContract({ ...this.call, functionName: 'drand' });
      if (/^0x0{40}$/.test(address)) return null;
      const d = { address, abi: DrandBeacon.abi } as const;
      const [key, genesisTime, period] = await Promise.all([
        this.pub.readContract({ ...d, functionName: 'publicKey' }),
        this.pub.readContract({ ...d, functionName: 'genesisTime' }),
        this.pub.readContract({ ...d, functionName: 'period' }),
      ]);
      const known = knownNetwork(key);
      return {
        address,
        network: known ?? {
          name: 'custom',
          publicKey: g2FromEvm(key),
          genesisTime: Number(genesisTime),
          period: Number(period),
        },
      };
    })().catch((e: unknown) => {
      this.drandInfo = undefined;
      throw e;
    });
    return this.drandInfo;
  }

  /**
   * Where this node reads drand rounds: the devnet's signer for the devnet's key, else `--drand-url` (quicknet's
   * public relay by default for quicknet's key); null for an anchor without drand or a custom network with no URL.
   */
  async drandSource(): Promise<DrandSource | null> {
    const d = await this.drand();
    if (!d) return null;
    if (d.network.name === 'devnet') return devDrandSource();
    const url = this.o.drandUrl ?? (d.network.name === 'quicknet' ? QUICKNET_RELAY : undefined);
    return url ? httpDrandSource(d.network, url) : null;
  }

  /** The randomness posted for drand round `round` (undefined: not yet). */
  async drandPosted(round: bigint): Promise<Hex | undefined> {
    const d = await this.drand();
    if (!d) return undefined;
    const [, v] = await this.pub.readContract({ address: d.address, abi: DrandBeacon.abi, functionName: 'round', args: [round] }); // prettier-ignore
    return /^0x0+$/.test(v) ? undefined : v;
  }

  /**
   * Posts the drand round chain `chainId` draws from, once `source` has it (anyone may; the contract verifies it):
   * what the operator, a settler or a watchtower does at expiry so the draw needs nobody in particular.
   * 'none': the chain draws from block hashes; 'posted': it is there (now or before); 'waiting': not published.
   */
  async postDrandRound(chainId: Uint8Array, source?: DrandSource): Promise<'none' | 'posted' | 'waiting'> {
    const c = await this.chain(chainId);
    if (c.beaconRound === 0n || c.phase !== 'active') return c.beaconRound === 0n ? 'none' : 'posted';
    if (await this.drandPosted(c.beaconRound)) return 'posted';
    const now = (await this.pub.getBlock({ blockTag: 'latest' })).timestamp;
    const src = source ?? (await this.drandSource());
    if (!src) return 'waiting';
    const sig = await src.signature(c.beaconRound, now);
    if (!sig) return 'waiting';
    const d = (await this.drand())!;
    const s = this.settleSender;
    if (!s) throw new AnchorError('BAD_REQUEST', 'this node has no EVM key (--evm-key)');
    await s.sendTo(`drand:${c.beaconRound}`, { address: d.address, abi: DrandBeacon.abi }, 'post', [
      c.beaconRound,
      g1ForEvm(sig),
    ]);
    this.o.log.info(
      { chain: hexOf(chainId), round: c.beaconRound.toString() },
      'posted the drand round of the draw',
    );
    return 'posted';
  }

  /** The header hash committed at `height` (undefined: none). */
  async commitAt(chainId: Uint8Array, height: number): Promise<Hex | undefined> {
    const c = await this.pub.readContract({
      ...this.call,
      functionName: 'commits',
      args: [toHex(chainId), BigInt(height)],
    });
    return /^0x0+$/.test(c[0]) ? undefined : c[0];
  }

  private async registrations(): Promise<{ start: bigint; end: bigint; chainId: Hex; genesis: Hex }[]> {
    const events = await this.pub.getContractEvents({
      ...this.call,
      eventName: 'Registered',
      fromBlock: 0n,
      toBlock: 'latest',
    });
    return events.map((e) => ({
      start: BigInt(e.args.start!),
      end: BigInt(e.args.end!),
      chainId: e.args.chainId!,
      genesis: e.args.genesis!,
    }));
  }

  /**
   * Registers a top-level chain of width `amount` (its space [0, amount): spaces are per chain) with a deposit of
   * `depositGwei` (default: `amount`), signed by the operator key (`req.sign`). Crash-safe: the genesis is journaled
   * before its transaction. The registration is checked in the contract afterwards (the chain active, this
   * account its committer and its sender), so a reverted or stolen registration is never taken for ours.
   */
  async registerChain(req: RegistrationRequest): Promise<Registration> {
    if (req.operatorKey.length !== PUBLIC_KEY_BYTES)
      throw new AnchorError('BAD_REQUEST', 'operatorKey must be 32 bytes');
    if (req.amount <= 0n || req.amount > 1n << 64n)
      throw new AnchorError('BAD_REQUEST', 'amount must be in [1, 2^64]');
    if (!req.sign) throw new AnchorError('BAD_REQUEST', "registering needs the operator key's signature");
    const sender = this.need();
    const me = this.wallet!.account.address;
    const journal = this.o.journal!;
    const journaled = await journal.get<{ genesis: string; seed?: string; round?: string }>('evm-register');
    let g: GenesisRecord;
    // The beacon seed: committed (its keccak256) with the registration, revealed after the beacon block
    // (`revealSeed`, SeedRevealer). Kept with the genesis in the journal, so a restart reveals the same one.
    const seed: Hex = journaled?.seed ? (journaled.seed as Hex) : toHex(randomBytes(32));
    let round = journaled?.round;
    if (journaled) {
      g = decodeGenesis(fromHex(journaled.genesis, 'genesis'));
      if (!journaled.seed) await journal.put('evm-register', { genesis: journaled.genesis, seed, round });
    } else {
      g = evmGenesis(this.anchorId, {
        operatorKey: req.operatorKey,
        spaceStart: 0n,
        spaceEnd: req.amount,
        expiry: req.expiry && req.expiry > 0 ? req.expiry : NO_EXPIRY,
        amountGwei: req.deposit ?? req.amount,
        name: req.name ?? `chain-${hexOf(req.operatorKey).slice(0, 8)}`,
        // A fresh salt: the same key registering twice (another data dir) gets another chain, not a collision.
        salt: randomBytes(16),
      });
      round = (await this.beaconRoundFor(BigInt(g.genesis.expiry))).toString();
      await journal.put('evm-register', { genesis: hexOf(g.bytes), seed, round });
    }
    await sender.resumePending();
    const bps = this.o.safetyBps ?? 5000;
    if ((await this.chain(g.chainId)).phase === 'none') {
      const signature = toHex(req.sign(registrationMessage(this.anchorId, g.chainId, me, me, bps)));
      try {
        const { receipt } = await sender.send(
          'register',
          'register',
          [toHex(g.bytes), me, bps, keccak256(seed), signature, BigInt(round ?? 0)],
          g.genesis.amount * 1_000_000_000n,
        );
        this.o.log.info(
          { chain: hexOf(g.chainId), gas: receipt.gasUsed, block: receipt.blockNumber },
          'registered the chain with the EVM anchor',
        );
      } catch (e) {
        if (!(e instanceof AnchorRevert)) throw e;
        if (e.errorName !== 'AlreadyRegistered') throw new AnchorError('BAD_REQUEST', e.message);
      }
    }
    await this.checkRegistration(g);
    return this.registrationOf(g);
  }

  /**
   * The drand round a chain expiring at `expiry` draws from (0: none, on an anchor without drand or for a chain that
   * never expires): the first published after its beacon block is expected, at the block time measured over the
   * last 64 blocks (`chooseRound`).
   */
  private async beaconRoundFor(expiry: bigint): Promise<bigint> {
    const d = await this.drand();
    if (!d || expiry >= NO_EXPIRY) return 0n;
    const latest = await this.pub.getBlock({ blockTag: 'latest' });
    const back = latest.number > 64n ? latest.number - 64n : 0n;
    const old = await this.pub.getBlock({ blockNumber: back });
    const span = Number(latest.number - old.number);
    const measured = span > 0 ? Number(latest.timestamp - old.timestamp) / span : 0;
    return chooseRound(d.network, {
      expiry,
      finality: await this.finality(),
      head: latest.number,
      now: latest.timestamp,
      blockSeconds: measured > 0 ? measured : DEFAULT_BLOCK_SECONDS,
    });
  }

  /** The beacon seed this node committed to when it registered (from the journal), if any. */
  async registeredSeed(): Promise<Hex | undefined> {
    const j = await this.o.journal?.get<{ seed?: string }>('evm-register');
    return j?.seed ? (j.seed as Hex) : undefined;
  }

  /** The seed revealed for a chain (`seeds(chainId)`); undefined before it is. */
  async revealedSeed(chainId: Uint8Array): Promise<Hex | undefined> {
    const s = await this.pub.readContract({ ...this.call, functionName: 'seeds', args: [toHex(chainId)] });
    return /^0x0+$/.test(s) ? undefined : s;
  }

  /**
   * The chain `g` is registered in the contract with this node's EVM account as committer and the genesis's
   * operator key: what an operator checks at every start before it commits.
   * @throws AnchorError NOT_REGISTERED saying what the contract holds instead and what to do
   */
  async checkRegistration(g: GenesisRecord): Promise<void> {
    const c = await this.chain(g.chainId);
    const id = hexOf(g.chainId);
    if (c.phase === 'none')
      throw new AnchorError(
        'NOT_REGISTERED',
        `chain ${id} is not registered on the anchor ${this.address}: its registration reverted or was lost in a ` +
          'reorg; start with a fresh --data-dir to register a new chain',
      );
    const me = this.wallet?.account.address;
    if (me && c.committer.toLowerCase() !== me.toLowerCase())
      throw new AnchorError(
        'NOT_REGISTERED',
        `chain ${id} is registered on the anchor with committer ${c.committer}, not this node's EVM account ${me}: ` +
          'run with the --evm-key that registered it',
      );
    if (c.operatorKey.toLowerCase() !== `0x${hexOf(g.genesis.operatorKey)}`)
      throw new AnchorError('NOT_REGISTERED', `chain ${id} is registered with another operator key`);
  }

  private registrationOf(g: GenesisRecord): Registration {
    return {
      anchorChainId: this.anchorId,
      start: g.genesis.spaceStart,
      end: g.genesis.spaceEnd,
      operatorKey: g.genesis.operatorKey,
      amount: g.genesis.spaceEnd - g.genesis.spaceStart,
      genesis: g.bytes,
    };
  }

  /** Commits a top-level chain's signed header; `duplicate` when the contract already holds that height or a later one. */
  async commitRoot(signedHeader: Uint8Array): Promise<CommitResult> {
    const sh = decodeSignedHeader(signedHeader);
    const height = sh.header.height;
    try {
      await this.need().send(`commit:${height}`, 'commit', [toHex(sh.header.chainId), toHex(signedHeader)]);
      return { status: 'accepted', height };
    } catch (e) {
      if (e instanceof AnchorRevert && e.errorName === 'HeightNotIncreasing')
        return { status: 'duplicate', height };
      throw e;
    }
  }

  /** Resumes a commit journaled before a crash; its label's height, or undefined when nothing was pending. */
  async resumeCommit(): Promise<number | undefined> {
    const r = await this.sender?.resumePending();
    if (!r) return undefined;
    const { entry: p, receipt } = r;
    const m = /^commit:(\d+)$/.exec(p.label);
    this.o.log.info(
      { label: p.label, mined: receipt?.status ?? 'replaced' },
      'resumed a journaled transaction',
    );
    return m && receipt?.status === 'success' ? Number(m[1]) : undefined;
  }

  /** The EVM block hash at `height` (the randomness a chain's lottery draws from at expiry); undefined: not yet. */
  async beacon(height: number): Promise<Uint8Array | undefined> {
    const head = await this.pub.getBlockNumber({ cacheTime: 0 });
    if (BigInt(height) > head) return undefined;
    const b = await this.pub.getBlock({ blockNumber: BigInt(height) });
    return b.hash ? hexToBytes(b.hash) : undefined;
  }

  /**
   * Verifies evidence against the genesis records given, and submits what the contract judges: equivocation by
   * a top-level chain's operator. Submitted once: a chain already slashed is not sent again.
   */
  async recordEvidence(evidence: Uint8Array, genesisRecords: readonly Uint8Array[]): Promise<EvidenceRecord> {
    const known = new Map(
      genesisRecords.map((b) => {
        const g = decodeGenesis(b);
        return [hexOf(g.chainId), g] as const;
      }),
    );
    const v = verifyEvidence(evidence, (id) => known.get(hexOf(id)));
    const g = known.get(hexOf(v.chainId))!;
    if (v.kind !== 'equivocation' || !bytesEqual(g.genesis.parentChain, this.anchorId))
      throw new AnchorError(
        'EVIDENCE_NOT_SLASHABLE',
        `the contract judges equivocation of its own chains, not ${v.kind}`,
      );
    const m = decodeCanonical(sortition.v1.Evidence, evidence, LIMITS.evidenceBytes, 'evidence');
    const first = bytesOf(m.equivocation!.first);
    const second = bytesOf(m.equivocation!.second);
    const slashed = await this.submitSlash(g, 'slashEquivocation', [toHex(first), toHex(second)]);
    return {
      id: v.id,
      kind: v.kind,
      chainId: v.chainId,
      height: v.height,
      registration: this.registrationOf(g),
      slashed,
      anchorHeight: Number(await this.pub.getBlockNumber({ cacheTime: 0 })),
      timeMs: Date.now(),
    };
  }

  /** Submits commit-mismatch evidence: an operator-signed header at a committed height, differing from the commit. */
  async reportCommitMismatch(g: GenesisRecord, signedHeader: Uint8Array): Promise<bigint> {
    return this.submitSlash(g, 'slashCommitMismatch', [toHex(signedHeader)]);
  }

  /** Wei slashed by this submission: 0 when the chain was slashed before (nothing is sent then). */
  private async submitSlash(
    g: GenesisRecord,
    fn: 'slashEquivocation' | 'slashCommitMismatch',
    args: Hex[],
  ): Promise<bigint> {
    const s = this.evidenceSender;
    if (!s) throw new AnchorError('BAD_REQUEST', 'this node has no EVM key (--evm-key)');
    await s.resumePending();
    const before = await this.chain(g.chainId);
    if (before.slashed || before.phase === 'none' || before.phase === 'settled') return 0n;
    try {
      const { receipt } = await this.sendSealed(s, `${fn}:${hexOf(g.chainId)}`, fn, [
        toHex(g.chainId),
        ...args,
      ]);
      this.o.log.warn(
        { chain: hexOf(g.chainId), fn, gas: receipt.gasUsed },
        'evidence slashed the chain on the EVM anchor',
      );
      return before.safetyWei;
    } catch (e) {
      if (e instanceof AnchorRevert && e.errorName === 'AlreadySlashed') return 0n;
      if (e instanceof AnchorRevert) throw new EvidenceError('EVIDENCE_NOT_PROVEN', e.message);
      throw e;
    }
  }

  /** The winning point of a chain past its expiry (what `fixBeacon` fixes or has fixed), by a call. */
  async winningPoint(chainId: Uint8Array): Promise<bigint> {
    try {
      const r = await this.pub.simulateContract({
        ...this.call,
        functionName: 'fixBeacon',
        args: [toHex(chainId)],
        account: this.wallet?.account,
      });
      return BigInt(r.result);
    } catch (e) {
      // A refusal (WrongPhase before the beacon block, SeedNotRevealed while the operator may still reveal) is
      // typed like any other, so settlement can say what to wait for.
      const r = revertOf(e);
      if (r) throw new AnchorRevert(r.name, `fixBeacon: ${r.name}`, r.args);
      throw e;
    }
  }

  /**
   * A settlement step (`claim`, `challenge`, `timeout`, `withdraw`, a data request's) through the crash-safe
   * journal; a revert in estimation throws AnchorRevert with the contract's error name. Calls run one at a time:
   * the journal holds one transaction, and a settler and the watcher's data requests share it.
   */
  async settle(
    fn: SettleFunction,
    args: readonly unknown[],
    value?: bigint,
  ): Promise<{ gasUsed: bigint; blockNumber: bigint }> {
    const s = this.settleSender;
    if (!s) throw new AnchorError('BAD_REQUEST', 'this node has no EVM key (--evm-key)');
    // One at a time (the sender queues): the settler, the watchtower and data requests share its journal. A challenge
    // is sealed first, so its reward (the removed claim's bond) cannot be taken by a copy from the mempool.
    const { receipt } =
      fn === 'challenge' ? await this.sendSealed(s, fn, fn, args) : await s.send(fn, fn, args, value);
    return { gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
  }

  /**
   * Seals a report (`commitReport` of keccak256(sender, keccak256(calldata))), then sends it in a later block: the
   * contract pays a report's reward only to a sender that sealed the very calldata before, so a copy of it taken
   * from the mempool and sent first gets nothing.
   */
  private async sendSealed(
    s: TxSender,
    label: string,
    fn: 'slashEquivocation' | 'slashCommitMismatch' | 'challenge',
    args: readonly unknown[],
  ): Promise<{ receipt: { gasUsed: bigint; blockNumber: bigint } }> {
    const data = encodeFunctionData({ abi: ANCHOR_ABI, functionName: fn, args } as never);
    const me = this.wallet!.account.address;
    const commitment = keccak256(
      encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [me, keccak256(data)]),
    );
    await s.send(`seal:${label}`, 'commitReport', [commitment]);
    return s.send(label, fn, args);
  }

  /** Drives a settlement transaction journaled before a crash to its end; its label, or undefined if none. */
  async resumeSettle(): Promise<string | undefined> {
    const r = await this.settleSender?.resumePending();
    if (!r) return undefined;
    const { entry: p, receipt } = r;
    this.o.log.info(
      { label: p.label, mined: receipt?.status ?? 'replaced' },
      'resumed a settlement transaction',
    );
    return p.label;
  }

  /** The standing claim of a chain (`claims(chainId)`), or null when none stands. */
  async claimOf(chainId: Uint8Array): Promise<PendingClaim | null> {
    // Proven (proveWith): the struct at the agreed head, and the Claimed log's levels held to its levels hash.
    const p = this.proven ? await this.proven.claim(toHex(chainId), await this.proven.head()) : undefined;
    const c =
      p === undefined
        ? await this.pub.readContract({ ...this.call, functionName: 'claims', args: [toHex(chainId)] })
        : p === null
          ? null
          : ([p.winnerKey, p.payout, BigInt(p.height), p.deadline, p.claimant, p.levelsHash] as const);
    if (c === null || c[4] === zeroAddress) return null;
    // The standing claim's levels: its Claimed event, the last one whose levels hash to what the contract holds.
    const events = await this.pub.getContractEvents({
      ...this.call,
      eventName: 'Claimed',
      args: { chainId: toHex(chainId) },
      fromBlock: 0n,
      toBlock: 'latest',
    });
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      const levels = e.args.levels ?? [];
      if (claimLevelsHash(levels) !== c[5]) continue;
      return {
        winnerKey: c[0],
        payout: c[1],
        height: Number(c[2]),
        deadline: c[3],
        claimant: c[4],
        levels,
        tx: e.transactionHash,
      };
    }
    throw new AnchorError(
      'NOT_REGISTERED',
      `no Claimed event matches the standing claim of ${toHex(chainId)}`,
    );
  }

  /** The winner proof's paths of a claim transaction (its `levels` argument). */
  async claimPaths(tx: Hex): Promise<Uint8Array[]> {
    const t = await this.pub.getTransaction({ hash: tx });
    const call = decodeFunctionData({ abi: ANCHOR_ABI, data: t.input });
    if (call.functionName !== 'claim')
      throw new AnchorError('BAD_REQUEST', `transaction ${tx} is not a direct call of claim`);
    return call.args[2].map((l) => hexToBytes(l));
  }

  /** The data requests made for a chain from EVM block `fromBlock` on, with their state now. */
  async dataRequests(chainId: Uint8Array, fromBlock = 0n): Promise<DataRequestView[]> {
    const events = await this.pub.getContractEvents({
      ...this.call,
      eventName: 'DataRequested',
      args: { chainId: toHex(chainId) },
      fromBlock,
      toBlock: 'latest',
    });
    const out: DataRequestView[] = [];
    for (const e of events) {
      const r = await this.dataRequest(e.args.requestId!);
      if (r) out.push(r);
    }
    return out;
  }

  /** One data request (`dataRequests(id)`), or null when the contract holds none with that id. */
  async dataRequest(id: Hex): Promise<DataRequestView | null> {
    const r = await this.pub.readContract({ ...this.call, functionName: 'dataRequests', args: [id] });
    if (r[5] === zeroAddress) return null;
    return {
      id,
      chainId: r[0],
      height: Number(r[1]),
      point: r[2],
      deadline: r[3],
      answered: r[4],
      requester: r[5],
    };
  }

  /** Blocks an operator has to answer a data request, and a claim stands open (`challengeWindow`). */
  async challengeWindow(): Promise<bigint> {
    return this.pub.readContract({ ...this.call, functionName: 'challengeWindow' });
  }

  /** Blocks the contract keeps free of commits before expiry (`finality`, fixed at construction). */
  async finality(): Promise<bigint> {
    return this.pub.readContract({ ...this.call, functionName: 'finality' });
  }

  /** The most levels a winner proof may have (`MAX_LEVELS`, a constant of the contract's code). */
  async maxLevels(): Promise<number> {
    this.levelsBound ??= this.pub
      .readContract({ ...this.call, functionName: 'MAX_LEVELS' })
      .then(Number)
      .catch((e: unknown) => {
        this.levelsBound = undefined;
        throw e;
      });
    return this.levelsBound;
  }

  /** The bond a claim locks (`claimBond`). */
  async claimBond(): Promise<bigint> {
    return this.pub.readContract({ ...this.call, functionName: 'claimBond' });
  }

  /** The last block at which the chain's lottery can change (`finalDeadline`). */
  async finalDeadline(chainId: Uint8Array): Promise<bigint> {
    return this.pub.readContract({ ...this.call, functionName: 'finalDeadline', args: [toHex(chainId)] });
  }

  /** The state root committed for a chain at `height` (undefined: none). */
  async rootAt(chainId: Uint8Array, height: number): Promise<Uint8Array | undefined> {
    const c = await this.pub.readContract({
      ...this.call,
      functionName: 'commits',
      args: [toHex(chainId), BigInt(height)],
    });
    return /^0x0+$/.test(c[0]) ? undefined : hexToBytes(c[1]);
  }

  /** The EVM head. */
  async head(): Promise<bigint> {
    return this.pub.getBlockNumber({ cacheTime: 0 });
  }

  /** Credits owed to an address, drawn with `withdraw`. */
  async owed(who: Address): Promise<bigint> {
    return this.pub.readContract({ ...this.call, functionName: 'owed', args: [who] });
  }

  /** Every slashing the contract recorded, oldest first. */
  async slashed(): Promise<EvidenceRecord[]> {
    const events = await this.pub.getContractEvents({
      ...this.call,
      eventName: 'Slashed',
      fromBlock: 0n,
      toBlock: 'latest',
    });
    const regs = new Map((await this.registrations()).map((r) => [r.chainId, r]));
    const out: EvidenceRecord[] = [];
    for (const e of events) {
      const r = regs.get(e.args.chainId!);
      if (!r) continue;
      const g = decodeGenesis(hexToBytes(r.genesis));
      out.push({
        id: hexToBytes(e.transactionHash),
        kind: (SLASH_KINDS[e.args.kind!] ?? 'equivocation') as EvidenceKind,
        chainId: g.chainId,
        height: 0,
        registration: this.registrationOf(g),
        slashed: e.args.reward! + e.args.burnt!,
        anchorHeight: Number(e.blockNumber),
        timeMs: 0,
      });
    }
    return out;
  }
}

/** A data request's id: keccak256(abi.encode(chainId, height, point)), as `requestData` makes it. */
export function dataRequestId(chainId: Uint8Array, height: number, point: bigint): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint64' }, { type: 'uint64' }],
      [toHex(chainId), BigInt(height), point],
    ),
  );
}

/** What the contract keeps of a claim's levels: keccak256(abi.encode(Level[])). */
export function claimLevelsHash(levels: readonly ClaimLevel[]): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        {
          type: 'tuple[]',
          components: [
            { name: 'digest', type: 'bytes32' },
            { name: 'ident', type: 'bytes32' },
            { name: 'chain', type: 'bytes32' },
          ],
        },
      ],
      [levels.map((l) => ({ digest: l.digest, ident: l.ident, chain: l.chain }))],
    ),
  );
}
