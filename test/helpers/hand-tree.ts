/**
 * Trees built by hand: any leaves under any crit bits, hashed with nodeDigest exactly as an honest node hashes,
 * with every root-to-leaf path. No validated transition makes such trees; the verifier tests, the EVM lookup
 * agreement test and the fuzz campaign's adversarial roots judge the paths of roots an attacker could sign.
 */
import type { Leaf } from '../../src/tree/contract.js';
import { nodeDigest, STEP_RIGHT } from '../../src/tree/node.js';
import type { Path } from '../../src/tree/path.js';

/** A path whose leaf is always there: hand-built trees end every path at a leaf. */
export type HandPath = Path & { readonly leaf: Leaf };

export interface Built {
  readonly digest: Uint8Array;
  readonly min: bigint;
  readonly max: bigint;
  /** Every root-to-leaf path below this subtree, as the subtree's own root sees it. */
  readonly paths: HandPath[];
}

export function ofLeaf(l: Leaf): Built {
  const path: HandPath = { steps: new Uint8Array(0), siblings: [], siblingMin: [], siblingMax: [], leaf: l };
  return { digest: l.digest, min: l.contract.start, max: l.contract.end, paths: [path] };
}

/** An inner node over whatever children and crit bit it is given. */
export function ofNode(crit: number, l: Built, r: Built): Built {
  const digest = nodeDigest(crit, l.min, l.max, r.min, r.max, l.digest, r.digest);
  const down = (side: Built, sib: Built, right: boolean): HandPath[] =>
    side.paths.map((p) => ({
      steps: Uint8Array.from([crit | (right ? STEP_RIGHT : 0), ...p.steps]),
      siblings: [sib.digest, ...p.siblings],
      siblingMin: [sib.min, ...p.siblingMin],
      siblingMax: [sib.max, ...p.siblingMax],
      leaf: p.leaf,
    }));
  return { digest, min: l.min, max: r.max, paths: [...down(l, r, false), ...down(r, l, true)] };
}
