/**
 * drand in unchained G1 mode ("bls-unchained-g1-rfc9380": the League of Entropy's quicknet), as the anchor's
 * beacon uses it (contracts/DrandBeacon.sol, docs/protocol.md §12): round r's signature is the network's BLS
 * signature over sha256(u64be(r)) hashed to G1 (RFC 9380), its randomness sha256 of the 48-byte compressed
 * signature, published at genesis + (r - 1) * period. Here: the networks' parameters, the EIP-2537 point encodings
 * the contract takes, the choice of a chain's round, and where a node gets round signatures (a drand HTTP relay;
 * on the devnet, a signer whose key is as public as anvil's dev accounts).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import type { Hex } from 'viem';
import { CodedError } from '../codec/errors.js';

const sigs = bls12_381.shortSignatures;

/** A drand network: its G2 public key (96 bytes compressed), round 1's Unix time and seconds between rounds. */
export interface DrandNetwork {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly genesisTime: number;
  readonly period: number;
}

/** The League of Entropy's quicknet (https://api.drand.sh/52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971/info). */
export const QUICKNET: DrandNetwork = {
  name: 'quicknet',
  publicKey: hexToBytes(
    '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a',
  ),
  genesisTime: 1692803367,
  period: 3,
};

/** quicknet's chain hash: the path of its rounds on every drand HTTP relay. */
export const QUICKNET_CHAIN_HASH = '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971';
export const QUICKNET_RELAY = `https://api.drand.sh/${QUICKNET_CHAIN_HASH}`;

/**
 * The devnet's drand: one signer whose secret key is derived from a public string, like anvil's dev accounts (a
 * devnet only: anyone can sign any round). Rounds a second apart from a fixed genesis, so the anchor's address
 * does not move with the time it is deployed.
 */
export const DEV_DRAND_SECRET = sha256(
  new TextEncoder().encode('sortition-node devnet drand (public: never for value)'),
);
export const DEV_DRAND: DrandNetwork = {
  name: 'devnet',
  publicKey: sigs.getPublicKey(DEV_DRAND_SECRET).toBytes(),
  genesisTime: 1_700_000_000,
  period: 1,
};

export type DrandErrorCode = 'DRAND_BAD_ROUND' | 'DRAND_UNAVAILABLE' | 'DRAND_BAD_SIGNATURE';

export class DrandError extends CodedError<DrandErrorCode> {
  override readonly name = 'DrandError';
}

/** When round `round` (>= 1) is published. */
export function roundTime(n: DrandNetwork, round: bigint): bigint {
  if (round < 1n) throw new DrandError('DRAND_BAD_ROUND', `drand rounds start at 1, got ${round}`);
  return BigInt(n.genesisTime) + (round - 1n) * BigInt(n.period);
}

/** The first round published at or after Unix time `t`. */
export function firstRoundAfter(n: DrandNetwork, t: bigint): bigint {
  const g = BigInt(n.genesisTime);
  if (t <= g) return 1n;
  const p = BigInt(n.period);
  return (t - g + p - 1n) / p + 1n;
}

/**
 * The round a chain expiring at EVM block `expiry` draws from: the first published after the beacon block
 * (expiry + finality) is expected, at `blockSeconds` a block from `head` at time `now`, plus `slackSeconds`.
 * Commits stop when the round is published, so one too early ends the chain's commits before its expiry; one too
 * late only delays the draw, and past a challenge window after the beacon block the draw falls back to a block
 * hash (docs/protocol.md §12). So the slack errs late by a few blocks' time.
 */
export function chooseRound(
  n: DrandNetwork,
  o: {
    expiry: bigint;
    finality: bigint;
    head: bigint;
    now: bigint;
    blockSeconds: number;
    slackSeconds?: number;
  },
): bigint {
  const blocks = o.expiry + o.finality > o.head ? o.expiry + o.finality - o.head : 0n;
  const seconds = BigInt(Math.ceil(Number(blocks) * o.blockSeconds + (o.slackSeconds ?? 2 * o.blockSeconds)));
  return firstRoundAfter(n, o.now + seconds);
}

/** The message round `round` signs: sha256(u64be(round)). */
export function roundMessage(round: bigint): Uint8Array {
  const m = new Uint8Array(8);
  new DataView(m.buffer).setBigUint64(0, round);
  return sha256(m);
}

/** Whether `signature` (48 bytes compressed) is `n`'s signature of `round`; false for anything malformed. */
export function verifyRound(n: DrandNetwork, round: bigint, signature: Uint8Array): boolean {
  try {
    return sigs.verify(signature, sigs.hash(roundMessage(round)), n.publicKey);
  } catch {
    return false;
  }
}

/** A round's randomness as drand defines it: sha256 of the compressed signature. */
export function roundRandomness(signature: Uint8Array): Uint8Array {
  return sha256(signature);
}

/** Signs `round` with `secretKey`: the devnet's drand (and tests). */
export function signRound(secretKey: Uint8Array, round: bigint): Uint8Array {
  return sigs.Signature.toBytes(sigs.sign(sigs.hash(roundMessage(round)), secretKey));
}

const fp = (x: bigint): string => x.toString(16).padStart(128, '0');

/** A compressed G1 signature as the EIP-2537 precompiles take it: x || y, each 64 bytes. */
export function g1ForEvm(signature: Uint8Array): Hex {
  const p = sigs.Signature.fromBytes(signature).toAffine();
  return `0x${fp(p.x)}${fp(p.y)}`;
}

/** A compressed G2 public key as the EIP-2537 precompiles take it: x.c0 || x.c1 || y.c0 || y.c1. */
export function g2ForEvm(publicKey: Uint8Array): Hex {
  const p = bls12_381.G2.Point.fromBytes(publicKey).toAffine();
  return `0x${fp(p.x.c0)}${fp(p.x.c1)}${fp(p.y.c0)}${fp(p.y.c1)}`;
}

/** The compressed G2 key of an EIP-2537 encoding (what the drand contract holds). */
export function g2FromEvm(encoded: Hex): Uint8Array {
  const w = (i: number): string => encoded.slice(2 + 128 * i + 32, 2 + 128 * (i + 1));
  // ZCash's uncompressed form: x.c1 || x.c0 || y.c1 || y.c0, 48 bytes each.
  return bls12_381.G2.Point.fromBytes(hexToBytes(w(1) + w(0) + w(3) + w(2))).toBytes();
}

/** The DrandBeacon contract's constructor arguments for `n`. */
export function drandConstructorArgs(n: DrandNetwork): readonly [Hex, bigint, bigint] {
  return [g2ForEvm(n.publicKey), BigInt(n.genesisTime), BigInt(n.period)];
}

/** Where a node gets a round's signature: null while it is not published yet. */
export interface DrandSource {
  readonly network: DrandNetwork;
  /** @throws DrandError DRAND_UNAVAILABLE when the source cannot answer, DRAND_BAD_SIGNATURE when it lies */
  signature(round: bigint, now: bigint): Promise<Uint8Array | null>;
}

/** The devnet's drand: signs any round whose time has come (by the EVM's clock, which the caller passes). */
export function devDrandSource(): DrandSource {
  return {
    network: DEV_DRAND,
    signature: async (round, now) =>
      roundTime(DEV_DRAND, round) <= now ? signRound(DEV_DRAND_SECRET, round) : null,
  };
}

/**
 * A drand HTTP relay (`<base>/public/<round>`, drand's API v1; for quicknet, QUICKNET_RELAY). What it answers is
 * checked against the network's key, so a relay can withhold but not lie.
 */
export function httpDrandSource(
  network: DrandNetwork,
  base: string,
  fetchFn: typeof fetch = fetch,
): DrandSource {
  return {
    network,
    async signature(round, now) {
      if (roundTime(network, round) > now) return null;
      let res: Response;
      try {
        res = await fetchFn(`${base.replace(/\/$/, '')}/public/${round}`, {
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        throw new DrandError('DRAND_UNAVAILABLE', `drand relay ${base}: ${(e as Error).message}`);
      }
      // drand relays answer 425 Too Early (or 404) for a round not yet published.
      if (res.status === 404 || res.status === 425) return null;
      if (!res.ok) throw new DrandError('DRAND_UNAVAILABLE', `drand relay ${base}: HTTP ${res.status}`);
      const body = (await res.json().catch(() => null)) as { round?: unknown; signature?: unknown } | null;
      const hex = typeof body?.signature === 'string' ? body.signature : '';
      const sig = /^[0-9a-fA-F]{96}$/.test(hex) ? hexToBytes(hex) : null;
      if (!sig || body?.round !== Number(round) || !verifyRound(network, round, sig))
        throw new DrandError(
          'DRAND_BAD_SIGNATURE',
          `drand relay ${base} answered round ${round} with no valid signature`,
        );
      return sig;
    },
  };
}

/** The network whose key the anchor's drand contract holds (by its EIP-2537 encoding), if a known one. */
export function knownNetwork(publicKeyForEvm: Hex): DrandNetwork | null {
  for (const n of [QUICKNET, DEV_DRAND])
    if (g2ForEvm(n.publicKey) === publicKeyForEvm.toLowerCase()) return n;
  return null;
}
