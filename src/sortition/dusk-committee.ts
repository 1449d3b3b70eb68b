// Dusk deterministic sortition: committee extraction and block generator.
// Reference: dusk-network/rusk consensus/src/user/provisioners.rs (create_committee, CommitteeGenerator::
// extract_and_subtract_member) and committee.rs (Committee::new / get_occurrences), in the versions that hash
// seed || round || step(u8) || counter (see dusk-hash.ts). Reproduced exactly:
//   - members are walked in public-key byte order (BTreeMap<PublicKey, Stake>, Ord on the 96 raw bytes);
//   - a member is picked when its current stake >= score (inclusive; score 0 picks the first member);
//   - each credit subtracts min(unit, stake) from the member and from the total (Stake::subtract(DUSK));
//   - extraction stops after `credits` picks, or as soon as the total reaches 0.
// Vectors: consensus/tests/sortition.rs test_deterministic_sortition_{1,2} ([7, 32, 7, 18], [7, 15, 10, 13]).
// Deliberate differences: duplicate keys are rejected (the reference silently keeps the first stake), and an
// all-zero or empty set is an error rather than an empty committee or a division-by-zero panic.

import { SortitionError } from './errors.js';
import { compareBytes } from '../codec/bytes.js';
import { sortitionHash, sortitionScore, U32_MAX, U64_MAX } from './dusk-hash.js';
import { WeightedTree } from './weighted-tree.js';

/** 1 DUSK in lux, the amount one credit removes from the extracted stake. */
export const DUSK_UNIT = 1_000_000_000n;

export interface Provisioner {
  readonly pubkey: Uint8Array;
  /** Stake in lux (u64). */
  readonly stake: bigint;
}

export interface CommitteeMember {
  readonly pubkey: Uint8Array;
  readonly credits: number;
}

export interface Committee {
  /** Members holding at least one credit, in public-key order. */
  readonly members: CommitteeMember[];
  /** The member drawn at each credit index, in order. */
  readonly sequence: Uint8Array[];
}

/** 'tree' is O(log n) per credit; 'linear' is the reference's scan. Both give identical results. */
export type ExtractionWalk = 'tree' | 'linear';

export interface CommitteeOptions {
  readonly walk?: ExtractionWalk;
}

export interface ExtractionParams {
  readonly seed: Uint8Array;
  readonly round: bigint;
  readonly step: number;
  readonly credits: number;
  readonly unit: bigint;
}

function checkParams(credits: number, unit: bigint): void {
  if (!Number.isInteger(credits) || credits < 0 || credits > U32_MAX + 1) {
    throw new SortitionError('INVALID_ARGUMENT', `credits ${credits} must be an integer in [0, 2^32]`);
  }
  if (unit <= 0n) throw new SortitionError('INVALID_ARGUMENT', `unit ${unit} must be positive`);
}

/** Sum of stakes in public-key order, checked as the reference's u64 sum would be. */
function totalStake(sortedStakes: readonly bigint[]): bigint {
  if (sortedStakes.length === 0) throw new SortitionError('EMPTY_POOL', 'no provisioners');
  let total = 0n;
  for (const s of sortedStakes) {
    if (s < 0n || s > U64_MAX) throw new SortitionError('INVALID_ARGUMENT', `stake ${s} is not a u64`);
    total += s;
  }
  // The reference sums stakes into a u64; a larger total would overflow there.
  if (total > U64_MAX) throw new SortitionError('WEIGHT_OVERFLOW', `total stake ${total} exceeds u64`);
  if (total === 0n) throw new SortitionError('EMPTY_POOL', 'total stake is zero');
  return total;
}

/**
 * The weighted walk on a tree holding the full stakes, leaving the tree as it found it: the stakes a draw takes
 * are put back afterwards (O(credits log n)), so one tree serves every round and step of a provisioner set.
 */
function drawOnTree(tree: WeightedTree, total: bigint, params: ExtractionParams): number[] {
  const { seed, round, step, credits, unit } = params;
  const taken = new Map<number, bigint>();
  const picks: number[] = [];
  try {
    while (picks.length < credits) {
      const score = sortitionScore(sortitionHash(seed, round, step, picks.length), total);
      const i = tree.findFirstAtLeast(score);
      const stake = tree.weight(i);
      if (!taken.has(i)) taken.set(i, stake);
      const sub = stake < unit ? stake : unit;
      tree.set(i, stake - sub);
      picks.push(i);
      total -= sub;
      if (total === 0n) break;
    }
  } finally {
    for (const [i, stake] of taken) tree.set(i, stake);
  }
  return picks;
}

/**
 * Runs the credit extraction over stakes already in public-key order and returns, per credit, the index of
 * the drawn member. Separate from `committee` so that callers (and the benchmark) can reuse a sorted set.
 */
export function extractCredits(
  sortedStakes: readonly bigint[],
  params: ExtractionParams,
  walk: ExtractionWalk = 'tree',
): number[] {
  checkParams(params.credits, params.unit);
  let total = totalStake(sortedStakes);
  if (walk === 'tree') return drawOnTree(new WeightedTree(sortedStakes), total, params);
  const { seed, round, step, credits, unit } = params;
  const picks: number[] = [];
  const stakes = sortedStakes.slice();
  while (picks.length < credits) {
    let score = sortitionScore(sortitionHash(seed, round, step, picks.length), total);
    // score < total == sum(stakes), so the scan always ends inside the array.
    let i = 0;
    while (stakes[i] < score) {
      score -= stakes[i];
      i++;
    }
    const sub = stakes[i] < unit ? stakes[i] : unit;
    stakes[i] -= sub;
    picks.push(i);
    total -= sub;
    if (total === 0n) break;
  }
  return picks;
}

/** First 6 bytes as a number (zero-padded): orders keys like compareBytes except on ties, which fall back. */
function keyPrefix(key: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + (key[i] ?? 0);
  return v;
}

/** Provisioners sorted by public key; throws on duplicates or empty keys. */
export function sortProvisioners(provisioners: readonly Provisioner[]): Provisioner[] {
  // Comparing numeric prefixes first keeps a million-key sort fast; byte-wise comparison only breaks ties.
  const prefixes = provisioners.map((p) => keyPrefix(p.pubkey));
  const order = provisioners.map((_, i) => i);
  order.sort(
    (a, b) => prefixes[a] - prefixes[b] || compareBytes(provisioners[a].pubkey, provisioners[b].pubkey),
  );
  const sorted = order.map((i) => provisioners[i]);
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].pubkey.length === 0) throw new SortitionError('INVALID_ARGUMENT', 'empty public key');
    if (i > 0 && compareBytes(sorted[i - 1].pubkey, sorted[i].pubkey) === 0) {
      throw new SortitionError(
        'DUPLICATE_MEMBER',
        'the same public key appears twice among the provisioners',
      );
    }
  }
  return sorted;
}

function committeeOf(sorted: readonly Provisioner[], picks: readonly number[]): Committee {
  const counts = new Map<number, number>();
  for (const i of picks) counts.set(i, (counts.get(i) ?? 0) + 1);
  const members = [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([i, c]) => ({ pubkey: sorted[i].pubkey, credits: c }));
  return { members, sequence: picks.map((i) => sorted[i].pubkey) };
}

/**
 * Committees for one provisioner set: sorts the set and builds the extraction tree once, then draws any number of
 * committees (rounds, steps) from it in O(credits log n) each, with the reference's results. A consensus node
 * draws many committees per set; rebuilding per draw made the build, not the walk, the cost.
 */
export class CommitteeExtractor {
  private readonly sorted: Provisioner[];
  private readonly tree: WeightedTree;
  private readonly total: bigint;

  /** @throws SortitionError on duplicate or empty keys, a stake outside u64, or an empty or overflowing total. */
  constructor(provisioners: readonly Provisioner[]) {
    this.sorted = sortProvisioners(provisioners);
    const stakes = this.sorted.map((p) => p.stake);
    this.total = totalStake(stakes);
    this.tree = new WeightedTree(stakes);
  }

  get size(): number {
    return this.sorted.length;
  }

  /** Per credit, the index (in public-key order) of the member drawn. */
  picks(seed: Uint8Array, round: bigint, step: number, credits: number, unit: bigint = DUSK_UNIT): number[] {
    checkParams(credits, unit);
    return drawOnTree(this.tree, this.total, { seed, round, step, credits, unit });
  }

  committee(
    seed: Uint8Array,
    round: bigint,
    step: number,
    credits: number,
    unit: bigint = DUSK_UNIT,
  ): Committee {
    return committeeOf(this.sorted, this.picks(seed, round, step, credits, unit));
  }
}

/** The voting committee for (seed, round, step): `credits` draws weighted by stake. */
export function committee(
  seed: Uint8Array,
  round: bigint,
  step: number,
  credits: number,
  provisioners: readonly Provisioner[],
  unit: bigint = DUSK_UNIT,
  options: CommitteeOptions = {},
): Committee {
  if ((options.walk ?? 'tree') === 'tree')
    return new CommitteeExtractor(provisioners).committee(seed, round, step, credits, unit);
  const sorted = sortProvisioners(provisioners);
  const picks = extractCredits(
    sorted.map((p) => p.stake),
    { seed, round, step, credits, unit },
    'linear',
  );
  return committeeOf(sorted, picks);
}

/** The block generator: the single member of the one-credit committee (rusk Provisioners::get_generator). */
export function generator(
  seed: Uint8Array,
  round: bigint,
  step: number,
  provisioners: readonly Provisioner[],
  unit: bigint = DUSK_UNIT,
): Uint8Array {
  return committee(seed, round, step, 1, provisioners, unit).sequence[0];
}
