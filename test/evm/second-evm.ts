/**
 * Two EVM implementations behind one small interface, so an agreement test can send the same signed transactions
 * to both and compare what each did: anvil (revm, in Rust, over JSON-RPC) and ethereumjs's VM (in TypeScript, in
 * this process). A contract whose outcomes, errors, events or gas differ between two implementations under one
 * rule set leans on something one of them gets wrong, or on something the rules leave open.
 *
 * The ethereumjs side runs every transaction with `runTx` in a block of its own that chains onto the previous one
 * by parent hash, and keeps every header so BLOCKHASH answers from them; it does not run the block-level system
 * calls (the beacon-root, history and request contracts of EIP-4788, EIP-2935, EIP-7002 and EIP-7251): the
 * anchor reads none of their state, and they would need the system contracts' code in genesis. Empty blocks are
 * headers only, so passing a window of blocks costs next to nothing.
 */
import { createBlock, type Block } from '@ethereumjs/block';
import { createCustomCommon, Hardfork, Mainnet, type Common } from '@ethereumjs/common';
import { createTxFromRLP } from '@ethereumjs/tx';
import {
  bytesToHex,
  createAccount,
  createAddressFromString as ejsAddress,
  hexToBytes,
} from '@ethereumjs/util';
import { createVM, runTx, type VM, type VMOpts } from '@ethereumjs/vm';
import { decodeErrorResult, decodeEventLog, getAddress, type Abi, type Address, type Hex } from 'viem';
import type { EvmEnv } from './helpers.js';

export interface TxLog {
  readonly address: Address;
  readonly topics: readonly Hex[];
  readonly data: Hex;
}

/** What a mined transaction did, in the terms both implementations report. */
export interface TxOutcome {
  readonly status: 'success' | 'reverted';
  /** Gas the sender paid for (after refunds, at least the EIP-7623 calldata floor): a receipt's `gasUsed`. */
  readonly gasUsed: bigint;
  readonly effectiveGasPrice: bigint;
  readonly blockNumber: bigint;
  readonly contractAddress?: Address;
  /** The revert's return data (a custom error's selector and arguments); `0x` when it succeeded. */
  readonly revertData: Hex;
  readonly logs: readonly TxLog[];
}

export interface TestEvm {
  readonly name: string;
  /** Mines `tx` (a signed, serialized transaction) in a block of its own and reports what it did. */
  sendRaw(tx: Hex): Promise<TxOutcome>;
  /** Mines `blocks` empty blocks. */
  mine(blocks: number): Promise<void>;
  blockNumber(): Promise<bigint>;
  balance(address: Address): Promise<bigint>;
  /** A read-only call against the latest state; rejects if it reverts. */
  call(from: Address, to: Address, data: Hex): Promise<Hex>;
}

/** anvil, through the JSON-RPC of a `useAnvil` environment. */
export function anvilEvm(env: EvmEnv): TestEvm {
  // Methods outside viem's public schema (a trace), typed here once.
  const rpc = env.pub.request as unknown as (a: { method: string; params: unknown[] }) => Promise<unknown>;
  return {
    name: 'anvil',
    async sendRaw(tx) {
      const hash = await env.pub.sendRawTransaction({ serializedTransaction: tx });
      const r = await env.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      let revertData: Hex = '0x';
      if (r.status === 'reverted') {
        // A receipt carries no return data; the call tracer replays the mined transaction and gives it.
        const trace = (await rpc({
          method: 'debug_traceTransaction',
          params: [hash, { tracer: 'callTracer' }],
        })) as { output?: Hex };
        revertData = trace.output ?? '0x';
      }
      return {
        status: r.status,
        gasUsed: r.gasUsed,
        effectiveGasPrice: r.effectiveGasPrice,
        blockNumber: r.blockNumber,
        contractAddress: r.contractAddress ? getAddress(r.contractAddress) : undefined,
        revertData,
        logs: r.logs.map((l) => ({ address: getAddress(l.address), topics: l.topics, data: l.data })),
      };
    },
    async mine(blocks) {
      if (blocks > 0) await env.test.mine({ blocks });
    },
    blockNumber: () => env.pub.getBlockNumber({ cacheTime: 0 }),
    balance: (address) => env.pub.getBalance({ address }),
    async call(from, to, data) {
      return (await env.pub.call({ account: from, to, data })).data ?? '0x';
    },
  };
}

type Blockchain = NonNullable<VMOpts['blockchain']>;

export interface EthereumJsOptions {
  readonly chainId: number;
  /** The hardfork whose rules every block runs under. */
  readonly hardfork: Hardfork;
  /** Accounts funded at genesis. */
  readonly alloc: readonly { readonly address: Address; readonly balance: bigint }[];
  readonly gasLimit: bigint;
  /** Every block's base fee (constant: nothing here depends on its adjustment). */
  readonly baseFee: bigint;
}

/** ethereumjs's VM in this process, with a chain of blocks of its own. */
export class EthereumJsEvm implements TestEvm {
  readonly name = 'ethereumjs';

  private constructor(
    private readonly common: Common,
    private readonly vm: VM,
    private readonly opts: EthereumJsOptions,
    /** Every block so far, by number: what BLOCKHASH reads. */
    private readonly headers: Block[],
  ) {}

  /** The VM's journal is one per state: calls and transactions take turns, whoever awaits them together. */
  private queue: Promise<unknown> = Promise.resolve();
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  static async create(opts: EthereumJsOptions): Promise<EthereumJsEvm> {
    const common = createCustomCommon({ chainId: opts.chainId }, Mainnet, { hardfork: opts.hardfork });
    const headers: Block[] = [];
    // BLOCKHASH reads the block by number (the EVM asks only for the 256 before the current one).
    const blockchain: Blockchain = {
      getBlock: async (n: number) => {
        const b = headers[n];
        if (!b) throw new Error(`ethereumjs: no block ${n}`);
        return b;
      },
      putBlock: async () => {},
      shallowCopy: () => blockchain,
    };
    const vm = await createVM({ common, blockchain });
    for (const { address, balance } of opts.alloc) {
      await vm.stateManager.putAccount(ejsAddress(address), createAccount({ balance }));
    }
    const evm = new EthereumJsEvm(common, vm, opts, headers);
    headers.push(evm.block(0n, new Uint8Array(32)));
    return evm;
  }

  private get head(): Block {
    return this.headers[this.headers.length - 1];
  }

  private block(number: bigint, parentHash: Uint8Array): Block {
    return createBlock(
      {
        header: {
          number,
          parentHash,
          timestamp: number + 1n,
          gasLimit: this.opts.gasLimit,
          baseFeePerGas: this.opts.baseFee,
        },
      },
      { common: this.common },
    );
  }

  private next(): Block {
    return this.block(this.head.header.number + 1n, this.head.hash());
  }

  sendRaw(raw: Hex): Promise<TxOutcome> {
    return this.serial(() => this.run(raw));
  }

  private async run(raw: Hex): Promise<TxOutcome> {
    const tx = createTxFromRLP(hexToBytes(raw), { common: this.common });
    const block = this.next();
    const r = await runTx(this.vm, { tx, block });
    this.headers.push(block);
    const err = r.execResult.exceptionError;
    return {
      status: err ? 'reverted' : 'success',
      gasUsed: r.totalGasSpent,
      effectiveGasPrice: r.amountSpent / r.totalGasSpent,
      blockNumber: block.header.number,
      contractAddress: r.createdAddress ? getAddress(r.createdAddress.toString()) : undefined,
      revertData: err?.error === 'revert' ? bytesToHex(r.execResult.returnValue) : '0x',
      logs: (r.execResult.logs ?? []).map(([address, topics, data]) => ({
        address: getAddress(bytesToHex(address)),
        topics: topics.map((t) => bytesToHex(t)),
        data: bytesToHex(data),
      })),
    };
  }

  mine(blocks: number): Promise<void> {
    return this.serial(async () => {
      for (let i = 0; i < blocks; i++) this.headers.push(this.next());
    });
  }

  async blockNumber(): Promise<bigint> {
    return this.head.header.number;
  }

  balance(address: Address): Promise<bigint> {
    return this.serial(
      async () => (await this.vm.stateManager.getAccount(ejsAddress(address)))?.balance ?? 0n,
    );
  }

  call(from: Address, to: Address, data: Hex): Promise<Hex> {
    return this.serial(() => this.readOnly(from, to, data));
  }

  private async readOnly(from: Address, to: Address, data: Hex): Promise<Hex> {
    // A call changes state like a transaction; the journal's checkpoint lets it be undone, as eth_call's is.
    const journal = this.vm.evm.journal;
    await journal.cleanup();
    await journal.checkpoint();
    try {
      const r = await this.vm.evm.runCall({
        caller: ejsAddress(from),
        origin: ejsAddress(from),
        to: ejsAddress(to),
        data: hexToBytes(data),
        gasLimit: this.opts.gasLimit,
        block: this.head,
      });
      const err = r.execResult.exceptionError;
      if (err)
        throw new Error(`ethereumjs: call reverted (${err.error}): ${bytesToHex(r.execResult.returnValue)}`);
      return bytesToHex(r.execResult.returnValue);
    } finally {
      await journal.revert();
    }
  }
}

/** The custom error a revert's data names (its ABI name), `(empty)` for none, or the raw data if unknown. */
export function errorName(abi: Abi, revertData: Hex): string {
  if (revertData === '0x') return '(empty)';
  try {
    return decodeErrorResult({ abi, data: revertData }).errorName;
  } catch {
    return revertData;
  }
}

export interface DecodedEvent {
  readonly address: Address;
  readonly eventName: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/** Decodes logs against `abi`; a log the ABI does not know fails loudly rather than vanishing from a comparison. */
export function decodeLogs(abi: Abi, logs: readonly TxLog[]): DecodedEvent[] {
  return logs.map((l) => {
    const d = decodeEventLog({ abi, topics: l.topics as [Hex, ...Hex[]], data: l.data, strict: true });
    return {
      address: l.address,
      eventName: d.eventName ?? '',
      args: (d.args ?? {}) as Record<string, unknown>,
    };
  });
}
