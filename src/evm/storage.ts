/**
 * Where a contract keeps a value, from solc's `storageLayout` output (scripts/compile-contracts.mjs puts it beside
 * each contract's ABI): the slot and byte offset of a state variable, a mapping's entry or a struct's member, and
 * the value read back out of the 32-byte word there. The node proves these words with eth_getProof
 * (src/evm/proven.ts). Slots are derived, never written by hand: a field added to the contract moves them, and a
 * hand-written slot would then prove the wrong word without any error.
 */
import { concat, hexToBigInt, isHex, keccak256, pad, toHex, type Hex } from 'viem';

/** solc's `storageLayout` of one contract. */
export interface SolcStorageLayout {
  readonly storage: readonly {
    readonly label: string;
    readonly slot: string;
    readonly offset: number;
    readonly type: string;
  }[];
  readonly types: Readonly<
    Record<
      string,
      {
        readonly encoding: string;
        readonly numberOfBytes: string;
        readonly key?: string;
        readonly value?: string;
        readonly members?: readonly {
          readonly label: string;
          readonly slot: string;
          readonly offset: number;
          readonly type: string;
        }[];
      }
    >
  >;
}

/** A value's place: its 32-byte word, the byte offset from the word's low end, its size and solc type. */
export interface StorageField {
  readonly slot: bigint;
  readonly offset: number;
  readonly bytes: number;
  readonly type: string;
}

/** A mapping key: a 32-byte hex value (bytes32), or a number (uintN), or an address. */
export type StorageKey = Hex | bigint | number;

export class StorageLayout {
  constructor(private readonly layout: SolcStorageLayout) {}

  /**
   * The place of `variable`, then for each step a mapping key or a struct member's name:
   * `field('commits', chainId, 5n, 'headerHash')` is `commits[chainId][5].headerHash`.
   * @throws Error naming the step that does not fit the layout (a renamed field: the build and the node disagree)
   */
  field(variable: string, ...steps: readonly (StorageKey | string)[]): StorageField {
    const v = this.layout.storage.find((s) => s.label === variable);
    if (!v) throw new Error(`storage layout: no state variable ${variable}`);
    let slot = BigInt(v.slot);
    let offset = v.offset;
    let type = v.type;
    for (const step of steps) {
      const t = this.type(type);
      if (t.encoding === 'mapping') {
        if (typeof step === 'string' && !isHex(step))
          throw new Error(`storage layout: ${variable}: key ${step} is not a value`);
        slot = hexToBigInt(keccak256(concat([keyWord(step as StorageKey), pad(toHex(slot))])));
        offset = 0;
        type = t.value!;
      } else if (t.members) {
        const m = t.members.find((x) => x.label === step);
        if (!m) throw new Error(`storage layout: ${type} has no member ${String(step)}`);
        slot += BigInt(m.slot);
        offset = m.offset;
        type = m.type;
      } else throw new Error(`storage layout: ${variable}: ${type} has no step ${String(step)}`);
    }
    return { slot, offset, bytes: Number(this.type(type).numberOfBytes), type };
  }

  private type(name: string): SolcStorageLayout['types'][string] {
    const t = this.layout.types[name];
    if (!t) throw new Error(`storage layout: unknown type ${name}`);
    return t;
  }
}

/** A mapping key as solc hashes it: a value type padded to 32 bytes (bytes32 as is, numbers and addresses left-padded). */
function keyWord(k: StorageKey): Hex {
  if (typeof k === 'string') return pad(k, { size: 32 });
  return pad(toHex(BigInt(k)), { size: 32 });
}

/** The value of `f` inside the word of its slot (packed fields share a word; the first sits at its low end). */
export function fieldValue(word: bigint, f: StorageField): bigint {
  const bits = BigInt(f.bytes * 8);
  return (word >> BigInt(f.offset * 8)) & ((1n << bits) - 1n);
}

/** A bytes32 field's value as hex. */
export function word32(v: bigint): Hex {
  return pad(toHex(v), { size: 32 });
}
