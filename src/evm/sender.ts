/**
 * Sending anchor transactions so that a crash never loses or repeats one. A transaction is signed locally (the
 * nonce, gas and fees fixed), and the signed bytes with their hash are written durably to a journal *before* they
 * go to the RPC. After a restart, `resume` finds the journaled transaction and drives it to an end: mined
 * (receipt), still pending (wait), or gone from the mempool with its nonce unused (the same bytes sent again, so
 * the chain can include it at most once). Only when its nonce is consumed by nothing of ours, or it was mined
 * and confirmed, is the journal entry cleared.
 *
 * Gas: estimated by the RPC against the latest block, not the pending one (whose meaning differs between nodes;
 * our own pending transaction is waited for first), with a 20% margin; a revert there is a typed refusal before
 * anything is signed.
 * Fees: the RPC's EIP-1559 estimate. Confirmation depth: a receipt counts once `confirmations` blocks include
 * it (1: the block it is in). RPC failures are retried with backoff until the caller's signal aborts.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeFunctionData,
  keccak256,
  TransactionReceiptNotFoundError,
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { CodedError } from '../codec/errors.js';
import { backoff, sleep } from '../runtime/http-client.js';
import type { Logger } from '../runtime/logger.js';
import { ANCHOR_ABI } from './anchor.js';
import type { EvmWallet } from './client.js';

/** Durable key-value storage for the journal (the operator store's JSON records, fsync'd). */
export interface Journal {
  get<T>(name: string): Promise<T | undefined>;
  put(name: string, value: unknown): Promise<void>;
}

export interface JournalEntry {
  /** What the transaction does, for the caller to recognise it after a restart (e.g. `commit:12`). */
  readonly label: string;
  readonly nonce: number;
  readonly hash: Hex;
  readonly raw: Hex;
}

type AnchorFn = Extract<(typeof ANCHOR_ABI)[number], { type: 'function' }>['name'];

/** A call the contract refused in simulation or estimation, with its custom error's name. */
export class AnchorRevert extends Error {
  override readonly name = 'AnchorRevert';
  constructor(
    readonly errorName: string,
    message: string,
    /** The custom error's arguments (e.g. BadClaim's reason). */
    readonly args: readonly unknown[] = [],
  ) {
    super(message);
  }
}

/**
 * The sending account cannot pay for the transaction (gas at the current fees, plus any value): retrying cannot
 * help until someone funds it, so the caller hears it at once instead of a sender looping on a refusal.
 */
export class EvmFundsError extends CodedError<'INSUFFICIENT_FUNDS'> {
  override readonly name = 'EvmFundsError';
  constructor(
    readonly address: Address,
    readonly balanceWei: bigint,
    /** What the transaction needs at most (gas limit x max fee + value); null when the RPC refused to estimate. */
    readonly neededWei: bigint | null,
    label: string,
  ) {
    super(
      'INSUFFICIENT_FUNDS',
      `${label}: the EVM account ${address} holds ${balanceWei} wei` +
        (neededWei === null ? '' : `, the transaction needs up to ${neededWei} wei`) +
        `: send it ETH (or configure a funded --evm-key) and retry`,
    );
  }
}

/** How nodes word a sender that cannot pay (geth, anvil, reth, nethermind). */
const NO_FUNDS = /insufficient funds|insufficient balance|not enough funds/i;

/** The custom error name of a contract revert inside a viem error, or undefined if it is not a revert. */
export function revertName(e: unknown): string | undefined {
  return revertOf(e)?.name;
}

/** A contract revert's custom error name and arguments inside a viem error, or undefined if it is not one. */
export function revertOf(e: unknown): { name: string; args: readonly unknown[] } | undefined {
  if (!(e instanceof BaseError)) return undefined;
  const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
  if (!(r instanceof ContractFunctionRevertedError)) return undefined;
  return { name: r.data?.errorName ?? r.reason ?? 'revert', args: r.data?.args ?? [] };
}

export interface SentTx {
  readonly entry: JournalEntry;
  readonly receipt: TransactionReceipt;
}

export interface SenderOptions {
  readonly w: EvmWallet;
  readonly address: Address;
  readonly journal: Journal;
  /** Journal record name (one pending transaction per sender). */
  readonly name: string;
  readonly confirmations: number;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

export class TxSender {
  /** The transaction broadcast and not yet confirmed (its label), for status and tests. */
  waiting: string | null = null;
  /** The last operation queued: one journal record, so its transactions go one at a time (settler, watchtower). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: SenderOptions) {}

  /** Runs `f` after every operation queued before it has ended. */
  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.tail.then(f, f);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Drives the transaction journaled before a crash (if any) to its end, queued behind any send in progress. */
  resumePending(): Promise<{ entry: JournalEntry; receipt: TransactionReceipt | undefined } | undefined> {
    return this.exclusive(async () => {
      const entry = await this.pending();
      return entry ? { entry, receipt: await this.resume(entry) } : undefined;
    });
  }

  private get signal(): AbortSignal | undefined {
    return this.o.signal;
  }

  /** Retries `f` on anything but a contract revert until it answers or the signal aborts. */
  async rpc<T>(what: string, f: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.signal?.throwIfAborted();
      try {
        return await f();
      } catch (e) {
        if (this.signal?.aborted || revertName(e) !== undefined || NO_FUNDS.test(String(e))) throw e;
        if (attempt % 10 === 0)
          this.o.log.warn(
            { what, attempt, err: (e as Error).message.split('\n')[0] },
            'EVM RPC failed; retrying',
          );
        await sleep(backoff(attempt, 100, 5000), this.signal);
      }
    }
  }

  /** The transaction journaled before a crash, if any. */
  pending(): Promise<JournalEntry | undefined> {
    return this.o.journal.get<JournalEntry | null>(this.o.name).then((e) => e ?? undefined);
  }

  /**
   * Drives a journaled transaction to its end. Returns its receipt once confirmed, or undefined when its nonce
   * went to another transaction (it can then never be mined). The journal is cleared either way.
   */
  async resume(entry: JournalEntry): Promise<TransactionReceipt | undefined> {
    const { pub } = this.o.w;
    const address = this.o.w.account.address;
    for (let attempt = 0; ; attempt++) {
      const receipt = await this.rpc('receipt', () =>
        pub.getTransactionReceipt({ hash: entry.hash }).catch((e: unknown) => {
          if (e instanceof TransactionReceiptNotFoundError) return null;
          throw e;
        }),
      );
      if (receipt) {
        await this.confirmed(receipt);
        // A reorg may have dropped it while we waited: look again before clearing.
        const again = await this.rpc('receipt', () =>
          pub.getTransactionReceipt({ hash: entry.hash }).catch(() => null),
        );
        if (again && again.blockHash === receipt.blockHash) {
          await this.o.journal.put(this.o.name, null);
          this.waiting = null;
          return receipt;
        }
        continue;
      }
      const mined = await this.rpc('nonce', () => pub.getTransactionCount({ address, blockTag: 'latest' }));
      if (mined > entry.nonce) {
        // Mined between the two reads, or replaced by another transaction with its nonce: look once more.
        const late = await pub.getTransactionReceipt({ hash: entry.hash }).catch(() => null);
        if (late) continue;
        await this.o.journal.put(this.o.name, null);
        this.waiting = null;
        this.o.log.warn({ label: entry.label, nonce: entry.nonce }, 'journaled transaction replaced');
        return undefined;
      }
      // Not mined and its nonce still free: (re)broadcast the very same bytes; "already known" is fine.
      const refused = await pub.sendRawTransaction({ serializedTransaction: entry.raw }).then(
        () => null,
        (e: unknown) => (e as Error).message,
      );
      // The journal keeps the transaction: once the account is funded, a restart sends the very same bytes.
      if (refused !== null && NO_FUNDS.test(refused)) throw await this.unfunded(entry.label, null);
      if (
        refused !== null &&
        !/already known|known transaction|nonce too low|already imported/i.test(refused)
      )
        this.o.log.debug({ err: refused.split('\n')[0] }, 'rebroadcast refused');
      this.waiting = entry.label;
      await sleep(Math.min(this.o.pollMs ?? 100, 50 * (attempt + 1)), this.signal);
    }
  }

  /** The typed refusal for an account that cannot pay, said once at error level with what to do. */
  private async unfunded(label: string, needed: bigint | null, known?: bigint): Promise<EvmFundsError> {
    const address = this.o.w.account.address;
    const balance = known ?? (await this.o.w.pub.getBalance({ address }).catch(() => 0n));
    const e = new EvmFundsError(address, balance, needed, label);
    this.o.log.error(
      { address, balanceWei: balance.toString(), neededWei: needed?.toString() ?? null, label },
      `the EVM account cannot pay for its transaction: send ETH to ${address} or use a funded --evm-key`,
    );
    return e;
  }

  private async confirmed(receipt: TransactionReceipt): Promise<void> {
    const need = BigInt(Math.max(1, this.o.confirmations));
    for (;;) {
      const head = await this.rpc('block number', () => this.o.w.pub.getBlockNumber({ cacheTime: 0 }));
      if (head - receipt.blockNumber + 1n >= need) return;
      await sleep(this.o.pollMs ?? 100, this.signal);
    }
  }

  /**
   * Estimates, signs, journals and sends a call to the anchor, then waits for its confirmed receipt. A revert
   * in estimation throws AnchorRevert before anything is journaled.
   */
  send(label: string, functionName: AnchorFn, args: readonly unknown[], value?: bigint): Promise<SentTx> {
    return this.exclusive(() => this.sendNow(label, functionName, args, value));
  }

  /** As `send`, to another contract the anchor relies on (its drand verifier), through the same journal. */
  sendTo(
    label: string,
    target: { address: Address; abi: Abi },
    functionName: string,
    args: readonly unknown[],
  ) {
    return this.exclusive(() => this.sendNow(label, functionName, args, undefined, target));
  }

  private async sendNow(
    label: string,
    functionName: string,
    args: readonly unknown[],
    value?: bigint,
    target?: { address: Address; abi: Abi },
  ): Promise<SentTx> {
    const prior = await this.pending();
    if (prior) await this.resume(prior);
    const { pub, wallet, account } = this.o.w;
    const abi = target?.abi ?? ANCHOR_ABI;
    const data = encodeFunctionData({ abi, functionName, args } as never);
    const to = target?.address ?? this.o.address;
    let gas: bigint;
    try {
      gas = await this.rpc('estimate gas', () =>
        pub.estimateContractGas({
          address: to,
          abi,
          functionName,
          args,
          account,
          value,
          blockTag: 'latest',
        } as never),
      );
    } catch (e) {
      if (NO_FUNDS.test(String(e))) throw await this.unfunded(label, null);
      const r = revertOf(e);
      if (r) {
        const why = r.args.length ? `(${r.args.map(String).join(', ')})` : '';
        throw new AnchorRevert(r.name, `${functionName}: ${r.name}${why}`, r.args);
      }
      throw e;
    }
    const [nonce, fees] = await Promise.all([
      this.rpc('nonce', () => pub.getTransactionCount({ address: account.address, blockTag: 'pending' })),
      this.rpc('fees', () => pub.estimateFeesPerGas()),
    ]);
    const gasLimit = (gas * 12n) / 10n;
    const needed = gasLimit * fees.maxFeePerGas + (value ?? 0n);
    const balance = await this.rpc('balance', () => pub.getBalance({ address: account.address }));
    // Checked before anything is journaled: a transaction the account cannot pay would never leave the mempool.
    if (balance < needed) throw await this.unfunded(label, needed, balance);
    const raw = await wallet.signTransaction({
      account,
      chain: wallet.chain,
      to,
      data,
      value,
      nonce,
      gas: gasLimit,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    const entry: JournalEntry = { label, nonce, hash: keccak256(raw), raw };
    await this.o.journal.put(this.o.name, entry);
    const receipt = await this.resume(entry);
    if (!receipt) throw new Error(`${label}: its nonce ${nonce} went to another transaction`);
    // Estimation passed, yet the state changed before it was mined (another sender was first): never report a
    // reverted transaction as done.
    if (receipt.status !== 'success')
      throw new AnchorRevert(
        'Reverted',
        `${functionName}: mined in block ${receipt.blockNumber} but reverted (another transaction changed the state first)`,
      );
    return { entry, receipt };
  }
}
