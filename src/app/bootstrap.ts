/**
 * How an operator gets its chain: from its store (every start after the first), from a genesis record given to
 * it, as the devnet anchor (a fresh anchor genesis), or from its parent:
 *
 * - top-level chain (`--parent-api <anchor> --amount N`): registers with the anchor, which sells it the next free
 *   interval of width N; the registration is stored before the genesis is built, so a restart never registers
 *   twice; on the EVM anchor (`--evm-rpc --anchor-address --evm-key`) the contract takes the genesis itself, and
 *   the registration names it (the EVM anchor journals it before its transaction);
 * - nested chain (`--parent-api <parent operator> --parent-contract S`): the contract at S in the parent must
 *   already be owned by this operator's key (the parent operator sold it); the chain's space is its interval.
 *
 * The genesis names the parent chain and contract, and the chain is then opened in the parent with a signed
 * open-child action (`ensureOpened`), retried until the parent has it.
 */
import { bytesEqual } from '../codec/canonical.js';
import { U64_MAX } from '../codec/u64.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { sign, type KeyPair } from '../crypto/keys.js';
import { decodeGenesis, isAnchor, makeGenesis, type GenesisRecord } from '../chain/genesis.js';
import { signAction } from '../chain/tx.js';
import { ConfigError } from '../runtime/config.js';
import type { Logger } from '../runtime/logger.js';
import type { Anchor, Registration } from '../anchor/types.js';
import { ApiError, apiRequest, backoff, sleep } from '../runtime/http-client.js';
import type { OperatorStore } from '../operator/store.js';
import type { ChainInfo, ContractView, SubmitResult } from '../api/operator.js';

export interface GenesisSource {
  readonly store: OperatorStore;
  readonly key: KeyPair;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** An explicit genesis record. */
  readonly genesis?: GenesisRecord;
  /** Run the devnet anchor chain. */
  readonly anchor?: boolean;
  readonly parentApi?: string;
  readonly parentContract?: bigint;
  readonly amount?: bigint;
  /** Registers top-level chains (an HttpAnchor on the parent API, or a real main chain). */
  readonly registrar?: Anchor;
  readonly name?: string;
  /** Anchor height at which the chain settles (0: never). */
  readonly expiry?: number;
  /** EVM anchor: the deposit in gwei (default: the width). */
  readonly deposit?: bigint;
}

interface StoredRegistration {
  readonly anchorChainId: string;
  readonly start: string;
  readonly end: string;
  readonly amount: string;
  /** The genesis the anchor registered (the EVM anchor's contract takes the record itself). */
  readonly genesis?: string;
}

/** Calls `f` until it succeeds, retrying while the parent is unreachable or not ready. */
async function retrying<T>(
  what: string,
  log: Logger,
  signal: AbortSignal | undefined,
  f: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await f();
    } catch (e) {
      if (signal?.aborted) throw e;
      if (!(e instanceof ApiError) || !e.retryable) throw e;
      if (attempt % 10 === 0) log.info({ err: e.message, attempt }, `${what}: waiting for the parent`);
      await sleep(backoff(attempt, 200, 5000), signal);
    }
  }
}

export async function resolveGenesis(o: GenesisSource): Promise<GenesisRecord> {
  const stored = await o.store.genesis();
  if (stored) {
    if (o.genesis && !bytesEqual(o.genesis.chainId, stored.chainId))
      throw new ConfigError(`the data directory holds chain ${toHex(stored.chainId)}, not the given genesis`);
    return stored;
  }
  const g = await buildGenesis(o);
  if (!bytesEqual(g.genesis.operatorKey, o.key.publicKey))
    throw new ConfigError("the genesis record names another operator key than --key's");
  await o.store.putGenesis(g);
  o.log.info({ chain: toHex(g.chainId), chainName: g.genesis.name }, 'chain created');
  return g;
}

async function buildGenesis(o: GenesisSource): Promise<GenesisRecord> {
  if (o.genesis) return o.genesis;
  const base = {
    operatorKey: o.key.publicKey,
    expiry: o.expiry ?? 0,
    salt: new Uint8Array(0),
  };
  if (o.anchor) {
    return makeGenesis({
      ...base,
      spaceStart: 0n,
      spaceEnd: U64_MAX,
      parentChain: new Uint8Array(0),
      parentContract: 0n,
      amount: 0n,
      name: o.name ?? 'anchor',
    });
  }
  const api = o.parentApi;
  if (!api && !(o.registrar && o.parentContract === undefined)) {
    throw new ConfigError(
      'an operator needs its chain: --chain-genesis, --parent-api with --parent-contract (nested) or --amount (top-level)',
    );
  }
  if (api && o.parentContract !== undefined) {
    const start = o.parentContract;
    const info = await retrying('parent chain', o.log, o.signal, () =>
      apiRequest<ChainInfo>(api, 'GET', '/v1/chain', undefined, { signal: o.signal }),
    );
    const view = await retrying('parent contract', o.log, o.signal, () =>
      apiRequest<ContractView>(api, 'GET', `/v1/contracts/${start}`, undefined, { signal: o.signal }),
    );
    const c = view.contract;
    if (!c) throw new ConfigError(`the parent has no contract at ${start}`);
    if (c.owner !== toHex(o.key.publicKey))
      throw new ConfigError(
        `the parent contract at ${start} is owned by ${c.owner}, not by this operator's key`,
      );
    const end = BigInt(c.end);
    const g = makeGenesis({
      ...base,
      spaceStart: start,
      spaceEnd: end,
      parentChain: fromHex(info.chainId, 'parent chain id'),
      parentContract: start,
      amount: o.amount ?? end - start,
      name: o.name ?? `chain-${start}`,
    });
    // This data directory has no chain yet, and the contract already holds one: a contract holds its chain for
    // good (CONTRACT_IS_CHAIN), so nothing this operator could wait for would ever anchor a new chain there, and
    // if the held chain is this very genesis another data directory is running it (a second copy would sign
    // other blocks at the heights that one signs: equivocation). Refused before anything is stored.
    if (c.child) throw new ConfigError(orphanMessage(start, c.child.chain, toHex(g.chainId)));
    return g;
  }
  if (o.amount === undefined)
    throw new ConfigError('a top-level chain needs --amount (the width to register with the anchor)');
  let reg = await o.store.getJson<StoredRegistration>('registration');
  if (!reg) {
    const registrar = o.registrar;
    if (!registrar) throw new ConfigError('registering with the anchor needs a registrar');
    const amount = o.amount;
    const r: Registration = await retrying('anchor registration', o.log, o.signal, () =>
      registrar.registerChain({
        operatorKey: o.key.publicKey,
        sign: (message) => sign(o.key.secretKey, message),
        amount,
        expiry: o.expiry,
        name: o.name,
        deposit: o.deposit,
      }),
    );
    reg = {
      anchorChainId: toHex(r.anchorChainId),
      start: r.start.toString(),
      end: r.end.toString(),
      amount: r.amount.toString(),
      genesis: r.genesis ? toHex(r.genesis) : undefined,
    };
    await o.store.putJson('registration', reg);
    // The registrar is the anchor, or in a devnet a parent operator lending its space: say which chain took us.
    o.log.info(
      { parentChain: reg.anchorChainId, start: reg.start, end: reg.end },
      'registered the chain with its parent',
    );
  }
  if (reg.genesis) return decodeGenesis(fromHex(reg.genesis, 'registered genesis'));
  const start = BigInt(reg.start);
  return makeGenesis({
    ...base,
    spaceStart: start,
    spaceEnd: BigInt(reg.end),
    parentChain: fromHex(reg.anchorChainId, 'anchor chain id'),
    parentContract: start,
    amount: BigInt(reg.amount),
    name: o.name ?? `chain-${start}`,
  });
}

/** Why a chain cannot be opened in a contract that holds `held`. */
function orphanMessage(start: bigint, held: string, mine: string): string {
  return held === mine
    ? `the parent contract at ${start} already holds chain ${held}, this very chain, but this data directory ` +
        `has none of its blocks: another data directory runs it (a second copy would sign other blocks at the ` +
        `same heights); start the operator on that data directory`
    : `the parent contract at ${start} already holds chain ${held}, not this chain ${mine}: a contract holds ` +
        `one chain for good, so this chain could never be anchored there and whatever it sold could never win; ` +
        `run chain ${held}'s operator on its own data directory, or open this chain in another contract`;
}

/**
 * Makes sure the parent's contract holds this chain: signs and submits the open-child action (as the contract's
 * owner) unless the parent already has it. Retries while the parent is unreachable or the contract changes.
 */
export async function ensureOpened(o: {
  readonly genesis: GenesisRecord;
  readonly key: KeyPair;
  readonly parentApi: string;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}): Promise<void> {
  const g = o.genesis.genesis;
  if (isAnchor(g)) return;
  const start = g.parentContract;
  const me = toHex(o.genesis.chainId);
  for (let attempt = 0; ; attempt++) {
    o.signal?.throwIfAborted();
    const view = await retrying('parent contract', o.log, o.signal, () =>
      apiRequest<ContractView>(o.parentApi, 'GET', `/v1/contracts/${start}`, undefined, { signal: o.signal }),
    );
    const c = view.contract;
    if (!c) throw new ConfigError(`the parent has no contract at ${start}`);
    if (c.child?.chain === me) return;
    if (c.child) throw new ConfigError(orphanMessage(start, c.child.chain, me));
    if (c.owner !== toHex(o.key.publicKey))
      throw new ConfigError(
        `the parent contract at ${start} is owned by ${c.owner}, not by this operator's key`,
      );
    const signed = signAction(
      {
        chainId: g.parentChain,
        contractHash: fromHex(c.digest, 'digest'),
        nonce: c.nonce + 1,
        op: { kind: 'openChild', chainId: o.genesis.chainId },
      },
      o.key.secretKey,
    );
    try {
      await retrying('open child', o.log, o.signal, () =>
        apiRequest<SubmitResult>(
          o.parentApi,
          'POST',
          `/v1/contracts/${start}/actions`,
          {
            action: toHex(signed.bytes),
            signature: toHex(signed.signature),
            childGenesis: toHex(o.genesis.bytes),
          },
          { signal: o.signal },
        ),
      );
      o.log.info({ parentContract: start.toString() }, 'chain opened in its parent');
      return;
    } catch (e) {
      // The contract changed between reading and acting (another action got in first): read it again.
      if (e instanceof ApiError && (e.code === 'STALE_NONCE' || e.code === 'WRONG_CONTRACT') && attempt < 20)
        continue;
      throw e;
    }
  }
}
