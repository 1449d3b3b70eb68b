// Shared inputs of the sortition tests: the rusk provisioners and JSON documents for the `draw` front-end.

import { ABC, EVM_POOL_ADDRESS, TEST_SEED } from './keep-vectors.js';

/**
 * rusk consensus/tests/sortition.rs generate_provisioners, secret keys sks[1..=4]; these are their BLS public
 * keys (G2 generator * sk, sk read little-endian as dusk-bls12_381 BlsScalar::from_bytes, compressed).
 */
export const PUBKEYS = [
  '8cae8f7f3f80932052b0fd71174108a1b8a3ede4f7e81d80d01b4a4ee6e61bd54aa51a30946b621bd495a6ccceaf328d0d5ca39ed840c6a3ae949baa6fae07a8e26143c3b8074e31db751cbe529b61942a7a40bd19a1eeba73bfa0b9af363790',
  'a544eda6b6fcf92fe5ef6b96eb6a307643dd3066e9185a506f0ce72b3dcc651a45e46431521b6958b6ba629770c93c8d08c6fbd75a118b4dbc632053716aac819bd1b81730e11b7a8800547c9152bf219980a870c97ad8bb1459517e0af3e4d9',
  'b117a56ede5714c8448c958c1179675bb179f3e9ba2d4f4570923ca6d9a7fb178c0c9a126b27bc23c0b38b70c55577a20b76f8a78abe193f9c55e2356fded1b30c5da409b8317e673a6d462bfed8f43ad4e2e5702da59a2e0c60ecefe40326fe',
  '933c3093541feb2f221102fea8aec9314b72617646cf8cbdd79090dcc3939dd629957fbb8ff50b6c6668b81d75897ae007f847216aec99dc17cac0789bf0816b734f718234b8f29cbe2c24c58e15f9202ddb981828e3a6d8a55fc80b48a52adc',
];

export function committeeInput(): Record<string, unknown> {
  return {
    seed: '03'.repeat(48),
    round: '7777',
    step: 8,
    credits: 45,
    unit: '1000000000',
    provisioners: PUBKEYS.map((pubkey, i) => ({
      pubkey,
      stake: String(BigInt(i + 1) * 1000n * 1000000000n),
    })),
  };
}

export function groupInput(): Record<string, unknown> {
  return {
    seed: TEST_SEED,
    size: 3,
    unique: false,
    poolAddress: EVM_POOL_ADDRESS,
    operators: [
      { id: 70, weight: ABC.operators[0].weight },
      { id: 90, weight: ABC.operators[1].weight },
      { id: 40, weight: ABC.operators[2].weight },
    ],
  };
}
