import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortition } from '../../src/gen/proto.js';
import { bytesOf, decodeCanonical } from '../../src/codec/canonical.js';
import { CodedError } from '../../src/codec/errors.js';
import { toBig, toLong, toSafeNumber } from '../../src/codec/u64.js';
import { decodeContract, encodeContract, leafFromBytes, type Contract } from '../../src/tree/contract.js';
import { decodeMultiproof, encodeMultiproof, type MultiproofParts } from '../../src/tree/multiproof.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { Rng } from '../../bench/fuzz/prng.js';
import { leaf } from '../helpers/contracts.js';
import { canonicalTxV2Parts, decodeAction, txV2PartsByProtobuf } from '../../src/chain/tx.js';
import { canonicalEnvelope, envelopeByProtobuf, type BlockEnvelope } from '../../src/chain/block.js';

const Pb = sortition.v1.Multiproof;

/** The rule the hand reader replaced: decode with protobufjs, then insist the re-encoding is the same bytes. */
function reference(bytes: Uint8Array): MultiproofParts | string {
  try {
    const m = decodeCanonical(Pb, bytes, 32 * 1024 * 1024, 'multiproof');
    const stubs = m.stubs ?? [];
    if (stubs.some((d) => d.length !== 32)) return 'stub length';
    return {
      structure: bytesOf(m.structure),
      crits: bytesOf(m.crits),
      stubs,
      stubMin: (m.stubMin ?? []).map(toBig),
      stubMax: (m.stubMax ?? []).map(toBig),
      leaves: (m.leaves ?? []).map(leafFromBytes),
    };
  } catch (e) {
    if (e instanceof CodedError) return e.code;
    throw e;
  }
}

function candidate(bytes: Uint8Array): MultiproofParts | string {
  try {
    return decodeMultiproof(bytes);
  } catch (e) {
    if (e instanceof CodedError) return e.code;
    throw e;
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function same(a: MultiproofParts, b: MultiproofParts): boolean {
  const list = (x: readonly Uint8Array[]) => x.map(hex).join(',');
  return (
    hex(a.structure) === hex(b.structure) &&
    hex(a.crits) === hex(b.crits) &&
    list(a.stubs) === list(b.stubs) &&
    a.stubMin.join(',') === b.stubMin.join(',') &&
    a.stubMax.join(',') === b.stubMax.join(',') &&
    list(a.leaves.map((l) => l.bytes)) === list(b.leaves.map((l) => l.bytes))
  );
}

function varint(v: number, pad = 0): number[] {
  const out: number[] = [];
  do {
    out.push((v & 0x7f) | (v > 0x7f || pad > 0 ? 0x80 : 0));
    v = Math.floor(v / 128);
  } while (v > 0);
  for (let i = 0; i < pad; i++) out.push(i === pad - 1 ? 0 : 0x80);
  return out;
}

/** A field sequence of the shape an encoder might write, but with any field, wire type, order or length form. */
function rawFields(rng: Rng, leaves: readonly Uint8Array[]): Uint8Array {
  const out: number[] = [];
  const n = rng.int(8);
  let field = 1;
  for (let i = 0; i < n; i++) {
    field = rng.chance(0.75) ? Math.min(7, field + rng.int(2)) : 1 + rng.int(7);
    const wire = rng.chance(0.85) ? 2 : rng.pick([0, 1, 5]);
    out.push(...varint((field << 3) | wire, rng.chance(0.05) ? 1 : 0));
    if (wire === 0) out.push(...varint(rng.chance(0.3) ? 0 : rng.int(300)));
    else if (wire === 1) for (let k = 0; k < 8; k++) out.push(rng.int(256));
    else if (wire === 5) for (let k = 0; k < 4; k++) out.push(rng.int(256));
    else {
      let payload: number[];
      if (field === 6 && leaves.length && rng.chance(0.7)) payload = [...rng.pick(leaves)];
      else if ((field === 4 || field === 5) && rng.chance(0.7))
        payload = Array.from(rng.bytes(8 * rng.int(3)));
      else if (field === 3 && rng.chance(0.7)) payload = Array.from(rng.bytes(32));
      else payload = Array.from(rng.bytes(rng.int(4)));
      out.push(...varint(payload.length, rng.chance(0.05) ? 1 : 0), ...payload);
    }
  }
  return Uint8Array.from(out);
}

/**
 * A block's fields in number order, each present or not, and now and then one defect an encoder never writes: a
 * zero or empty value present, a non-minimal length, a field repeated or moved.
 */
function nearCanonicalBlock(rng: Rng): Uint8Array {
  const field = (tag: number, payload: number[]): number[] => {
    const pad = rng.chance(0.03) ? 1 : 0;
    return [tag, ...varint(payload.length, pad), ...payload];
  };
  const nonEmpty = (n: number) => (rng.chance(0.05) ? [] : Array.from(rng.bytes(1 + rng.int(n))));
  const parts: number[][] = [];
  if (rng.chance(0.9)) {
    const inner: number[][] = [];
    if (rng.chance(0.9)) inner.push(field(0x0a, nonEmpty(40)));
    if (rng.chance(0.9)) inner.push(field(0x12, nonEmpty(64)));
    if (rng.chance(0.05)) inner.reverse();
    parts.push(field(0x0a, inner.flat()));
  }
  for (let k = rng.int(4); k > 0; k--) parts.push(field(0x12, Array.from(rng.bytes(rng.int(20)))));
  if (rng.chance(0.5))
    parts.push([0x18, ...varint(rng.chance(0.1) ? 0 : rng.pick([1, 2, 2, 200]), rng.chance(0.03) ? 1 : 0)]);
  if (rng.chance(0.5)) parts.push(field(0x22, nonEmpty(30)));
  if (rng.chance(0.05) && parts.length) parts.push(rng.pick(parts));
  if (rng.chance(0.05) && parts.length > 1) parts.unshift(parts.pop() as number[]);
  return Uint8Array.from(parts.flat());
}

function mutate(rng: Rng, b: Uint8Array): Uint8Array {
  const a = Array.from(b);
  const at = a.length ? rng.int(a.length) : 0;
  switch (rng.int(5)) {
    case 0:
      if (a.length) a[at] ^= 1 << rng.int(8);
      break;
    case 1:
      a.splice(at, 1 + rng.int(3));
      break;
    case 2:
      a.splice(at, 0, ...rng.bytes(1 + rng.int(3)));
      break;
    case 3:
      a.length = at;
      break;
    default: {
      // A copy of a slice elsewhere: repeated, duplicated or misplaced fields.
      const from = rng.int(Math.max(1, a.length));
      a.splice(at, 0, ...a.slice(from, from + 1 + rng.int(40)));
    }
  }
  return Uint8Array.from(a);
}

test('the hand multiproof decoder gives the verdict and parts of the protobufjs decode-and-re-encode rule', () => {
  const rng = new Rng(20261204);
  const leafBytes: Uint8Array[] = [];
  const honest: Uint8Array[] = [];
  for (let t = 0; t < 30; t++) {
    const tree = new ProbabilityTree();
    const n = 1 + rng.int(40);
    while (tree.size < n) {
      const s = rng.u64() >> 1n;
      try {
        tree.insert(leaf(s, s + 1n + BigInt(rng.int(1000)), 1 + rng.int(3)));
      } catch {
        // overlaps an earlier one: draw again
      }
    }
    const all = [...tree.leaves()];
    for (const l of all) leafBytes.push(l.bytes);
    const starts = all.filter(() => rng.chance(0.3)).map((l) => l.contract.start);
    honest.push(encodeMultiproof(tree.multiproof(starts)));
  }
  honest.push(new Uint8Array(0));
  const verdicts = new Map<string, number>();
  const check = (bytes: Uint8Array) => {
    const want = reference(bytes);
    const got = candidate(bytes);
    const key = typeof want === 'string' ? want : 'OK';
    verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
    if (typeof want === 'string') {
      // The reference reached the stub rule after a canonical decode; both are PROOF_INVALID to the validator.
      assert.equal(typeof got, 'string', `accepted what the reference refuses (${want}): ${hex(bytes)}`);
    } else {
      assert.notEqual(
        typeof got,
        'string',
        `refused (${String(got)}) what the reference accepts: ${hex(bytes)}`,
      );
      assert.ok(same(want, got as MultiproofParts), `parts differ: ${hex(bytes)}`);
    }
  };
  for (const h of honest) check(h);
  for (let i = 0; i < 20_000; i++) {
    if (i % 2 === 0) check(mutate(rng, rng.pick(honest)));
    else check(rawFields(rng, leafBytes));
  }
  // The campaign reached every kind of verdict, so the agreement above is not only on refusals.
  assert.ok((verdicts.get('OK') ?? 0) > 500, `accepted inputs: ${verdicts.get('OK') ?? 0}`);
  for (const code of ['DECODE_MALFORMED', 'DECODE_NONCANONICAL'])
    assert.ok((verdicts.get(code) ?? 0) > 100, `${code}: ${verdicts.get(code) ?? 0}`);
});

test('the hand block envelope reader accepts exactly the canonical blocks, with the parts protobufjs gives', () => {
  const rng = new Rng(20261205);
  const BlockPb = sortition.v1.Block;
  const SignedPb = sortition.v1.SignedHeader;
  const honest: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const sh = rng.chance(0.9)
      ? SignedPb.encode({
          header: rng.chance(0.9) ? rng.bytes(1 + rng.int(90)) : new Uint8Array(0),
          signature: rng.chance(0.9) ? rng.bytes(64) : new Uint8Array(0),
        }).finish()
      : null;
    const v2 = rng.chance(0.5);
    honest.push(
      BlockPb.encode(
        BlockPb.create({
          ...(sh ? { header: SignedPb.decode(sh) } : {}),
          txs: Array.from({ length: rng.int(5) }, () => rng.bytes(rng.int(40))),
          version: v2 ? 2 : rng.chance(0.2) ? rng.int(5) : 0,
          proof: v2 ? rng.bytes(rng.int(50)) : new Uint8Array(0),
        }),
      ).finish(),
    );
  }
  honest.push(new Uint8Array(0));
  let accepted = 0;
  const check = (bytes: Uint8Array) => {
    const fast = canonicalEnvelope(bytes);
    let slow: BlockEnvelope | null = null;
    try {
      slow = envelopeByProtobuf(bytes);
    } catch (e) {
      if (!(e instanceof CodedError)) throw e;
    }
    if (slow === null) {
      assert.equal(fast, null, `the hand reader accepts what protobufjs refuses: ${hex(bytes)}`);
      return;
    }
    accepted++;
    assert.notEqual(fast, null, `the hand reader refuses a canonical block: ${hex(bytes)}`);
    const f = fast as BlockEnvelope;
    for (const k of ['signedBytes', 'header', 'signature', 'proof'] as const)
      assert.equal(hex(f[k]), hex(slow[k]), `${k} differs: ${hex(bytes)}`);
    assert.deepEqual(f.txs.map(hex), slow.txs.map(hex), `txs differ: ${hex(bytes)}`);
    assert.equal(f.version, slow.version, `version differs: ${hex(bytes)}`);
  };
  for (const h of honest) check(h);
  for (let i = 0; i < 20_000; i++) {
    if (i % 3 === 0) check(mutate(rng, rng.pick(honest)));
    else if (i % 3 === 1) check(nearCanonicalBlock(rng));
    else check(rawFields(rng, []));
  }
  assert.ok(accepted > 2000, `canonical blocks among the inputs: ${accepted}`);
});

/** decodeContract before the hand reader: protobufjs's decode, the re-encoding rule, then the contract's rules. */
function referenceContract(bytes: Uint8Array): string {
  try {
    const m = decodeCanonical(sortition.v1.Contract, bytes, 512, 'contract');
    const chain = bytesOf(m.childChain);
    const operator = bytesOf(m.childOperator);
    const root = bytesOf(m.childRoot);
    const hasChild = chain.length > 0 || operator.length > 0 || root.length > 0;
    const c = {
      start: toBig(m.start),
      end: toBig(m.end),
      owner: bytesOf(m.owner),
      nonce: toSafeNumber(m.nonce, 'contract: nonce'),
      terms: bytesOf(m.terms),
      child: hasChild
        ? { chain, operator, height: toSafeNumber(m.childHeight, 'contract: child height'), root }
        : undefined,
    };
    if (!hasChild && toBig(m.childHeight) !== 0n) return 'DECODE_MALFORMED';
    // The shape rules are one function both readers call; re-encoding the result runs them.
    return contractKey(decodeContract(encodeContract(c)));
  } catch (e) {
    if (e instanceof CodedError) return e.code;
    throw e;
  }
}

function contractKey(c: Contract): string {
  const k = c.child;
  return [
    c.start,
    c.end,
    hex(c.owner),
    c.nonce,
    hex(c.terms),
    k ? [hex(k.chain), hex(k.operator), k.height, hex(k.root)] : '-',
  ].join('|');
}

function randomContract(rng: Rng): Contract {
  const start = rng.pick([0n, 1n, rng.u64() >> 1n, (1n << 64n) - 2n]);
  const end = start + 1n + (rng.chance(0.5) ? 0n : BigInt(rng.int(1 << 30)));
  return {
    start,
    end: end >= 1n << 64n ? (1n << 64n) - 1n : end,
    owner: rng.bytes(32),
    nonce: rng.pick([0, 1, 127, 128, 300, 2 ** 31, Number.MAX_SAFE_INTEGER, rng.int(1 << 20)]),
    terms: rng.chance(0.5) ? new Uint8Array(0) : rng.bytes(32),
    child: rng.chance(0.3)
      ? {
          chain: rng.bytes(32),
          operator: rng.bytes(32),
          height: rng.pick([0, 1, 200, 2 ** 40]),
          root: rng.bytes(32),
        }
      : undefined,
  };
}

/** A contract's fields in order, each present or not, with now and then a defect an encoder never writes. */
function nearCanonicalContract(rng: Rng): Uint8Array {
  const parts: number[][] = [];
  const defect = () => rng.chance(0.04);
  const fixed = (tag: number) => {
    const b = defect() ? new Uint8Array(8) : rng.bytes(8);
    parts.push([tag, ...b]);
  };
  const uint = (tag: number) => {
    const v = defect() ? 0 : rng.pick([1, 127, 128, 2 ** 35, Number.MAX_SAFE_INTEGER, rng.int(1000) + 1]);
    const big = defect() ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] : null;
    parts.push([tag, ...(big ?? varint(v, defect() ? 1 : 0))]);
  };
  const bytes = (tag: number, n: number) => {
    const b = defect() ? [] : Array.from(rng.bytes(defect() ? n - 1 : n));
    parts.push([tag, ...varint(b.length, defect() ? 1 : 0), ...b]);
  };
  if (rng.chance(0.9)) fixed(0x09);
  if (rng.chance(0.9)) fixed(0x11);
  if (rng.chance(0.95)) bytes(0x1a, 32);
  if (rng.chance(0.5)) uint(0x20);
  if (rng.chance(0.3)) bytes(0x2a, 32);
  if (rng.chance(0.3)) {
    if (rng.chance(0.95)) bytes(0x32, 32);
    if (rng.chance(0.95)) bytes(0x3a, 32);
    if (rng.chance(0.7)) uint(0x40);
    if (rng.chance(0.95)) bytes(0x4a, 32);
  } else if (rng.chance(0.05)) uint(0x40);
  if (defect() && parts.length) parts.push(rng.pick(parts));
  if (defect() && parts.length > 1) parts.unshift(parts.pop() as number[]);
  return Uint8Array.from(parts.flat());
}

test('contracts: the hand encoder writes protobufjs bytes; the hand reader gives the verdict of the general one', () => {
  const rng = new Rng(20261206);
  const Pb = sortition.v1.Contract;
  const honest: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const c = randomContract(rng);
    const want = Pb.encode(
      Pb.create({
        start: toLong(c.start),
        end: toLong(c.end),
        owner: c.owner,
        nonce: toLong(c.nonce),
        terms: c.terms,
        ...(c.child
          ? {
              childChain: c.child.chain,
              childOperator: c.child.operator,
              childHeight: toLong(c.child.height),
              childRoot: c.child.root,
            }
          : {}),
      }),
    ).finish();
    const got = encodeContract(c);
    assert.equal(hex(got), hex(want), `encoding of ${contractKey(c)}`);
    honest.push(got);
  }
  const seen = new Map<string, number>();
  for (let i = 0; i < 30_000; i++) {
    const bytes =
      i % 3 === 2
        ? rawFields(rng, [])
        : i % 3 === 1
          ? nearCanonicalContract(rng)
          : mutate(rng, rng.pick(honest));
    const want = referenceContract(bytes);
    let got: string;
    try {
      got = contractKey(decodeContract(bytes));
    } catch (e) {
      if (!(e instanceof CodedError)) throw e;
      got = e.code;
    }
    assert.equal(got, want, `verdict on ${hex(bytes)}`);
    const key = want.startsWith('DECODE') ? want : 'OK';
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  for (const k of ['OK', 'DECODE_MALFORMED', 'DECODE_NONCANONICAL'])
    assert.ok((seen.get(k) ?? 0) > 300, `${k}: ${seen.get(k) ?? 0} of the inputs`);
});

/** A version 2 transaction's envelope: one kind, its fields in order, now and then a defect or a path. */
function nearCanonicalTx(rng: Rng): Uint8Array {
  const defect = () => rng.chance(0.04);
  const field = (tag: number, payload: number[]) => [
    tag,
    ...varint(payload.length, defect() ? 1 : 0),
    ...payload,
  ];
  const bytes = (tag: number, n: number) => field(tag, defect() ? [] : Array.from(rng.bytes(n)));
  const fixed = (tag: number) => [tag, ...(defect() ? new Uint8Array(8) : rng.bytes(8))];
  const inner: number[][] = [];
  const kind = rng.pick([1, 2, 3]);
  if (kind === 1) {
    if (rng.chance(0.95)) inner.push(bytes(0x0a, 60));
    if (defect()) inner.push(bytes(0x12, 3)); // a path
  } else if (kind === 2) {
    if (rng.chance(0.95)) inner.push(bytes(0x0a, 80));
    if (rng.chance(0.95)) inner.push(bytes(0x12, 64));
    if (defect()) inner.push(bytes(0x1a, 3)); // a path
    if (rng.chance(0.1)) inner.push(bytes(0x2a, 40));
    if (rng.chance(0.9)) inner.push(fixed(0x31));
  } else {
    if (rng.chance(0.95)) inner.push(bytes(0x0a, 100));
    if (defect()) inner.push(bytes(0x12, 3)); // a path
    if (rng.chance(0.9)) inner.push(fixed(0x19));
  }
  if (defect() && inner.length) inner.push(rng.pick(inner));
  if (defect() && inner.length > 1) inner.unshift(inner.pop() as number[]);
  const outer = [field(kind === 1 ? 0x0a : kind === 2 ? 0x12 : 0x1a, inner.flat())];
  if (defect()) outer.push(field(0x12, []));
  return Uint8Array.from(outer.flat());
}

test('version 2 transactions: the hand envelope reader accepts exactly what protobufjs accepts, with its parts', () => {
  const rng = new Rng(20261207);
  const honest: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) honest.push(nearCanonicalTx(rng));
  let accepted = 0;
  for (let i = 0; i < 30_000; i++) {
    const bytes =
      i % 3 === 0 ? nearCanonicalTx(rng) : i % 3 === 1 ? mutate(rng, rng.pick(honest)) : rawFields(rng, []);
    const fast = canonicalTxV2Parts(bytes);
    let slow: ReturnType<typeof txV2PartsByProtobuf> | null = null;
    try {
      slow = txV2PartsByProtobuf(bytes);
    } catch (e) {
      if (!(e instanceof CodedError)) throw e;
    }
    const show = (p: typeof slow) =>
      p === null
        ? 'refused'
        : Object.entries(p)
            .map(([k, v]) => `${k}=${v instanceof Uint8Array ? hex(v) : String(v)}`)
            .join(' ');
    assert.equal(show(fast), show(slow), `parts of ${hex(bytes)}`);
    if (slow) accepted++;
  }
  assert.ok(accepted > 3000, `accepted: ${accepted}`);
});

/** An owner action's fields in order, one operation (or none, or two), now and then a defect. */
function nearCanonicalAction(rng: Rng): Uint8Array {
  const defect = () => rng.chance(0.04);
  const field = (tag: number, payload: number[]) => [
    tag,
    ...varint(payload.length, defect() ? 1 : 0),
    ...payload,
  ];
  const bytes = (tag: number, n: number) =>
    field(tag, defect() ? [] : Array.from(rng.bytes(defect() ? n - 1 : n)));
  const parts: number[][] = [];
  if (rng.chance(0.97)) parts.push(bytes(0x0a, 32));
  if (rng.chance(0.97)) parts.push(bytes(0x12, 32));
  if (rng.chance(0.9)) {
    const v = defect() ? 0 : rng.pick([1, 2, 200, Number.MAX_SAFE_INTEGER, 2 ** 53]);
    parts.push([0x18, ...varint(v, defect() ? 1 : 0)]);
  }
  const op = () => {
    const k = rng.pick([4, 5, 6, 7]);
    const inner: number[][] = [];
    if (k === 4) {
      if (rng.chance(0.95)) inner.push(bytes(0x0a, 32));
      if (rng.chance(0.3)) inner.push(bytes(0x12, 32));
    } else if (k === 5) {
      if (rng.chance(0.95)) inner.push([0x09, ...(defect() ? new Uint8Array(8) : rng.bytes(8))]);
      if (rng.chance(0.95)) inner.push(bytes(0x12, 32));
      if (rng.chance(0.3)) inner.push(bytes(0x1a, 32));
    } else if (k === 7 && rng.chance(0.95)) inner.push(bytes(0x0a, 32));
    if (defect() && inner.length > 1) inner.reverse();
    if (defect()) inner.push([0x78, 0x01]); // an unknown field
    parts.push(field((k << 3) | 2, inner.flat()));
  };
  if (rng.chance(0.97)) op();
  if (defect()) op();
  if (defect() && parts.length > 1) parts.unshift(parts.pop() as number[]);
  return Uint8Array.from(parts.flat());
}

/** decodeAction before the hand reader, by protobufjs alone. */
function referenceAction(bytes: Uint8Array): string {
  try {
    const m = decodeCanonical(sortition.v1.OwnerAction, bytes, 1 << 20, 'owner action');
    const set = [m.transfer, m.split, m.close, m.openChild].filter((x) => x != null);
    if (set.length !== 1) return 'DECODE_MALFORMED';
    // Past the wire rules both readers share the same code: compare through a re-encoding of what protobufjs read.
    return actionKey(decodeAction(sortition.v1.OwnerAction.encode(m).finish()));
  } catch (e) {
    if (e instanceof CodedError) return e.code;
    throw e;
  }
}

function actionKey(a: ReturnType<typeof decodeAction>): string {
  const op = Object.entries(a.op).map(([k, v]) => `${k}=${v instanceof Uint8Array ? hex(v) : String(v)}`);
  return [hex(a.chainId), hex(a.contractHash), a.nonce, ...op].join('|');
}

test('owner actions: the hand reader gives the verdict and the action the general reader gives', () => {
  const rng = new Rng(20261208);
  const honest: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) honest.push(nearCanonicalAction(rng));
  const seen = new Map<string, number>();
  for (let i = 0; i < 30_000; i++) {
    const bytes =
      i % 3 === 0
        ? nearCanonicalAction(rng)
        : i % 3 === 1
          ? mutate(rng, rng.pick(honest))
          : rawFields(rng, []);
    const want = referenceAction(bytes);
    let got: string;
    try {
      got = actionKey(decodeAction(bytes));
    } catch (e) {
      if (!(e instanceof CodedError)) throw e;
      got = e.code;
    }
    assert.equal(got, want, `verdict on ${hex(bytes)}`);
    const k = want.startsWith('DECODE') ? want : 'OK';
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  for (const k of ['OK', 'DECODE_MALFORMED', 'DECODE_NONCANONICAL'])
    assert.ok((seen.get(k) ?? 0) > 300, `${k}: ${seen.get(k) ?? 0} of the inputs`);
});
