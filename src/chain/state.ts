/**
 * What a light validator keeps per chain: O(1) in the number of contracts. The genesis record, the head, the
 * state root with the allocated bounds, the head time and (anchor only) the randomness beacon.
 */
import { taggedHash } from '../crypto/hash.js';
import { EMPTY_ROOT } from '../tree/node.js';
import { isAnchor, type GenesisRecord } from './genesis.js';
import type { SignedHeader } from './header.js';

export interface ChainState {
  readonly genesis: GenesisRecord;
  readonly height: number;
  /** Hash of the head header; the chain id before the first block. */
  readonly headHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly stateMin: bigint;
  readonly stateMax: bigint;
  readonly timeMs: number;
  /** Anchor: beacon of the head; the chain id before the first block. Other chains: the chain id. */
  readonly beacon: Uint8Array;
}

export function genesisState(genesis: GenesisRecord): ChainState {
  return {
    genesis,
    height: 0,
    headHash: genesis.chainId,
    stateRoot: EMPTY_ROOT,
    stateMin: 0n,
    stateMax: 0n,
    timeMs: 0,
    beacon: genesis.chainId,
  };
}

export function beaconOf(beaconSig: Uint8Array): Uint8Array {
  return taggedHash('beacon', beaconSig);
}

/** The state after a header, as read from the header alone (the header is trusted to be valid). */
export function stateAfter(genesis: GenesisRecord, sh: SignedHeader): ChainState {
  const h = sh.header;
  return {
    genesis,
    height: h.height,
    headHash: sh.hash,
    stateRoot: h.stateRoot,
    stateMin: h.stateMin,
    stateMax: h.stateMax,
    timeMs: h.timeMs,
    beacon: isAnchor(genesis.genesis) ? beaconOf(h.beaconSig) : genesis.chainId,
  };
}
