// JSON front-end of the `draw` command (issue 6): validates untrusted input objects and runs the Dusk
// committee or the Keep group selection. Pure (no I/O) so tests and other front-ends can call it directly.
// Every rejection is a DrawInputError naming the offending field and what to change.

import { CodedError } from '../codec/errors.js';
import { SortitionError } from './errors.js';
import { fromHex, toHex } from '../codec/bytes.js';
import { committee, DUSK_UNIT, type Provisioner } from './dusk-committee.js';
import { U64_MAX } from './dusk-hash.js';
import { MAX_OPERATORS, POOL_CAPACITY, SLOT_MAX } from './keep-constants.js';
import { SortitionPool } from './keep-pool.js';

export type DrawInputErrorCode =
  | 'INPUT_NOT_OBJECT'
  | 'INPUT_MISSING_FIELD'
  | 'INPUT_UNKNOWN_FIELD'
  | 'INPUT_BAD_HEX'
  | 'INPUT_BAD_NUMBER'
  | 'INPUT_BAD_TYPE'
  | 'INPUT_EMPTY_POOL'
  | 'INPUT_ZERO_WEIGHT'
  | 'INPUT_OVER_CAPACITY'
  | 'INPUT_DUPLICATE'
  | 'INPUT_UNSATISFIABLE';

export class DrawInputError extends CodedError<DrawInputErrorCode> {
  override readonly name = 'DrawInputError';
  constructor(
    code: DrawInputErrorCode,
    /** JSON path of the offending field, e.g. `provisioners[3].stake`. */
    readonly field: string,
    message: string,
  ) {
    super(code, `${field}: ${message}`);
  }
}

/** Largest committee the JSON front-end accepts; the reference's counter is a u32, this bounds memory. */
export const MAX_JSON_CREDITS = 1 << 20;

type Json = Record<string, unknown>;

function asObject(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DrawInputError('INPUT_NOT_OBJECT', field, 'expected a JSON object');
  }
  return value as Json;
}

/**
 * Rejects keys the input format does not have: a misspelt optional field ("units" for "unit") would otherwise be
 * ignored silently and its default used. `prefix` is the object's JSON path ('' at the top level).
 */
function onlyKeys(obj: Json, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const field = prefix === '' ? key : `${prefix}.${key}`;
    throw new DrawInputError(
      'INPUT_UNKNOWN_FIELD',
      field,
      `is not a field of this input; the fields are ${known.map((k) => JSON.stringify(k)).join(', ')}`,
    );
  }
}

function required(obj: Json, key: string, field: string): unknown {
  const v = obj[key];
  if (v === undefined || v === null) {
    throw new DrawInputError('INPUT_MISSING_FIELD', field, 'is missing; add it to the input');
  }
  return v;
}

function hexField(value: unknown, field: string, exactLength?: number): Uint8Array {
  if (typeof value !== 'string') throw new DrawInputError('INPUT_BAD_HEX', field, 'expected a hex string');
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value);
  } catch {
    throw new DrawInputError(
      'INPUT_BAD_HEX',
      field,
      `${JSON.stringify(value)} is not hex: use an even number of 0-9a-f digits, optionally prefixed with 0x`,
    );
  }
  if (bytes.length === 0)
    throw new DrawInputError('INPUT_BAD_HEX', field, 'is empty; give at least one byte');
  if (exactLength !== undefined && bytes.length !== exactLength) {
    throw new DrawInputError(
      'INPUT_BAD_HEX',
      field,
      `must be exactly ${exactLength} bytes (${2 * exactLength} hex digits), got ${bytes.length}`,
    );
  }
  return bytes;
}

/** A non-negative integer given as a decimal string or as a safe JSON number. */
function bigintField(value: unknown, field: string, max: bigint): bigint {
  let n: bigint;
  if (typeof value === 'string' && /^[0-9]+$/.test(value)) n = BigInt(value);
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) n = BigInt(value);
  else {
    throw new DrawInputError(
      'INPUT_BAD_NUMBER',
      field,
      `expected a non-negative integer as a decimal string (e.g. "1000000000"), got ${JSON.stringify(value)}`,
    );
  }
  if (n > max) throw new DrawInputError('INPUT_BAD_NUMBER', field, `${n} is larger than the maximum ${max}`);
  return n;
}

function intField(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new DrawInputError(
      'INPUT_BAD_NUMBER',
      field,
      `expected a non-negative integer, got ${JSON.stringify(value)}`,
    );
  }
  if (value > max)
    throw new DrawInputError('INPUT_OVER_CAPACITY', field, `${value} is larger than the maximum ${max}`);
  return value;
}

function arrayField(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new DrawInputError('INPUT_BAD_TYPE', field, 'expected a JSON array');
  return value;
}

export interface CommitteeJsonOutput {
  members: { pubkey: string; credits: number }[];
  sequence: string[];
  /** Present when fewer credits were assigned than asked (the stake ran out). */
  warning?: string;
}

/**
 * `draw committee`: {seed, round, step, credits, unit?, provisioners: [{pubkey, stake}]} ->
 * {members: [{pubkey, credits}] in public-key order, sequence: [pubkey per credit index]}.
 * Public keys are printed as lowercase hex without 0x; integers may be given as decimal strings or safe numbers.
 */
export function runCommitteeJson(input: unknown): CommitteeJsonOutput {
  const obj = asObject(input, '$');
  onlyKeys(obj, ['seed', 'round', 'step', 'credits', 'unit', 'provisioners'], '');
  const seed = hexField(required(obj, 'seed', 'seed'), 'seed');
  const round = bigintField(required(obj, 'round', 'round'), 'round', U64_MAX);
  const step = Number(bigintField(required(obj, 'step', 'step'), 'step', 255n));
  const creditsValue = required(obj, 'credits', 'credits');
  const credits = intField(creditsValue, 'credits', MAX_JSON_CREDITS);
  const unit = obj.unit === undefined ? DUSK_UNIT : bigintField(obj.unit, 'unit', U64_MAX);
  if (unit === 0n)
    throw new DrawInputError('INPUT_BAD_NUMBER', 'unit', 'must be positive (1 DUSK = 1000000000 lux)');
  const list = arrayField(required(obj, 'provisioners', 'provisioners'), 'provisioners');
  if (list.length === 0) {
    throw new DrawInputError(
      'INPUT_EMPTY_POOL',
      'provisioners',
      'is empty; list at least one provisioner with stake',
    );
  }
  const seen = new Set<string>();
  let total = 0n;
  const provisioners: Provisioner[] = list.map((item, i) => {
    const f = `provisioners[${i}]`;
    const p = asObject(item, f);
    onlyKeys(p, ['pubkey', 'stake'], f);
    const pubkey = hexField(required(p, 'pubkey', `${f}.pubkey`), `${f}.pubkey`);
    const stake = bigintField(required(p, 'stake', `${f}.stake`), `${f}.stake`, U64_MAX);
    const key = toHex(pubkey);
    if (seen.has(key)) {
      throw new DrawInputError(
        'INPUT_DUPLICATE',
        `${f}.pubkey`,
        'appears twice; merge the stakes into one entry',
      );
    }
    seen.add(key);
    total += stake;
    return { pubkey, stake };
  });
  if (total === 0n) {
    throw new DrawInputError(
      'INPUT_ZERO_WEIGHT',
      'provisioners',
      'all stakes are zero; at least one must be positive',
    );
  }
  if (total > U64_MAX) {
    throw new DrawInputError(
      'INPUT_BAD_NUMBER',
      'provisioners',
      `total stake ${total} exceeds u64 (the reference sums into a u64)`,
    );
  }
  const result = committee(seed, round, step, credits, provisioners, unit);
  const out: CommitteeJsonOutput = {
    members: result.members.map((m) => ({ pubkey: toHex(m.pubkey), credits: m.credits })),
    sequence: result.sequence.map((k) => toHex(k)),
  };
  // Each credit takes up to `unit` from the stake drawn; once all stake is taken, extraction stops early.
  if (result.sequence.length < credits) {
    out.warning =
      `assigned ${result.sequence.length} of ${credits} credits: the total stake of ${total} ran out ` +
      `at ${unit} a credit; ask for fewer credits or a smaller unit`;
  }
  return out;
}

export interface GroupJsonOutput {
  selected: number[];
}

/** Synthetic operator address for an input id, so any u32 id can live in Keep's address-keyed tree. */
function idAddress(id: number): string {
  return '0x' + id.toString(16).padStart(40, '0');
}

/**
 * `draw group`: {seed (32 bytes), size, unique, poolAddress (20 bytes), operators: [{id, weight}]} ->
 * {selected: [ids]}. Operators are inserted in input order, the pool is locked, then selectGroup /
 * selectSetGroup runs (v2 draw; no eligibility context).
 */
export function runGroupJson(input: unknown): GroupJsonOutput {
  const obj = asObject(input, '$');
  onlyKeys(obj, ['seed', 'size', 'unique', 'poolAddress', 'operators'], '');
  const seed = hexField(required(obj, 'seed', 'seed'), 'seed', 32);
  const size = intField(required(obj, 'size', 'size'), 'size', POOL_CAPACITY);
  const uniqueValue = obj.unique ?? false;
  if (typeof uniqueValue !== 'boolean')
    throw new DrawInputError('INPUT_BAD_TYPE', 'unique', 'expected true or false');
  const poolAddress = hexField(required(obj, 'poolAddress', 'poolAddress'), 'poolAddress', 20);
  const list = arrayField(required(obj, 'operators', 'operators'), 'operators');
  if (list.length === 0) {
    throw new DrawInputError(
      'INPUT_EMPTY_POOL',
      'operators',
      'is empty; list at least one operator with weight',
    );
  }
  if (list.length > MAX_OPERATORS) {
    throw new DrawInputError(
      'INPUT_OVER_CAPACITY',
      'operators',
      `has ${list.length} entries; a Keep pool holds at most ${MAX_OPERATORS} (2^21 - 1)`,
    );
  }
  const pool = new SortitionPool({ poolAddress: '0x' + toHex(poolAddress) });
  const ids = new Set<number>();
  let total = 0;
  list.forEach((item, i) => {
    const f = `operators[${i}]`;
    const o = asObject(item, f);
    onlyKeys(o, ['id', 'weight'], f);
    const id = intField(required(o, 'id', `${f}.id`), `${f}.id`, SLOT_MAX);
    const weight = intField(required(o, 'weight', `${f}.weight`), `${f}.weight`, SLOT_MAX);
    if (weight === 0) {
      throw new DrawInputError(
        'INPUT_ZERO_WEIGHT',
        `${f}.weight`,
        'is 0; remove the operator or give it a positive weight',
      );
    }
    if (ids.has(id))
      throw new DrawInputError('INPUT_DUPLICATE', `${f}.id`, `id ${id} appears twice; ids must be unique`);
    ids.add(id);
    total += weight;
    if (total > SLOT_MAX) {
      throw new DrawInputError(
        'INPUT_OVER_CAPACITY',
        `${f}.weight`,
        `total weight exceeds ${SLOT_MAX} (32-bit tree)`,
      );
    }
    pool.insertOperatorWeight(idAddress(id), weight);
  });
  if (uniqueValue && size > list.length) {
    throw new DrawInputError(
      'INPUT_UNSATISFIABLE',
      'size',
      `${size} unique members requested but only ${list.length} operators given; lower size or set unique to false`,
    );
  }
  pool.lock();
  let keepIds: number[];
  try {
    keepIds = uniqueValue ? pool.selectSetGroup(size, seed) : pool.selectGroup(size, seed);
  } catch (e) {
    if (e instanceof SortitionError) throw new DrawInputError('INPUT_UNSATISFIABLE', '$', e.message);
    throw e;
  }
  return {
    selected: keepIds.map((kid) => {
      const address = pool.tree.getIDOperator(kid);
      if (address === undefined) throw new Error(`selected unknown pool id ${kid}`);
      return Number(BigInt(address));
    }),
  };
}
