import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { makeGenesis, type GenesisRecord } from '../../src/chain/genesis.js';
import type { BlockVersion } from '../../src/chain/block.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { signAction, type OwnerOp, type SignedAction } from '../../src/chain/tx.js';
import type { Leaf } from '../../src/tree/contract.js';

export const SPACE = 1n << 40n;

export interface TestChain {
  readonly key: KeyPair;
  readonly genesis: GenesisRecord;
  readonly producer: ChainProducer;
}

/** Block version 2 (the producer's default) unless a test is about version 1's per-transaction paths. */
export function anchorChain(version: BlockVersion = 2): TestChain {
  const key = generateKeyPair();
  const genesis = makeGenesis({
    operatorKey: key.publicKey,
    spaceStart: 0n,
    spaceEnd: (1n << 64n) - 1n,
    parentChain: new Uint8Array(0),
    parentContract: 0n,
    expiry: 0,
    amount: 0n,
    name: 'anchor',
    salt: new Uint8Array(0),
  });
  return { key, genesis, producer: new ChainProducer(genesis, key.secretKey, undefined, { version }) };
}

/** A chain living in the contract [start, end) of `parent`. */
export function childChain(
  parent: GenesisRecord,
  start: bigint,
  end: bigint,
  name = 'child',
  version: BlockVersion = 2,
): TestChain {
  const key = generateKeyPair();
  const genesis = makeGenesis({
    operatorKey: key.publicKey,
    spaceStart: start,
    spaceEnd: end,
    parentChain: parent.chainId,
    parentContract: start,
    expiry: 100,
    amount: end - start,
    name,
    salt: new Uint8Array(0),
  });
  return { key, genesis, producer: new ChainProducer(genesis, key.secretKey, undefined, { version }) };
}

/** What a contract owner's wallet signs for an operation on `leaf` in `chain`. */
export function act(chain: GenesisRecord, leaf: Leaf, owner: KeyPair, op: OwnerOp): SignedAction {
  return signAction(
    { chainId: chain.chainId, contractHash: leaf.digest, nonce: leaf.contract.nonce + 1, op },
    owner.secretKey,
  );
}

/** An anchor with one top-level chain, and the options a validator following the top chain starts with. */
export function anchorAndTop(): {
  anchor: TestChain;
  top: TestChain;
  follow: { genesis: GenesisRecord[]; track: Uint8Array[]; anchorId: Uint8Array };
} {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE, 'top');
  return {
    anchor,
    top,
    follow: {
      genesis: [anchor.genesis, top.genesis],
      track: [top.genesis.chainId],
      anchorId: anchor.genesis.chainId,
    },
  };
}
