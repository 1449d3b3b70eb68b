/** JSON forms of contracts and proofs (request fields are parsed by src/runtime/json.ts). */
import { sortition } from '../gen/proto.js';
import { encode } from '../codec/canonical.js';
import { toHex } from '../crypto/hash.js';
import type { Leaf } from '../tree/contract.js';
import { pathToProto, type Path } from '../tree/path.js';
import type { ContractJson } from '../api/operator.js';

export function contractJson(leaf: Leaf): ContractJson {
  const c = leaf.contract;
  return {
    start: c.start.toString(),
    end: c.end.toString(),
    owner: toHex(c.owner),
    nonce: c.nonce,
    terms: toHex(c.terms),
    child: c.child
      ? {
          chain: toHex(c.child.chain),
          operator: toHex(c.child.operator),
          height: c.child.height,
          root: toHex(c.child.root),
        }
      : null,
    leaf: toHex(leaf.bytes),
    digest: toHex(leaf.digest),
  };
}

export function encodePath(p: Path): Uint8Array {
  const Pb = sortition.v1.Path;
  return encode(Pb, Pb.create(pathToProto(p)));
}
