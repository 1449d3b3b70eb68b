/**
 * The on-chain lookup (contracts/Tree.sol via `winnerOf`) against the TS verifier (src/tree/verify.ts) on roots
 * that no validated transition made: random leaves and crit bits hashed exactly as honest nodes are, overlapping
 * and misordered ones included. A winner proof must get one verdict on chain and off it: the same owner, the same
 * operator for a gap, or a refusal by both.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, type Address, type Hex } from 'viem';
import { verifyLookup } from '../../src/tree/verify.js';
import { pathFromProto, pathToProto, type Path } from '../../src/tree/path.js';
import { critBit } from '../../src/tree/node.js';
import { TreeError } from '../../src/tree/errors.js';
import { DecodeError } from '../../src/codec/errors.js';
import { U64_MAX } from '../../src/codec/u64.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import type { Leaf } from '../../src/tree/contract.js';
import { ANCHOR_ABI, deployAnchor } from '../../src/evm/anchor.js';
import { leaf, ownerKey } from '../helpers/contracts.js';
import { useAnvil } from './helpers.js';
import { ofLeaf, ofNode, type Built } from '../helpers/hand-tree.js';

/** Deterministic: every run judges the same roots. */
let seed = 0x9e3779b9;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
}
const BASES = [0n, 1000n, (1n << 63n) - 64n, 1n << 63n, U64_MAX - 200n];
let owners = 0;

/** An honest crit-bit trie over sorted distinct starts, with some nodes and leaves made wrong on purpose. */
function build(leaves: Leaf[]): Built {
  if (leaves.length === 1) return ofLeaf(leaves[0]);
  const lo = leaves[0].contract.start;
  const crit = critBit(lo, leaves[leaves.length - 1].contract.start);
  const bit = (v: bigint) => (v >> BigInt(63 - crit)) & 1n;
  let l = build(leaves.filter((x) => bit(x.contract.start) === 0n));
  let r = build(leaves.filter((x) => bit(x.contract.start) === 1n));
  const roll = rnd();
  if (roll < 0.06) [l, r] = [r, l];
  return ofNode(roll > 0.94 ? Math.floor(rnd() * 64) : crit, l, r);
}

function gen(): Built {
  const n = 1 + Math.floor(rnd() * 7);
  const starts = new Set<bigint>();
  while (starts.size < n)
    starts.add(BASES[Math.floor(rnd() * BASES.length)] + BigInt(Math.floor(rnd() * 150)));
  const sorted = [...starts].sort((a, b) => (a < b ? -1 : 1));
  const leaves = sorted.map((start, i) => {
    const room = (i + 1 < sorted.length ? sorted[i + 1] : U64_MAX) - start;
    // Mostly disjoint; sometimes reaching past the next start.
    let end = start + 1n + BigInt(Math.floor(rnd() * Number(room < 40n ? room : 40n)));
    if (rnd() < 0.08) end = start + room + 1n + BigInt(Math.floor(rnd() * 20));
    return leaf(start, end > U64_MAX ? U64_MAX : end, ++owners);
  });
  return build(leaves);
}

type Verdict = string;

/** The TS verdict: the owner's key, 'gap', or 'refused'. */
function offChain(root: Uint8Array, path: Path, point: bigint, operator: Hex): Verdict {
  try {
    const wire = pathFromProto(pathToProto(path));
    const r = verifyLookup(root, wire, point, 0n, 1n << 64n);
    return r.kind === 'leaf' ? toHex(r.leaf.contract.owner) : operator;
  } catch (e) {
    if (e instanceof TreeError || e instanceof DecodeError) return 'refused';
    throw e;
  }
}

describe('on-chain lookup agrees with the TS verifier on adversarial roots', () => {
  const env = useAnvil();
  let address: Address;
  before(async () => {
    address = (await deployAnchor(env.wallet(0), env.pub)).address;
  });

  it('gives the same owner, gap or refusal for every path and probe point', async (t) => {
    const operator = toHex(ownerKey(0));
    const cases: { root: Uint8Array; path: Path; point: bigint; want: Verdict }[] = [];
    while (cases.length < 1500) {
      const root = gen();
      for (const path of root.paths) {
        const l = path.leaf!.contract;
        const pts = new Set<bigint>([l.start, l.end - 1n, l.end, ...path.siblingMin, ...path.siblingMax]);
        for (const p of pts) if (p <= U64_MAX) cases.push({ root: root.digest, path, point: p, want: offChain(root.digest, path, p, operator) }); // prettier-ignore
      }
    }
    const onChain = async (c: (typeof cases)[number]): Promise<Verdict> => {
      try {
        const [winner] = await env.pub.readContract({ address, abi: ANCHOR_ABI, functionName: 'winnerOf', args: [toHex(c.root), c.point, operator, toHex(new Uint8Array(32)), [toHex(encodeLookupPath(c.path))]] }); // prettier-ignore
        return winner;
      } catch {
        return 'refused';
      }
    };
    const got: Verdict[] = [];
    for (let i = 0; i < cases.length; i += 50)
      got.push(...(await Promise.all(cases.slice(i, i + 50).map(onChain))));
    const differ = cases.filter((c, i) => got[i] !== c.want);
    const count = (v: (w: Verdict) => boolean) => cases.filter((c) => v(c.want)).length;
    t.diagnostic(
      `${cases.length} lookups: ${count((w) => w === 'refused')} refused, ${count((w) => w === operator)} gaps, ${count((w) => w !== 'refused' && w !== operator)} owners`,
    );
    assert.ok(
      count((w) => w === 'refused') > 100 && count((w) => w !== 'refused') > 100,
      'both kinds are judged',
    );
    assert.deepEqual(
      differ.slice(0, 5).map((c) => ({ point: c.point, want: c.want, got: got[cases.indexOf(c)] })),
      [],
    );
  });
});
