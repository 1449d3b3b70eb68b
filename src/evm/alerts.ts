/**
 * What the EVM anchor's watcher tells a validator's holders, and what it reads of their watches. The evm room does
 * not import the node room (eslint.config.js): the app layer hands the validator's Alerter and WatchService in
 * through these interfaces, and the compiler checks there that an AnchorAlert is an Alert.
 */
import type { Leaf } from '../tree/contract.js';

/**
 * - `commit-mismatch`: a commit at a height this node accepted a block at names another header.
 * - `commit-unseen`: a commit above this node's head stayed unseen on gossip past the grace: a committed state
 *   this node cannot check, which may hide watched contracts.
 * - `watch-removed`: a path published on chain (a data answer) shows a watched contract's start held by another
 *   contract, or free, at a committed height above the watch's, while the watch saw no owner-signed action end it.
 * - `data-withheld`: a data request of this node went unanswered past its deadline and was slashed.
 */
export type AnchorAlertKind = 'commit-mismatch' | 'commit-unseen' | 'watch-removed' | 'data-withheld';

/** What a data answer shows at a watched contract's start. */
export type FoundAtPoint =
  | { readonly kind: 'gap'; readonly start: string; readonly end: string }
  | {
      readonly kind: 'contract';
      readonly start: string;
      readonly end: string;
      readonly owner: string;
      readonly nonce: number;
      readonly digest: string;
    };

export interface AnchorAlert {
  readonly kind: AnchorAlertKind;
  /** The chain (hex). */
  readonly chainId: string;
  /** The committed height the alert is about. */
  readonly height: number;
  /** The header hash the contract holds at that height (hex), when known. */
  readonly committed?: string;
  /** commit-mismatch: the hash of the header this node accepted at that height. */
  readonly seen?: string;
  /** commit-unseen: this node's height on the chain. */
  readonly seenHeight?: number;
  /** watch-removed, data-withheld: the watch and its contract's start. */
  readonly watchId?: string;
  readonly start?: string;
  /** watch-removed, data-withheld: the data request (its id, hex). */
  readonly request?: string;
  /** watch-removed: what the answer shows at the contract's start. */
  readonly found?: FoundAtPoint;
  /** The current watches on the chain (at most 100). */
  readonly watches?: string[];
}

export interface AnchorAlerts {
  raise(a: AnchorAlert): void;
}

/** A current watch as the watcher reads it: its id, the height its path is current at, its contract. */
export interface WatchedContract {
  readonly id: string;
  readonly height: number;
  readonly leaf: Leaf;
}

export interface WatchedContracts {
  /** The current watches of a chain. */
  current(chainId: Uint8Array): readonly WatchedContract[];
}

/** The ids of a chain's current watches, as alerts carry them (bounded like the evidence alert's list). */
export function watchIds(watches: WatchedContracts | undefined, chainId: Uint8Array): string[] {
  return (watches?.current(chainId) ?? [])
    .map((w) => w.id)
    .sort()
    .slice(0, 100);
}
