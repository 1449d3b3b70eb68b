/**
 * The canonical CREATE2 factory (Arachnid's deterministic-deployment proxy): called with `salt || initcode`, it
 * deploys the initcode with CREATE2 and returns the new address. Where a contract lands depends only on the factory,
 * the salt and the initcode, not on who sends it or at which nonce: the address (and so the anchor id) is known
 * before anything is sent, is the same on every chain, and a second deployment of the same code finds it there.
 */
import {
  getContractAddress,
  parseEther,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { CodedError } from '../codec/errors.js';

export const CREATE2_FACTORY: Address = '0x4e59b44847b379578588920cA78FbF26c0B4956C';

/** The factory's initcode (its runtime code, 69 bytes, after a 14-byte constructor). */
const FACTORY_INITCODE =
  '604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe036016000816020823780' +
  '35828234f58015156039578182fd5b8082525050506014600cf3';

/**
 * The factory's own deployment: a transaction signed once, without a chain id (pre-EIP-155), by a key nobody holds
 * (r = s = 0x22..22), so it is valid on any chain that accepts such transactions and puts the factory at the same
 * address everywhere. Its one-time sender must first hold gas limit x gas price = 0.01 ether.
 */
export const CREATE2_FACTORY_DEPLOYMENT = {
  signer: '0x3fAB184622Dc19b6109349B94811493BF2a45362' as Address,
  cost: parseEther('0.01'),
  // RLP of [nonce 0, gas price 100 gwei, gas 100,000, no recipient, value 0, the factory's initcode, v 27, r, s].
  rawTransaction:
    `0xf8a58085174876e800830186a08080b853${FACTORY_INITCODE}1ba0${'22'.repeat(32)}a0${'22'.repeat(32)}` as Hex,
} as const;

export type Create2ErrorCode = 'CREATE2_FACTORY_MISSING' | 'CREATE2_FAILED';

export class Create2Error extends CodedError<Create2ErrorCode> {
  override readonly name = 'Create2Error';
}

/** Where the factory puts `initcode` deployed with `salt`. */
export function create2Address(salt: Hex, initcode: Hex): Address {
  return getContractAddress({ opcode: 'CREATE2', from: CREATE2_FACTORY, salt, bytecode: initcode });
}

/** The factory's calldata: the salt, then the initcode. */
export function factoryCalldata(salt: Hex, initcode: Hex): Hex {
  return `0x${salt.slice(2)}${initcode.slice(2)}`;
}

export async function hasCode(pub: PublicClient<Transport, Chain>, address: Address): Promise<boolean> {
  const code = await pub.getCode({ address });
  return code !== undefined && code !== '0x';
}

/** Refuses (`CREATE2_FACTORY_MISSING`, saying how to get it) on a chain without the factory. */
export async function requireFactory(pub: PublicClient<Transport, Chain>): Promise<void> {
  if (await hasCode(pub, CREATE2_FACTORY)) return;
  const id = await pub.getChainId();
  throw new Create2Error(
    'CREATE2_FACTORY_MISSING',
    `EVM chain ${id} has no CREATE2 factory at ${CREATE2_FACTORY} (the deterministic-deployment proxy, on most ` +
      `chains and predeployed by anvil unless --disable-default-create2-deployer). Run \`evm deploy\` again with ` +
      `--install-factory: it sends ${CREATE2_FACTORY_DEPLOYMENT.signer} 0.01 ether and broadcasts the factory's ` +
      `presigned deployment (a chain that refuses transactions without a chain id needs its operators to add it)`,
  );
}

/**
 * Deploys the factory with its presigned transaction, after funding its one-time sender from `wallet`. Only on a
 * chain without it: the sender's nonce 0 is spent by the first success, anywhere.
 */
export async function installFactory(
  wallet: WalletClient<Transport, Chain, Account>,
  pub: PublicClient<Transport, Chain>,
): Promise<{ installed: boolean }> {
  if (await hasCode(pub, CREATE2_FACTORY)) return { installed: false };
  const { signer, cost, rawTransaction } = CREATE2_FACTORY_DEPLOYMENT;
  if ((await pub.getTransactionCount({ address: signer })) > 0)
    throw new Create2Error(
      'CREATE2_FAILED',
      `${signer} has sent a transaction on this chain, but no factory is at ${CREATE2_FACTORY}: the presigned ` +
        `deployment cannot be used here`,
    );
  const have = await pub.getBalance({ address: signer });
  if (have < cost) {
    const fund = await wallet.sendTransaction({ to: signer, value: cost - have });
    await receipt(pub, fund, 'funding the factory deployer');
  }
  let hash: Hex;
  try {
    hash = await pub.sendRawTransaction({ serializedTransaction: rawTransaction });
  } catch (e) {
    throw new Create2Error(
      'CREATE2_FAILED',
      `the chain refused the factory's presigned deployment (${(e as Error).message.split('\n')[0]}): it may ` +
        `refuse transactions without a chain id`,
    );
  }
  await receipt(pub, hash, 'the factory deployment');
  if (!(await hasCode(pub, CREATE2_FACTORY)))
    throw new Create2Error('CREATE2_FAILED', `the factory deployment left no code at ${CREATE2_FACTORY}`);
  return { installed: true };
}

export interface Create2Result {
  readonly address: Address;
  /** False when the code was there already: nothing was sent. */
  readonly sent: boolean;
  readonly hash?: Hex;
  readonly gasUsed: bigint;
  readonly blockNumber?: bigint;
}

/**
 * Deploys `initcode` through the factory and checks that its code is at the predicted address. Idempotent: code
 * already there (deployed by anyone: the address binds the code, not the sender) is reported, not deployed again.
 */
export async function deployCreate2(
  wallet: WalletClient<Transport, Chain, Account>,
  pub: PublicClient<Transport, Chain>,
  salt: Hex,
  initcode: Hex,
  what: string,
): Promise<Create2Result> {
  const address = create2Address(salt, initcode);
  if (await hasCode(pub, address)) return { address, sent: false, gasUsed: 0n };
  await requireFactory(pub);
  const hash = await wallet.sendTransaction({ to: CREATE2_FACTORY, data: factoryCalldata(salt, initcode) });
  const r = await receipt(pub, hash, what);
  if (!(await hasCode(pub, address)))
    throw new Create2Error(
      'CREATE2_FAILED',
      `${what}: the factory call succeeded but ${address} has no code`,
    );
  return { address, sent: true, hash, gasUsed: r.gasUsed, blockNumber: r.blockNumber };
}

async function receipt(
  pub: PublicClient<Transport, Chain>,
  hash: Hex,
  what: string,
): Promise<{ gasUsed: bigint; blockNumber: bigint }> {
  const r = await pub.waitForTransactionReceipt({ hash });
  if (r.status !== 'success')
    throw new Create2Error('CREATE2_FAILED', `${what} reverted (transaction ${hash})`);
  return r;
}
