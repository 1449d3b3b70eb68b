/**
 * The block multiproof of protocol version 2 (docs/protocol.md §14): one partial tree against the state before a
 * block, in place of a path per transaction. Its pre-order encoding (structure bits, crit bytes, stubs, leaves)
 * is checked once against the pre-block root; the block's transactions then act on the partial tree in order.
 *
 * Nodes are never changed in place: an operation builds new nodes along its descent and shares the rest, so the
 * state before each transaction stays available (the per-transaction paths watches need are read from it on
 * demand), and the final root hashes only the nodes that changed.
 */
import { sortition } from '../gen/proto.js';
import { encode, NO_BYTES } from '../codec/canonical.js';
import { CodedError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import { toLong } from '../codec/u64.js';
import { lengthTag, StrictReader } from '../codec/wire.js';
import { HASH_BYTES } from '../crypto/hash.js';
import { leafFromBytes, type Leaf } from './contract.js';
import { EMPTY_ROOT, bitAt, critBit, nodeDigest, STEP_RIGHT } from './node.js';
import type { Path } from './path.js';
import { TreeError } from './errors.js';
import type { Summary } from './verify.js';

const Pb = sortition.v1.Multiproof;

/** A multiproof's lists, each in pre-order. */
export interface MultiproofParts {
  /** Per node `1` (expanded) or `0` then `1` (leaf) or `0` (stub); MSB first, zero padding. */
  readonly structure: Uint8Array;
  readonly crits: Uint8Array;
  readonly stubs: readonly Uint8Array[];
  readonly stubMin: readonly bigint[];
  readonly stubMax: readonly bigint[];
  readonly leaves: readonly Leaf[];
}

/** Builds a multiproof's lists in pre-order; the tree that knows its nodes (ProbabilityTree) drives it. */
export class MultiproofWriter {
  private bits: number[] = [];
  private crits: number[] = [];
  private stubs: Uint8Array[] = [];
  private stubMin: bigint[] = [];
  private stubMax: bigint[] = [];
  private leaves: Leaf[] = [];

  inner(crit: number): void {
    this.bits.push(1);
    this.crits.push(crit);
  }

  leaf(leaf: Leaf): void {
    this.bits.push(0, 1);
    this.leaves.push(leaf);
  }

  stub(digest: Uint8Array, min: bigint, max: bigint): void {
    this.bits.push(0, 0);
    this.stubs.push(digest);
    this.stubMin.push(min);
    this.stubMax.push(max);
  }

  finish(): MultiproofParts {
    const structure = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => {
      if (b) structure[i >> 3] |= 0x80 >> (i & 7);
    });
    return {
      structure,
      crits: Uint8Array.from(this.crits),
      stubs: this.stubs,
      stubMin: this.stubMin,
      stubMax: this.stubMax,
      leaves: this.leaves,
    };
  }
}

export function encodeMultiproof(p: MultiproofParts): Uint8Array {
  return encode(
    Pb,
    Pb.create({
      structure: p.structure,
      crits: p.crits,
      stubs: p.stubs as Uint8Array[],
      stubMin: p.stubMin.map((v) => toLong(v)),
      stubMax: p.stubMax.map((v) => toLong(v)),
      leaves: p.leaves.map((l) => l.bytes),
    }),
  );
}

function invalid(message: string): never {
  throw new TreeError('PROOF_INVALID', `multiproof: ${message}`);
}

const TAG = {
  structure: lengthTag(1),
  crits: lengthTag(2),
  stubs: lengthTag(3),
  stubMin: lengthTag(4),
  stubMax: lengthTag(5),
  leaves: lengthTag(6),
} as const;

/**
 * Decodes a multiproof. Every failure is PROOF_INVALID, a wire one included: the multiproof is covered by the
 * block's tx root, so whatever is wrong with it is the operator's doing, not a transport's. The bytes must be the
 * canonical encoding (fields in number order, each once, empty ones left out), read by hand (src/codec/wire.ts):
 * the same rule as decoding with protobufjs and comparing a re-encoding, at a fraction of the cost.
 */
export function decodeMultiproof(bytes: Uint8Array): MultiproofParts {
  try {
    if (bytes.length > LIMITS.blockBytes)
      invalid(`DECODE_OVERSIZE: ${bytes.length} bytes exceeds the limit of ${LIMITS.blockBytes}`);
    const r = new StrictReader(bytes, 'multiproof');
    const structure = r.next(TAG.structure) ? r.bytes(true) : NO_BYTES;
    const crits = r.next(TAG.crits) ? r.bytes(true) : NO_BYTES;
    const stubs: Uint8Array[] = [];
    while (r.next(TAG.stubs)) {
      const d = r.bytes();
      if (d.length !== HASH_BYTES) invalid('a stub digest is not 32 bytes');
      stubs.push(d);
    }
    const stubMin = r.next(TAG.stubMin) ? r.fixed64s() : [];
    const stubMax = r.next(TAG.stubMax) ? r.fixed64s() : [];
    const leafBytes: Uint8Array[] = [];
    while (r.next(TAG.leaves)) leafBytes.push(r.bytes());
    r.end();
    return { structure, crits, stubs, stubMin, stubMax, leaves: leafBytes.map(leafFromBytes) };
  } catch (e) {
    if (e instanceof TreeError) throw e;
    if (e instanceof CodedError) invalid(`${e.code}: ${e.message}`);
    throw e;
  }
}

class Stub {
  constructor(
    readonly digest: Uint8Array,
    readonly min: bigint,
    readonly max: bigint,
  ) {}
}

class LeafNode {
  readonly min: bigint;
  readonly max: bigint;
  constructor(readonly leaf: Leaf) {
    this.min = leaf.contract.start;
    this.max = leaf.contract.end;
  }
  get digest(): Uint8Array {
    return this.leaf.digest;
  }
}

class Inner {
  hash: Uint8Array | null = null;
  readonly min: bigint;
  readonly max: bigint;
  /** Refuses children out of order (rule 4 of docs/protocol.md §4.4), on every node built or received. */
  constructor(
    readonly crit: number,
    readonly left: PNode,
    readonly right: PNode,
  ) {
    if (left.max > right.min)
      invalid(`subtrees out of order at crit bit ${crit}: ${left.max} > ${right.min}`);
    this.min = left.min;
    this.max = right.max;
  }
}

type PNode = Stub | LeafNode | Inner;

function digestOf(n: PNode): Uint8Array {
  if (!(n instanceof Inner)) return n.digest;
  if (n.hash === null) {
    const { left: l, right: r } = n;
    n.hash = nodeDigest(n.crit, l.min, l.max, r.min, r.max, digestOf(l), digestOf(r));
  }
  return n.hash;
}

/** A state of the partial tree, kept by the transition for the paths read from it later. */
export type PartialState = PNode | null;

/** Reads the pre-order lists into nodes, checking every node received; every list must be used up exactly. */
function parse(p: MultiproofParts): PNode | null {
  const bitCount = p.structure.length * 8;
  if (bitCount === 0) {
    if (p.crits.length || p.stubs.length || p.leaves.length || p.stubMin.length || p.stubMax.length)
      invalid('entries without structure');
    return null;
  }
  if (p.stubMin.length !== p.stubs.length || p.stubMax.length !== p.stubs.length)
    invalid('stub lists differ in length');
  let pos = 0;
  let ci = 0;
  let si = 0;
  let li = 0;
  const bit = (): number => {
    if (pos >= bitCount) invalid('structure ends inside a node');
    const b = (p.structure[pos >> 3] >> (7 - (pos & 7))) & 1;
    pos++;
    return b;
  };
  const node = (above: number): PNode => {
    if (bit() === 1) {
      if (ci >= p.crits.length) invalid('more expanded nodes than crit bits');
      const crit = p.crits[ci++];
      if (crit > 63 || crit <= above) invalid(`crit bit ${crit} not in (${above}, 63]`);
      const left = node(crit);
      const right = node(crit);
      // Rules 2 and 3 of §4.4 for every leaf below: both sides' smallest starts part at this crit bit.
      if (left.min === right.min || critBit(left.min, right.min) !== crit || bitAt(left.min, crit) !== 0)
        invalid(`children's starts ${left.min} and ${right.min} are not split by crit bit ${crit}`);
      return new Inner(crit, left, right);
    }
    if (bit() === 1) {
      if (li >= p.leaves.length) invalid('more leaves in the structure than given');
      return new LeafNode(p.leaves[li++]);
    }
    if (si >= p.stubs.length) invalid('more stubs in the structure than given');
    const s = new Stub(p.stubs[si], p.stubMin[si], p.stubMax[si]);
    si++;
    if (s.min >= s.max) invalid(`stub with the empty range [${s.min}, ${s.max})`);
    return s;
  };
  const top = node(-1);
  if (ci !== p.crits.length || si !== p.stubs.length || li !== p.leaves.length)
    invalid('entries left over after the last node');
  if (p.structure.length !== Math.ceil(pos / 8)) invalid('structure bytes left over');
  if (pos & 7 && (p.structure[p.structure.length - 1] & (0xff >> (pos & 7))) !== 0)
    invalid('nonzero structure padding');
  return top;
}

interface Descent {
  readonly stack: Inner[];
  readonly leaf: LeafNode;
}

/** The free interval around a point as the frontier of a descent shows it (§4.4). */
function gap(
  stack: readonly Inner[],
  key: bigint,
  point: bigint,
  leaf: LeafNode | null,
  covered: () => never,
) {
  let lo = 0n;
  let hi = 1n << 64n;
  const see = (min: bigint, max: bigint): void => {
    if (max <= point) {
      if (max > lo) lo = max;
    } else if (min > point) {
      if (min < hi) hi = min;
    } else covered();
  };
  for (const n of stack) {
    const sib = bitAt(key, n.crit) ? n.left : n.right;
    see(sib.min, sib.max);
  }
  if (leaf) see(leaf.min, leaf.max);
  return { start: lo, end: hi };
}

/**
 * The partial tree a version 2 block acts on. `open` checks it against the pre-block state; `insert`, `replace`
 * and `remove` mirror src/tree/verify.ts with the descent's frontier in place of a path's, so each gives the
 * verdict the same operation gives with the path an honest producer would have sent.
 */
export class PartialTree {
  private constructor(private top: PNode | null) {}

  /** Checks the multiproof against the state `root` (digest and range): PROOF_INVALID, PROOF_MISMATCH. */
  static open(parts: MultiproofParts, root: Summary): PartialTree {
    const top = parse(parts);
    const digest = top ? digestOf(top) : EMPTY_ROOT;
    const min = top ? top.min : 0n;
    const max = top ? top.max : 0n;
    let same = digest.length === root.digest.length && min === root.min && max === root.max;
    for (let i = 0; same && i < digest.length; i++) same = digest[i] === root.digest[i];
    if (!same) throw new TreeError('PROOF_MISMATCH', 'multiproof does not match the state before the block');
    return new PartialTree(top);
  }

  /**
   * The partial tree of a multiproof whose root is not compared with any state (a stored block already judged,
   * or a check that only needs the leaves); nothing is hashed until `summary` or `pathAt` needs it.
   */
  static read(parts: MultiproofParts): PartialTree {
    return new PartialTree(parse(parts));
  }

  get state(): PartialState {
    return this.top;
  }

  /** Digest and range of the current root; hashes the nodes built since they were last read. */
  summary(): Summary {
    const t = this.top;
    return t ? { digest: digestOf(t), min: t.min, max: t.max } : { digest: EMPTY_ROOT, min: 0n, max: 0n };
  }

  private descend(key: bigint): Descent | null {
    let n = this.top;
    if (!n) return null;
    const stack: Inner[] = [];
    while (n instanceof Inner) {
      stack.push(n);
      n = bitAt(key, n.crit) ? n.right : n.left;
    }
    if (n instanceof Stub) invalid(`the descent for ${key} enters a stub`);
    return { stack, leaf: n };
  }

  private rebuild(stack: readonly Inner[], key: bigint, next: PNode | null): void {
    let n = next;
    for (let i = stack.length - 1; i >= 0; i--) {
      const p = stack[i];
      if (n === null) n = bitAt(key, p.crit) ? p.left : p.right;
      else n = bitAt(key, p.crit) ? new Inner(p.crit, p.left, n) : new Inner(p.crit, n, p.right);
    }
    this.top = n;
  }

  /** The leaf starting at `start`, or null (NOT_FOUND for the caller) if the descent ends elsewhere. */
  get(start: bigint): Leaf | null {
    const d = this.descend(start);
    return d && d.leaf.min === start ? d.leaf.leaf : null;
  }

  private member(start: bigint): Descent {
    const d = this.descend(start);
    if (!d || d.leaf.min !== start) throw new TreeError('NOT_FOUND', `no contract starts at ${start}`);
    return d;
  }

  /** verifyInsert with the descent by the new start. */
  insert(leaf: Leaf): void {
    const s = leaf.contract.start;
    const e = leaf.contract.end;
    const fresh = new LeafNode(leaf);
    const d = this.descend(s);
    if (!d) {
      this.top = fresh;
      return;
    }
    const near = d.leaf;
    if (near.min === s) throw new TreeError('OVERLAP', `a contract already starts at ${s}`);
    const c = critBit(s, near.min);
    let k = 0;
    while (k < d.stack.length && d.stack[k].crit < c) k++;
    if (k < d.stack.length && d.stack[k].crit === c) invalid('a node with the new crit bit on the descent');
    const g = gap(d.stack, s, s, near, () => {
      throw new TreeError('OVERLAP', `[${s}, ${e}) overlaps an allocated contract`);
    });
    if (e > g.end) throw new TreeError('OVERLAP', `[${s}, ${e}) overlaps the contract at ${g.end}`);
    const x: PNode = k < d.stack.length ? d.stack[k] : near;
    this.rebuild(d.stack.slice(0, k), s, bitAt(s, c) ? new Inner(c, x, fresh) : new Inner(c, fresh, x));
  }

  /** verifyReplace: `leaf` takes the place of the contract with its start. */
  replace(leaf: Leaf): void {
    const s = leaf.contract.start;
    const d = this.member(s);
    if (leaf.contract.end > d.leaf.max) {
      const g = gap(d.stack, s, s, null, () => invalid('the descent is not a membership descent'));
      if (leaf.contract.end > g.end)
        throw new TreeError('OVERLAP', 'the longer interval overlaps the next contract');
    }
    this.rebuild(d.stack, s, new LeafNode(leaf));
  }

  /** verifyRemove: the removed leaf's sibling takes its parent's place. */
  remove(start: bigint): void {
    const d = this.member(start);
    this.rebuild(d.stack, start, null);
  }

  /**
   * The path following `key`'s bits in a state of the tree (what a version 1 transaction would carry): a
   * membership path for a start, the insertion path for a new key. Every descent a validated block made is fully
   * expanded; a stub on the way is PROOF_INVALID.
   */
  static pathAt(state: PartialState, key: bigint): Path {
    const steps: number[] = [];
    const siblings: Uint8Array[] = [];
    const siblingMin: bigint[] = [];
    const siblingMax: bigint[] = [];
    let n = state;
    if (!n) return { steps: new Uint8Array(0), siblings, siblingMin, siblingMax, leaf: null };
    while (n instanceof Inner) {
      const right: boolean = bitAt(key, n.crit) === 1;
      const sib = right ? n.left : n.right;
      steps.push(n.crit | (right ? STEP_RIGHT : 0));
      siblings.push(digestOf(sib));
      siblingMin.push(sib.min);
      siblingMax.push(sib.max);
      n = right ? n.right : n.left;
    }
    if (n instanceof Stub) invalid(`the descent for ${key} enters a stub`);
    return { steps: Uint8Array.from(steps), siblings, siblingMin, siblingMax, leaf: n.leaf };
  }
}
