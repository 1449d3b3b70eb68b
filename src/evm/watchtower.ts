/**
 * A validator with an EVM key is a watchtower for the contracts it watches (docs/protocol.md §12, issue 24): for
 * each lottery whose drawn point lies in a watched contract, it
 *
 * - removes a standing claim of anyone but that contract's holder whenever it holds an owner-signed action over one
 *   of the claim's contracts (from a watch the action ended, or from the blocks it stored): the claim's bond is
 *   paid to the watchtower's account;
 * - claims for the holder when the holder gave it a payout signature in advance (`POST /v1/watchtower/payouts`:
 *   the winner's Ed25519 signature over the payout address, exactly what the contract checks), so a holder who is
 *   offline at expiry is still paid: the contract ranks its claim against any other (a contract committed first
 *   and never given up beats a later sale of the same point);
 * - calls `timeout` once a claim's window (or an unclaimed chain's final deadline) has passed, so the payout
 *   happens without the holder.
 *
 * The watchtower never needs the holder's secret key, and never sends a claim for a key it holds no payout
 * signature of. One step per chain per poll, through the anchor's settlement journal (restart-safe, one
 * transaction at a time). Payout signatures are kept in the node's EVM journal directory (bounded).
 */
import { getAddress, isAddress, isHex, type Address, type Hex } from 'viem';
import { Counter, type Registry } from 'prom-client';
import { CodedError } from '../codec/errors.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { verify } from '../crypto/keys.js';
import { sleep } from '../runtime/http-client.js';
import type { Logger } from '../runtime/logger.js';
import { payoutMessage } from './anchor.js';
import type { EvmAnchor } from './node-anchor.js';
import type { Journal } from './sender.js';
import {
  challengeStanding,
  claimChain,
  proveWinner,
  SettleError,
  timeoutChain,
  type LevelSource,
  postRoundQuietly,
} from './settle.js';

/** A holder's payout signature for one lottery, given to the watchtower in advance. */
export interface PayoutAuthorisation {
  /** The lottery's chain (hex, 32 bytes). */
  readonly chainId: string;
  /** The holder's Ed25519 key (hex, 32 bytes): the key the contract pays when its contract holds the point. */
  readonly winnerKey: string;
  readonly payout: Address;
  /** Ed25519 signature of the winner key over `payoutMessage(anchorId, chainId, payout)` (0x hex). */
  readonly signature: Hex;
}

export type WatchtowerErrorCode = 'BAD_REQUEST' | 'BAD_SIGNATURE' | 'PAYOUT_LIMIT';

export class WatchtowerError extends CodedError<WatchtowerErrorCode> {
  override readonly name = 'WatchtowerError';
}

export type TowerAction =
  | 'waiting' // active, or nothing to do yet
  | 'not-watched' // the point lies in no watched contract
  | 'holder-stands' // the holder's own claim stands
  | 'challenged' // a claim removed with an owner-signed action
  | 'claimed' // claimed for the holder with their payout signature
  | 'outranked' // a claim ranks above the holder's (the contract refused ours)
  | 'no-payout' // another claim stands, and the holder gave no payout signature
  | 'timed-out'
  | 'settled'
  | 'error';

export interface TowerChainStatus {
  readonly chainId: string;
  readonly action: TowerAction;
  readonly detail: string | null;
}

export interface WatchtowerOptions {
  readonly anchor: EvmAnchor;
  /** The validator's watches: lookup paths at committed heights, and owner-signed actions. */
  readonly source: LevelSource;
  /** The lotteries to watch: the top-level chains of the watched contracts (read every poll). */
  readonly chains: () => readonly Uint8Array[];
  readonly journal: Journal;
  readonly log: Logger;
  readonly registry?: Registry;
  readonly pollMs?: number;
  readonly maxPayouts?: number;
}

const PAYOUTS = 'watchtower-payouts';

const key = (chainId: string, winnerKey: string) => `${chainId}/${winnerKey}`;

export class Watchtower {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly state = new Map<string, TowerChainStatus>();
  private payoutsByKey = new Map<string, PayoutAuthorisation>();
  private readonly actions: Counter<'action'> | null;
  private loaded = false;

  constructor(private readonly o: WatchtowerOptions) {
    this.actions = o.registry
      ? new Counter({
          name: 'sortition_watchtower_actions_total',
          help: 'Settlement transactions the watchtower sent for watched contracts, by action (challenged, claimed, timed-out)',
          labelNames: ['action'],
          registers: [o.registry],
        })
      : null;
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    const stored = (await this.o.journal.get<PayoutAuthorisation[]>(PAYOUTS)) ?? [];
    this.payoutsByKey = new Map(stored.map((p) => [key(p.chainId, p.winnerKey), p]));
    this.loaded = true;
  }

  async start(): Promise<this> {
    await this.load();
    this.loop ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  status(): TowerChainStatus[] {
    return [...this.state.values()];
  }

  payouts(): PayoutAuthorisation[] {
    return [...this.payoutsByKey.values()];
  }

  /**
   * Keeps a holder's payout signature for a lottery, checked as the contract will check it; a later one for the
   * same chain and key replaces it.
   * @throws WatchtowerError BAD_REQUEST (malformed), BAD_SIGNATURE, PAYOUT_LIMIT
   */
  async addPayout(body: unknown): Promise<PayoutAuthorisation> {
    await this.load();
    const p = parsePayout(body);
    const ok = verify(
      fromHex(p.winnerKey, 'winnerKey'),
      payoutMessage(this.o.anchor.anchorId, fromHex(p.chainId, 'chainId'), p.payout),
      fromHex(p.signature.slice(2), 'signature'),
    );
    if (!ok)
      throw new WatchtowerError(
        'BAD_SIGNATURE',
        `the signature is not the winner key's over the payout ${p.payout} of chain ${p.chainId} on anchor ` +
          `${toHex(this.o.anchor.anchorId)}: sign it with \`settle sign-payout\` or signPayout()`,
      );
    const k = key(p.chainId, p.winnerKey);
    if (!this.payoutsByKey.has(k) && this.payoutsByKey.size >= (this.o.maxPayouts ?? 10_000))
      throw new WatchtowerError(
        'PAYOUT_LIMIT',
        `this watchtower keeps ${this.payoutsByKey.size} payouts, its limit`,
      );
    const next = new Map(this.payoutsByKey).set(k, p);
    await this.o.journal.put(PAYOUTS, [...next.values()]);
    this.payoutsByKey = next;
    this.o.log.info({ chain: p.chainId, winnerKey: p.winnerKey, payout: p.payout }, 'payout signature kept');
    return p;
  }

  /** One step for one lottery (exported for tests and the poll loop). */
  async step(chainId: Uint8Array): Promise<TowerChainStatus> {
    const a = this.o.anchor;
    const id = toHex(chainId);
    const done = (action: TowerAction, detail: string | null = null): TowerChainStatus => {
      if (action === 'challenged' || action === 'claimed' || action === 'timed-out')
        this.actions?.inc({ action });
      return { chainId: id, action, detail };
    };
    await a.resumeSettle();
    const c = await a.chain(chainId);
    const head = await a.head();
    if (c.phase === 'none') return done('waiting', 'not registered');
    if (c.phase === 'settled') return done('settled');
    if (c.phase === 'active' && head <= c.expiry) return done('waiting', `expiry at block ${c.expiry}`);
    if (c.phase === 'active' && c.beaconRound > 0n) await postRoundQuietly(a, chainId);
    const standing = await a.claimOf(chainId);
    if (standing ? head > standing.deadline : head > (await a.finalDeadline(chainId))) {
      await timeoutChain(a, chainId);
      return done('timed-out');
    }
    let holder: Uint8Array;
    try {
      holder = (await proveWinner(a, this.o.source, chainId)).winner;
    } catch (e) {
      if (e instanceof SettleError && e.code === 'SEED_PENDING') return done('waiting', e.message);
      if (e instanceof SettleError && e.code !== 'REFUSED') return done('not-watched', e.message);
      throw e;
    }
    const holderHex = toHex(holder);
    if (standing && standing.winnerKey.toLowerCase() === `0x${holderHex}`) return done('holder-stands');
    let challenged: string | null = null;
    if (standing) {
      try {
        const r = await challengeStanding(a, this.o.source, chainId, standing);
        challenged = `removed the claim of key ${standing.winnerKey} with the owner's action over ${r.digest}`;
        this.o.log.warn(
          { chain: id, level: r.level, digest: r.digest },
          'watchtower challenged a stale claim',
        );
      } catch (e) {
        if (!(e instanceof SettleError) || e.code !== 'NO_CONSENT') throw e;
      }
    }
    const auth = this.payoutsByKey.get(key(id, holderHex));
    if (!auth) {
      if (challenged) return done('challenged', challenged);
      return done(standing ? 'no-payout' : 'waiting', `the holder ${holderHex} gave no payout signature`);
    }
    if (challenged) this.actions?.inc({ action: 'challenged' });
    try {
      const r = await claimChain(a, this.o.source, {
        chainId,
        key: { publicKey: holder, payoutSignature: auth.signature },
        payout: auth.payout,
      });
      this.o.log.info({ ...r }, 'watchtower claimed for the holder');
      return done('claimed', `for ${holderHex} to ${auth.payout} at height ${r.height}`);
    } catch (e) {
      if (e instanceof SettleError && e.code === 'REFUSED') return done('outranked', e.message);
      throw e;
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let errors = 0;
    while (!signal.aborted) {
      let failed = false;
      for (const chainId of this.o.chains()) {
        const id = toHex(chainId);
        const prev = this.state.get(id);
        if (prev?.action === 'settled' || signal.aborted) continue;
        let s: TowerChainStatus;
        try {
          s = await this.step(chainId);
        } catch (e) {
          if (signal.aborted) break;
          failed = true;
          s = { chainId: id, action: 'error', detail: (e as Error).message.split('\n')[0] };
        }
        if (s.action !== prev?.action || s.detail !== prev?.detail)
          this.o.log[s.action === 'error' ? 'warn' : 'info']({ ...s }, 'watchtower');
        this.state.set(id, s);
      }
      errors = failed ? errors + 1 : 0;
      await sleep(Math.min(30_000, (this.o.pollMs ?? 1000) * 2 ** Math.min(errors, 5)), signal);
    }
  }
}

/** The body of `POST /v1/watchtower/payouts`, checked field by field. */
function parsePayout(body: unknown): PayoutAuthorisation {
  const bad = (why: string): never => {
    throw new WatchtowerError('BAD_REQUEST', why);
  };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) bad('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const hex32 = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(v)) bad(`${name} must be 32 bytes of hex`);
    return (v as string).replace(/^0x/, '').toLowerCase();
  };
  const chainId = hex32(b.chainId, 'chainId');
  const winnerKey = hex32(b.winnerKey, 'winnerKey');
  if (typeof b.payout !== 'string' || !isAddress(b.payout, { strict: false }))
    bad('payout must be a 0x EVM address');
  const sig = typeof b.signature === 'string' ? b.signature.replace(/^0x/, '') : '';
  if (!/^[0-9a-fA-F]{128}$/.test(sig)) bad('signature must be 64 bytes of hex');
  const signature = `0x${sig.toLowerCase()}`;
  if (!isHex(signature)) bad('signature must be hex');
  return { chainId, winnerKey, payout: getAddress(b.payout as string), signature: signature as Hex };
}
