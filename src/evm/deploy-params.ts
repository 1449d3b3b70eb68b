/**
 * The anchor's construction parameters judged before anything is sent. Two bounds per parameter: the contract's
 * own (outside them its constructor reverts, so they hold everywhere), and a safe range that holds on every chain
 * but the devnet's, where a mistake costs real money: a window too short for a holder to notice a stale claim, a
 * finality margin inside the reorg depth, a bond too small to deter bogus claims, a reporter share that pays nobody
 * to report. `--unsafe` turns the second kind into warnings; nothing turns off the first.
 */
import { CodedError } from '../codec/errors.js';
import { DEVNET_EVM_CHAIN_ID } from './anchor.js';

export interface AnchorParams {
  /** Blocks a claim stays open to challenge. */
  readonly challengeWindow: bigint;
  /** Share of a slashed safety deposit paid to the reporter, in basis points. */
  readonly reporterBps: number;
  /** Blocks kept free of commits before expiry and between expiry and the beacon block. */
  readonly finality: bigint;
  /** Wei locked with every standing claim. */
  readonly claimBond: bigint;
}

export type DeployParamErrorCode = 'DEPLOY_INVALID_PARAM' | 'DEPLOY_UNSAFE_PARAM';

export type ParamName = keyof AnchorParams;

/** A parameter outside the contract's bounds (`DEPLOY_INVALID_PARAM`) or outside the safe range. */
export class DeployParamError extends CodedError<DeployParamErrorCode> {
  override readonly name = 'DeployParamError';
  constructor(
    code: DeployParamErrorCode,
    readonly param: ParamName,
    readonly value: bigint,
    readonly min: bigint,
    readonly max: bigint,
    message: string,
  ) {
    super(code, message);
  }
}

interface Range {
  readonly min: bigint;
  readonly max: bigint;
}

/** What the constructor accepts (`BadParameter` otherwise; docs/protocol.md section 12). */
export const CONTRACT_BOUNDS: Readonly<Record<ParamName, Range>> = {
  challengeWindow: { min: 2n, max: 1n << 20n },
  reporterBps: { min: 0n, max: 5000n },
  finality: { min: 0n, max: 128n },
  claimBond: { min: 0n, max: (1n << 256n) - 1n },
};

/** Block time assumed when the chain is too young to measure: Ethereum's. */
export const DEFAULT_BLOCK_SECONDS = 12;

const DAY = 86_400;

/**
 * The safe ranges on a chain whose blocks come every `blockSeconds`: a challenge window of at least a day (a holder
 * offline for a day still answers a stale claim), finality of at least 32 blocks (an Ethereum epoch: deeper than
 * any reorg seen since the merge), a bond of 0.01 to 100 ether (less deters no bogus claim; more shuts honest
 * claimants out) and a reporter share of 1% to 50%.
 */
export function safeRanges(blockSeconds: number = DEFAULT_BLOCK_SECONDS): Record<ParamName, Range> {
  const dayOfBlocks = BigInt(Math.ceil(DAY / Math.max(blockSeconds, 0.01)));
  const b = CONTRACT_BOUNDS;
  return {
    challengeWindow: { min: min(dayOfBlocks, b.challengeWindow.max), max: b.challengeWindow.max },
    reporterBps: { min: 100n, max: b.reporterBps.max },
    finality: { min: 32n, max: b.finality.max },
    claimBond: { min: 10n ** 16n, max: 10n ** 20n },
  };
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

const UNITS: Record<ParamName, string> = {
  challengeWindow: 'blocks',
  reporterBps: 'bps',
  finality: 'blocks',
  claimBond: 'wei',
};

export interface ParamCheck {
  /** The safe-range breaches let through by `unsafe`, one sentence each. */
  readonly warnings: string[];
}

/**
 * Throws `DEPLOY_INVALID_PARAM` for a parameter the contract would refuse, and, on any chain but the devnet's,
 * `DEPLOY_UNSAFE_PARAM` for one outside its safe range unless `unsafe` is set (then it is a warning).
 */
export function checkDeployParams(
  evmChainId: number,
  p: AnchorParams,
  opts: { unsafe?: boolean; blockSeconds?: number } = {},
): ParamCheck {
  const values: Record<ParamName, bigint> = {
    challengeWindow: p.challengeWindow,
    reporterBps: BigInt(p.reporterBps),
    finality: p.finality,
    claimBond: p.claimBond,
  };
  const names = Object.keys(values) as ParamName[];
  for (const name of names) {
    const { min: lo, max: hi } = CONTRACT_BOUNDS[name];
    const v = values[name];
    if (v < lo || v > hi)
      throw new DeployParamError(
        'DEPLOY_INVALID_PARAM',
        name,
        v,
        lo,
        hi,
        `${name} ${v} ${UNITS[name]}: the contract takes ${lo}..${hi}`,
      );
  }
  const warnings: string[] = [];
  if (evmChainId === DEVNET_EVM_CHAIN_ID) return { warnings };
  const safe = safeRanges(opts.blockSeconds);
  for (const name of names) {
    const { min: lo, max: hi } = safe[name];
    const v = values[name];
    if (v >= lo && v <= hi) continue;
    const why =
      `${name} ${v} ${UNITS[name]} is outside the safe range ${lo}..${hi} on EVM chain ${evmChainId}` +
      (name === 'challengeWindow'
        ? ` (a day is ${lo} blocks of ${opts.blockSeconds ?? DEFAULT_BLOCK_SECONDS} s)`
        : '');
    if (!opts.unsafe)
      throw new DeployParamError(
        'DEPLOY_UNSAFE_PARAM',
        name,
        v,
        lo,
        hi,
        `${why}; pass --unsafe to deploy it anyway (only the devnet's chain id ${DEVNET_EVM_CHAIN_ID} is exempt)`,
      );
    warnings.push(why);
  }
  return { warnings };
}

/**
 * Seconds per block, averaged over up to the last 10,000 blocks; DEFAULT_BLOCK_SECONDS on a chain with fewer than
 * 1,000 (a fresh chain's timestamps say nothing of its rate).
 */
export async function measureBlockSeconds(pub: {
  getBlock(args: { blockNumber: bigint }): Promise<{ timestamp: bigint }>;
  getBlockNumber(): Promise<bigint>;
}): Promise<number> {
  const head = await pub.getBlockNumber();
  if (head < 1000n) return DEFAULT_BLOCK_SECONDS;
  const span = head < 10_000n ? head : 10_000n;
  const [a, b] = await Promise.all([
    pub.getBlock({ blockNumber: head - span }),
    pub.getBlock({ blockNumber: head }),
  ]);
  const s = Number(b.timestamp - a.timestamp) / Number(span);
  return s > 0 ? Math.round(s * 1000) / 1000 : DEFAULT_BLOCK_SECONDS;
}
