// JSON front-end of `draw`: outputs on the reference vectors, and every class of bad input rejected with a
// code and the offending field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrawInputError, runCommitteeJson, runGroupJson } from '../../src/sortition/json.js';
import { ABC, BIG, EVM_POOL_ADDRESS, SEED2 } from './keep-vectors.js';
import { committeeInput, groupInput, PUBKEYS } from './fixtures.js';

function rejection(f: () => unknown): { code: string; field: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof DrawInputError) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  assert.fail('expected a DrawInputError');
}

test('committee JSON: rusk test_deterministic_sortition_2 -> credits [7, 15, 10, 13]', () => {
  const out = runCommitteeJson(committeeInput());
  assert.deepEqual(
    out.members.map((m) => m.credits),
    [7, 15, 10, 13],
  );
  assert.deepEqual(
    out.members.map((m) => m.pubkey),
    [...PUBKEYS].sort(),
  );
  assert.equal(out.sequence.length, 45);
  // unit defaults to 1 DUSK and numbers may be JSON numbers when they are safe integers.
  const input = committeeInput();
  delete input.unit;
  input.round = 7777;
  assert.deepEqual(runCommitteeJson(input), out);
});

test('group JSON: the v2 contract sequence mapped to the caller ids', () => {
  assert.deepEqual(runGroupJson(groupInput()), { selected: ABC.group3.map((k) => [70, 90, 40][k - 1]) });
  const big = {
    seed: SEED2,
    size: 20,
    unique: false,
    poolAddress: EVM_POOL_ADDRESS,
    operators: BIG.operators.map((o, i) => ({ id: 1000 + i, weight: o.weight })),
  };
  assert.deepEqual(runGroupJson(big), { selected: BIG.group20Seed2.map((k) => 1000 + k - 1) });
  const set = runGroupJson({ ...big, size: 49, unique: true });
  assert.equal(new Set(set.selected).size, 49);
});

test('committee JSON rejects bad input naming the field', () => {
  const cases: [(i: Record<string, unknown>) => void, string, string][] = [
    [(i) => delete i.seed, 'INPUT_MISSING_FIELD', 'seed'],
    [(i) => (i.seed = 'xyz'), 'INPUT_BAD_HEX', 'seed'],
    [(i) => (i.seed = '0x'), 'INPUT_BAD_HEX', 'seed'],
    [(i) => (i.round = '-1'), 'INPUT_BAD_NUMBER', 'round'],
    [(i) => (i.round = '18446744073709551616'), 'INPUT_BAD_NUMBER', 'round'],
    [(i) => (i.step = 256), 'INPUT_BAD_NUMBER', 'step'],
    [(i) => (i.credits = 1.5), 'INPUT_BAD_NUMBER', 'credits'],
    [(i) => (i.credits = 2 ** 21), 'INPUT_OVER_CAPACITY', 'credits'],
    [(i) => (i.unit = '0'), 'INPUT_BAD_NUMBER', 'unit'],
    [(i) => (i.provisioners = []), 'INPUT_EMPTY_POOL', 'provisioners'],
    [(i) => (i.provisioners = {}), 'INPUT_BAD_TYPE', 'provisioners'],
    [
      (i) => ((i.provisioners as { stake: string }[])[2].stake = '12a'),
      'INPUT_BAD_NUMBER',
      'provisioners[2].stake',
    ],
    [
      (i) => ((i.provisioners as { pubkey: string }[])[1].pubkey = 'abc'),
      'INPUT_BAD_HEX',
      'provisioners[1].pubkey',
    ],
    [
      (i) => delete (i.provisioners as { pubkey?: string }[])[0].pubkey,
      'INPUT_MISSING_FIELD',
      'provisioners[0].pubkey',
    ],
    [
      (i) => ((i.provisioners as { pubkey: string }[])[3].pubkey = PUBKEYS[0]),
      'INPUT_DUPLICATE',
      'provisioners[3].pubkey',
    ],
    [
      (i) => (i.provisioners as { stake: string }[]).forEach((p) => (p.stake = '0')),
      'INPUT_ZERO_WEIGHT',
      'provisioners',
    ],
  ];
  for (const [mutate, code, field] of cases) {
    const input = committeeInput();
    mutate(input);
    const r = rejection(() => runCommitteeJson(input));
    assert.equal(r.code, code, `${field}: ${r.message}`);
    assert.equal(r.field, field);
    assert.ok(r.message.startsWith(field + ':'));
  }
  assert.equal(rejection(() => runCommitteeJson([])).code, 'INPUT_NOT_OBJECT');
});

test('draw JSON refuses keys it does not know instead of falling back to defaults', () => {
  // "units" for "unit": ignored, the draw would have used 1 DUSK a credit.
  const units = committeeInput();
  delete units.unit;
  units.units = 100;
  const r = rejection(() => runCommitteeJson(units));
  assert.equal(r.code, 'INPUT_UNKNOWN_FIELD');
  assert.equal(r.field, 'units');
  assert.match(r.message, /units: is not a field.*"unit"/);
  const nested = committeeInput();
  (nested.provisioners as Record<string, unknown>[])[1].stakes = '5';
  assert.deepEqual(
    [rejection(() => runCommitteeJson(nested)).code, rejection(() => runCommitteeJson(nested)).field],
    ['INPUT_UNKNOWN_FIELD', 'provisioners[1].stakes'],
  );
  const group = groupInput();
  group.uniqe = true;
  assert.equal(rejection(() => runGroupJson(group)).field, 'uniqe');
  const op = groupInput();
  (op.operators as Record<string, unknown>[])[0].wieght = 3;
  assert.equal(rejection(() => runGroupJson(op)).field, 'operators[0].wieght');
});

test('committee JSON warns when fewer credits were assigned than asked', () => {
  const input = committeeInput();
  // 1 + 2 + 3 + 4 thousand DUSK at 1000 DUSK a credit: the stake runs out after 10 credits.
  input.unit = '1000000000000';
  input.credits = 64;
  const out = runCommitteeJson(input);
  assert.equal(out.sequence.length, 10);
  assert.match(out.warning ?? '', /assigned 10 of 64 credits/);
  assert.equal(runCommitteeJson(committeeInput()).warning, undefined);
});

test('group JSON rejects bad input naming the field', () => {
  const cases: [(i: Record<string, unknown>) => void, string, string][] = [
    [(i) => (i.seed = '0xff39d6cca87853892d2854566e883008bc'), 'INPUT_BAD_HEX', 'seed'],
    [(i) => delete i.poolAddress, 'INPUT_MISSING_FIELD', 'poolAddress'],
    [(i) => (i.poolAddress = '0x1234'), 'INPUT_BAD_HEX', 'poolAddress'],
    [(i) => (i.size = -1), 'INPUT_BAD_NUMBER', 'size'],
    [(i) => (i.size = 2 ** 21 + 1), 'INPUT_OVER_CAPACITY', 'size'],
    [(i) => (i.unique = 'yes'), 'INPUT_BAD_TYPE', 'unique'],
    [(i) => (i.operators = []), 'INPUT_EMPTY_POOL', 'operators'],
    [
      (i) => ((i.operators as { weight: number }[])[1].weight = 0),
      'INPUT_ZERO_WEIGHT',
      'operators[1].weight',
    ],
    [
      (i) => ((i.operators as { weight: number }[])[1].weight = 2 ** 32),
      'INPUT_OVER_CAPACITY',
      'operators[1].weight',
    ],
    [
      (i) => ((i.operators as { weight: number }[])[2].weight = 2 ** 32 - 1),
      'INPUT_OVER_CAPACITY',
      'operators[2].weight',
    ],
    [(i) => ((i.operators as { id: number }[])[2].id = 70), 'INPUT_DUPLICATE', 'operators[2].id'],
    [(i) => delete (i.operators as { id?: number }[])[0].id, 'INPUT_MISSING_FIELD', 'operators[0].id'],
    [
      (i) => {
        i.unique = true;
        i.size = 4;
      },
      'INPUT_UNSATISFIABLE',
      'size',
    ],
  ];
  for (const [mutate, code, field] of cases) {
    const input = groupInput();
    mutate(input);
    const r = rejection(() => runGroupJson(input));
    assert.equal(r.code, code, `${field}: ${r.message}`);
    assert.equal(r.field, field);
  }
  const tooMany = groupInput();
  tooMany.operators = new Array<unknown>(2 ** 21).fill({ id: 1, weight: 1 });
  const r = rejection(() => runGroupJson(tooMany));
  assert.deepEqual([r.code, r.field], ['INPUT_OVER_CAPACITY', 'operators']);
});
