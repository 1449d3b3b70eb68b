/**
 * What a block explorer needs to show the deployed contracts' source as verified (Etherscan's "Standard JSON
 * input" form and API, Sourcify's `verify` from standard JSON): the exact solc standard-JSON input of the build, the
 * compiler version, each contract's fully qualified name, address and ABI-encoded constructor arguments.
 */
import type { Address, Hex } from 'viem';
import { encodeAbiParameters } from 'viem';
import { DrandBeacon } from '../gen/contracts.js';
import { drandConstructorArgs } from './drand.js';
import type { AnchorPrediction } from './deploy.js';

export interface VerifiedContract {
  readonly name: string;
  /** `source file:contract`, as in the standard-JSON input's `sources`. */
  readonly fullyQualifiedName: string;
  readonly address: Address;
  /** ABI-encoded constructor arguments, without 0x (Etherscan's form); empty for none. */
  readonly constructorArguments: string;
}

export interface VerificationBundle {
  readonly evmChainId: number;
  /** Etherscan's spelling, `v0.8.x+commit.hash`. */
  readonly compilerVersion: string;
  /** solc's own, with the build (`...Emscripten.clang`: solc-js). */
  readonly solcLongVersion: string;
  /** How both were deployed: CREATE2 through `factory` with `salt` (the factory is the `from` of each creation). */
  readonly factory: Address;
  readonly salt: Hex;
  readonly anchorId: Hex;
  readonly contracts: readonly VerifiedContract[];
  /** The solc standard-JSON input, as compiled (`jq .input` gives the file an explorer takes). */
  readonly input: unknown;
}

/** The bundle for a prediction (deployed or not: verification needs only what built it and where it lands). */
export async function verificationBundle(p: AnchorPrediction): Promise<VerificationBundle> {
  // Loaded here, not at the top: the standard-JSON input carries every source, which no node process needs.
  const { SOLC_INPUT_JSON, SOLC_LONG_VERSION } = await import('../gen/solc-input.js');
  const input = JSON.parse(SOLC_INPUT_JSON) as { sources: Record<string, unknown> };
  const fqn = (name: string): string => {
    const file = `${name}.sol`;
    if (!(file in input.sources)) throw new Error(`the standard-JSON input has no ${file}`);
    return `${file}:${name}`;
  };
  return {
    evmChainId: p.evmChainId,
    compilerVersion: `v${SOLC_LONG_VERSION.replace(/\.Emscripten\.clang$/, '')}`,
    solcLongVersion: SOLC_LONG_VERSION,
    factory: p.factory,
    salt: p.salt,
    anchorId: p.anchorId,
    contracts: [
      {
        name: 'Ed25519Verifier',
        fullyQualifiedName: fqn('Ed25519Verifier'),
        address: p.verifier,
        constructorArguments: '',
      },
      ...(p.drandInitcode && p.drandNetwork
        ? [
            {
              name: 'DrandBeacon',
              fullyQualifiedName: fqn('DrandBeacon'),
              address: p.drand,
              constructorArguments: encodeAbiParameters(
                DrandBeacon.abi.find((e) => e.type === 'constructor')!.inputs,
                drandConstructorArgs(p.drandNetwork),
              ).slice(2),
            },
          ]
        : []),
      {
        name: 'SortitionAnchor',
        fullyQualifiedName: fqn('SortitionAnchor'),
        address: p.anchor,
        constructorArguments: p.anchorConstructorArgs.slice(2),
      },
    ],
    input,
  };
}
