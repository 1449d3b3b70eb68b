import { makeLeaf, type Contract, type Leaf } from '../../src/tree/contract.js';

/** A deterministic 32-byte owner key for tree tests, which only check the key's shape. */
export function ownerKey(n: number): Uint8Array {
  const k = new Uint8Array(32);
  new DataView(k.buffer).setUint32(0, n >>> 0);
  k[31] = 1;
  return k;
}

export function leaf(start: bigint, end: bigint, owner = 1, nonce = 0, extra: Partial<Contract> = {}): Leaf {
  return makeLeaf({ start, end, owner: ownerKey(owner), nonce, terms: new Uint8Array(0), ...extra });
}
