// Dusk deterministic sortition against rusk's own vectors.
// Hash/score vectors: consensus/src/user/sortition.rs, the version hashing seed || round || step(u8) ||
// counter (rusk PR #917 .. PR #1238): test_sortition_hash, test_generate_sortition_score.
// Committee vectors: consensus/tests/sortition.rs, the version whose generate_provisioners derives BLS keys
// from fixed secret keys (sks[1..=4], stake 1000 * i DUSK) and asserts get_occurrences() == [7, 32, 7, 18]
// and [7, 15, 10, 13]. Those values only reproduce with the u8-step layout above.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sortitionHash, sortitionScore } from '../../src/sortition/dusk-hash.js';
import {
  committee,
  CommitteeExtractor,
  extractCredits,
  generator,
  DUSK_UNIT,
  type Provisioner,
} from '../../src/sortition/dusk-committee.js';
import { toHex } from '../../src/codec/bytes.js';
import { hexToBytes } from '../../src/sortition/bytes.js';
import { chiSquare, CHI2_CRITICAL_P001 } from './stats.js';
import { PUBKEYS } from './fixtures.js';
import { codeOf } from '../helpers/errors.js';
import { SortitionError } from '../../src/sortition/errors.js';

/** rusk consensus/tests/sortition.rs generate_provisioners: secret keys 1..=4 (index 0 is skipped). */
const SECRET_KEYS = [
  '611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c',
  '1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e',
  'ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d',
  'e463bcb1a6e57288ffd4671503082fa8656e3eacb78fb1925f8a7c76400e8e15',
];

function referenceProvisioners(): Provisioner[] {
  return PUBKEYS.map((pk, i) => ({ pubkey: hexToBytes(pk), stake: 1000n * BigInt(i + 1) * DUSK_UNIT }));
}

const fill = (b: number, n = 48) => new Uint8Array(n).fill(b);

test('public keys of the reference provisioners derive from their secret keys', () => {
  SECRET_KEYS.forEach((sk, i) => {
    const scalar = BigInt('0x' + toHex(hexToBytes(sk).reverse()));
    const pk = bls12_381.G2.Point.BASE.multiply(scalar).toBytes(true);
    assert.equal(toHex(pk), PUBKEYS[i]);
  });
});

test('test_sortition_hash: seed [3; 48], round 10, step 3, counter 1', () => {
  const expected = [
    134, 22, 162, 136, 186, 35, 16, 207, 237, 50, 11, 236, 74, 189, 37, 137, 101, 205, 53, 161, 248, 199, 195,
    228, 68, 68, 95, 223, 239, 199, 1, 7,
  ];
  assert.deepEqual([...sortitionHash(fill(3), 10n, 3, 1)], expected);
});

test('test_generate_sortition_score', () => {
  const dataset: [number, bigint, bigint][] = [
    [3, 123342342n, 66422677n],
    [4, 44443333n, 22757716n],
  ];
  for (const [seed, total, expected] of dataset) {
    assert.equal(sortitionScore(sortitionHash(fill(seed), 10n, 3, 1), total), expected);
  }
});

test('test_deterministic_sortition_1: default seed, round 1, step 1, 64 credits -> [7, 32, 7, 18]', () => {
  for (const walk of ['tree', 'linear'] as const) {
    const c = committee(fill(0), 1n, 1, 64, referenceProvisioners(), DUSK_UNIT, { walk });
    assert.deepEqual(
      c.members.map((m) => m.credits),
      [7, 32, 7, 18],
    );
    assert.equal(c.sequence.length, 64);
    // get_occurrences() lists BTreeMap values, i.e. members in public-key byte order.
    assert.deepEqual(
      c.members.map((m) => toHex(m.pubkey)),
      [...PUBKEYS].sort(),
    );
  }
});

test('test_deterministic_sortition_2: seed [3; 48], round 7777, step 8, 45 credits -> [7, 15, 10, 13]', () => {
  const c = committee(fill(3), 7777n, 8, 45, referenceProvisioners());
  assert.deepEqual(
    c.members.map((m) => m.credits),
    [7, 15, 10, 13],
  );
  // The sequence is the per-credit record the occurrences are counted from.
  for (const m of c.members) {
    assert.equal(c.sequence.filter((k) => toHex(k) === toHex(m.pubkey)).length, m.credits);
  }
});

test('provisioner input order does not matter: members are walked in public-key order', () => {
  const a = committee(fill(3), 7777n, 8, 45, referenceProvisioners());
  const b = committee(fill(3), 7777n, 8, 45, referenceProvisioners().reverse());
  assert.deepEqual(a.sequence.map(toHex), b.sequence.map(toHex));
});

test('generator is the one-credit committee', () => {
  const p = referenceProvisioners();
  for (let round = 0n; round < 20n; round++) {
    const g = generator(fill(9), round, 0, p);
    const c = committee(fill(9), round, 0, 1, p);
    assert.equal(toHex(g), toHex(c.sequence[0]));
    assert.deepEqual(c.members, [{ pubkey: g, credits: 1 }]);
  }
});

test('inclusive comparison: score 0 picks the first member even with zero stake', () => {
  // total = 1, so every score is 0 and `stake >= score` holds for the zero-stake first member.
  for (const walk of ['tree', 'linear'] as const) {
    const picks = extractCredits(
      [0n, 1n],
      { seed: fill(1), round: 5n, step: 2, credits: 4, unit: DUSK_UNIT },
      walk,
    );
    assert.deepEqual(picks, [0, 0, 0, 0]);
  }
});

test('each credit subtracts min(unit, stake) and extraction stops when the total reaches 0', () => {
  for (const walk of ['tree', 'linear'] as const) {
    const picks = extractCredits([5n], { seed: fill(1), round: 0n, step: 0, credits: 10, unit: 2n }, walk);
    assert.deepEqual(picks, [0, 0, 0]); // 5 -> 3 -> 1 -> 0
  }
});

test('invalid input is refused with a code', () => {
  const p = referenceProvisioners();
  assert.equal(
    codeOf(SortitionError, () => committee(fill(0), 1n, 1, 4, [])),
    'EMPTY_POOL',
  );
  assert.equal(
    codeOf(SortitionError, () => committee(fill(0), 1n, 1, 4, [{ pubkey: p[0].pubkey, stake: 0n }])),
    'EMPTY_POOL',
  );
  assert.equal(
    codeOf(SortitionError, () => committee(fill(0), 1n, 1, 4, [p[0], { pubkey: p[0].pubkey, stake: 5n }])),
    'DUPLICATE_MEMBER',
  );
  assert.equal(
    codeOf(SortitionError, () => committee(fill(0), 1n, 256, 4, p)),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(SortitionError, () => committee(fill(0), 1n << 64n, 1, 4, p)),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(SortitionError, () => committee(fill(0), 1n, 1, 4, p, 0n)),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(SortitionError, () =>
      committee(fill(0), 1n, 1, 4, [
        { pubkey: fill(1, 2), stake: (1n << 64n) - 1n },
        { pubkey: fill(2, 2), stake: 1n },
      ]),
    ),
    'WEIGHT_OVERFLOW',
  );
});

test('property: tree walk and linear walk extract the same credits', () => {
  const stake = fc.oneof(
    fc.constant(0n),
    fc.bigInt({ min: 1n, max: 10n }),
    fc.bigInt({ min: 0n, max: 1n << 44n }),
    fc.bigInt({ min: 1n << 50n, max: 1n << 56n }),
  );
  fc.assert(
    fc.property(
      fc.array(stake, { minLength: 1, maxLength: 300 }),
      fc.uint8Array({ minLength: 0, maxLength: 48 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 80 }),
      fc.oneof(fc.constant(DUSK_UNIT), fc.bigInt({ min: 1n, max: 1n << 46n })),
      (stakes, seed, round, step, credits, unit) => {
        fc.pre(stakes.some((s) => s > 0n));
        const params = { seed, round, step, credits, unit };
        assert.deepEqual(extractCredits(stakes, params, 'tree'), extractCredits(stakes, params, 'linear'));
      },
    ),
    { seed: 0x5eed, numRuns: 300 },
  );
});

test('property: one extractor reused over many draws gives what a fresh draw and the linear reference give', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 1 << 30 }), { minLength: 1, maxLength: 60 }),
      fc.array(fc.bigInt({ min: 0n, max: 1n << 40n }), { minLength: 60, maxLength: 60 }),
      fc.array(
        fc.record({
          round: fc.bigInt({ min: 0n, max: 1000n }),
          step: fc.integer({ min: 0, max: 255 }),
          credits: fc.integer({ min: 0, max: 70 }),
          unit: fc.oneof(fc.constant(DUSK_UNIT), fc.bigInt({ min: 1n, max: 1n << 38n })),
        }),
        { minLength: 1, maxLength: 8 },
      ),
      (keys, stakes, draws) => {
        const provisioners: Provisioner[] = keys.map((k, i) => {
          const pubkey = new Uint8Array(8);
          new DataView(pubkey.buffer).setUint32(4, k);
          return { pubkey, stake: stakes[i] };
        });
        fc.pre(provisioners.some((p) => p.stake > 0n));
        const ex = new CommitteeExtractor(provisioners);
        const seed = fill(9);
        // Twice over the same draws: a draw that did not put back what it took would change the second pass.
        for (const pass of [0, 1]) {
          for (const d of draws) {
            const reused = ex.committee(seed, d.round, d.step, d.credits, d.unit);
            const linear = committee(seed, d.round, d.step, d.credits, provisioners, d.unit, {
              walk: 'linear',
            });
            assert.deepEqual(reused, linear, `pass ${pass}`);
          }
        }
      },
    ),
    { seed: 0xd05c, numRuns: 200 },
  );
});

test('property: generator frequencies follow stake (chi-square, p = 0.001)', () => {
  const stakes = [1n, 2n, 3n, 4n, 5n];
  const p: Provisioner[] = stakes.map((s, i) => ({
    pubkey: Uint8Array.of(i + 1),
    stake: s * 1000n * DUSK_UNIT,
  }));
  const counts = new Array<number>(stakes.length).fill(0);
  const draws = 15000;
  for (let round = 0; round < draws; round++) {
    const g = generator(fill(7), BigInt(round), 1, p);
    counts[g[0] - 1]++;
  }
  const expected = stakes.map((s) => (draws * Number(s)) / 15);
  const stat = chiSquare(counts, expected);
  assert.ok(stat < CHI2_CRITICAL_P001[stakes.length - 1], `chi-square ${stat} for counts ${counts}`);
});
