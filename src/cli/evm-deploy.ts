/**
 * `evm deploy`: the anchor and its Ed25519 verifier through the CREATE2 factory (src/evm/deploy.ts), so where they
 * land and the anchor id are known first. `--dry-run` says what would be sent and what it would cost; on any chain
 * but the devnet's, unsafe parameters are refused unless `--unsafe`; each deployment writes the bundle a block
 * explorer verifies the source from.
 */
import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatEther, type Address } from 'viem';
import { DEVNET_DEPLOY, DEVNET_EVM_CHAIN_ID, PUBLIC_DEPLOY } from '../evm/anchor.js';
import { connect, walletFor } from '../evm/client.js';
import { CREATE2_FACTORY, hasCode, installFactory } from '../evm/create2.js';
import {
  defaultParams,
  deployAnchorCreate2,
  parseSalt,
  planAnchor,
  predictAnchor,
  type AnchorPlan,
} from '../evm/deploy.js';
import { checkDeployParams, measureBlockSeconds, type AnchorParams } from '../evm/deploy-params.js';
import { verificationBundle } from '../evm/verification.js';
import { alias, ConfigError, envless, option } from '../runtime/config.js';

interface DeployCliOptions {
  evmRpc?: string;
  /** The old name of --evm-rpc. */
  rpc?: string;
  evmKey?: string;
  evmPasswordFile?: string;
  salt: string;
  challengeWindow?: bigint;
  finality?: bigint;
  claimBond?: bigint;
  reporterBps?: bigint;
  dryRun?: boolean;
  unsafe?: boolean;
  installFactory?: boolean;
  verification?: string;
  printVerification?: boolean;
}

function wholeNumber(name: string) {
  return (v: string): bigint => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name}: a whole number`);
    return BigInt(v.trim());
  };
}

/**
 * An option with no SORTITION_* variable: only the key, its password and the endpoint come from the environment, so
 * a stray variable can neither loosen a check (`--unsafe`) nor move the contract (`--salt`, the parameters).
 */
function flag(flags: string, description: string, defaultValue?: string): Option {
  return envless(
    flags,
    description,
    'a stray variable must not loosen a check or move the contract unseen',
    defaultValue,
  );
}

function warn(message: string): void {
  process.stderr.write(`sortition-node: warning: ${message}\n`);
}

export function deployCommand(): Command {
  return (
    new Command('deploy')
      .description(
        "deploy the anchor contract, its Ed25519 verifier and its drand verifier (quicknet; the devnet's own " +
          "signer on the devnet's chain id) through the CREATE2 factory " +
          `(${CREATE2_FACTORY}); prints what it did as JSON and writes a source-verification bundle. ` +
          'The addresses follow from the parameters and the salt alone: deploying again finds them there.',
      )
      .addOption(option('--evm-rpc <url>', 'EVM JSON-RPC URL'))
      .addOption(alias('--rpc <url>', '--evm-rpc'))
      .addOption(
        option(
          '--evm-key <file>',
          'the deployer: a file holding its 0x hex private key (chmod 600), or an encrypted JSON keystore ' +
            '(geth/ethers/cast format, with --evm-password-file). A 0x key given here itself works but is ' +
            'visible to every user of the machine. Not needed with --dry-run',
        ),
      )
      .addOption(option('--evm-password-file <file>', "a file holding the keystore's password"))
      .addOption(
        flag(
          '--salt <salt>',
          'CREATE2 salt: 0x and 64 hex digits, or a text of at most 32 bytes; another salt gives other addresses',
          'sortition-anchor/v1',
        ),
      )
      .addOption(
        flag(
          '--challenge-window <blocks>',
          `blocks a lottery claim stays open to challenge (the contract takes 2..${2 ** 20}; default ` +
            `${DEVNET_DEPLOY.challengeWindow} on the devnet's chain id ${DEVNET_EVM_CHAIN_ID}, elsewhere 7 days of ` +
            `the chain's blocks: ${PUBLIC_DEPLOY.challengeWindow} at 12 s; at least a day elsewhere)`,
        ).argParser(wholeNumber('challenge window')),
      )
      .addOption(
        flag(
          '--finality <blocks>',
          `blocks kept free of commits before expiry and before the beacon block (0..128; default ` +
            `${DEVNET_DEPLOY.finality} on the devnet, ${PUBLIC_DEPLOY.finality} elsewhere; at least 32 elsewhere)`,
        ).argParser(wholeNumber('finality')),
      )
      .addOption(
        flag(
          '--claim-bond <wei>',
          `wei locked with every standing claim (default ${DEVNET_DEPLOY.claimBond} on the devnet, ` +
            `${PUBLIC_DEPLOY.claimBond} elsewhere; 10^16..10^20 elsewhere)`,
        ).argParser(wholeNumber('claim bond')),
      )
      .addOption(
        flag(
          '--reporter-bps <bps>',
          `share of a slashed safety deposit paid to the reporter (0..5000; default ${DEVNET_DEPLOY.reporterBps}; ` +
            'at least 100 elsewhere)',
        ).argParser(wholeNumber('reporter share')),
      )
      .addOption(
        flag(
          '--dry-run',
          'send nothing: print the chain id, the addresses, the anchor id, the parameters, the gas and its cost ' +
            'at current fees, and whether it is deployed already',
        ),
      )
      .addOption(
        flag(
          '--unsafe',
          `deploy parameters outside the safe ranges on a chain other than the devnet's (${DEVNET_EVM_CHAIN_ID}), ` +
            'with a warning',
        ),
      )
      .addOption(
        flag(
          '--install-factory',
          'on a chain without the CREATE2 factory, deploy it first (its presigned transaction; 0.01 ether to its ' +
            'one-time sender)',
        ),
      )
      .addOption(
        flag(
          '--verification <file>',
          'where to write the verification bundle (default: sortition-anchor-<chain id>-<address>.verification.json ' +
            'here; with --dry-run, only when given)',
        ),
      )
      .addOption(flag('--print-verification', 'put the verification bundle in the JSON output instead'))
      // A 0x key given inline is warned about by the program (cli/key-warning.ts), like every command's keys.
      .action(async (o: DeployCliOptions) => {
        const rpc = o.evmRpc ?? o.rpc;
        if (!rpc) throw new ConfigError('--evm-rpc <url> (or SORTITION_EVM_RPC) is required');
        if (!o.dryRun && !o.evmKey)
          throw new ConfigError('--evm-key <file> (or SORTITION_EVM_KEY) is required to deploy');
        const salt = parseSalt(o.salt);
        const keyOpts = {
          password: o.evmPasswordFile ? readPassword(o.evmPasswordFile) : undefined,
          warn,
        };
        const { pub, wallet, account } = o.evmKey
          ? await walletFor(rpc, o.evmKey, keyOpts)
          : { ...(await connect(rpc)), wallet: undefined, account: undefined };
        const evmChainId = await pub.getChainId();
        const blockSeconds = evmChainId === DEVNET_EVM_CHAIN_ID ? undefined : await measureBlockSeconds(pub);
        const defaults = defaultParams(evmChainId, blockSeconds);
        const params: AnchorParams = {
          challengeWindow: o.challengeWindow ?? defaults.challengeWindow,
          reporterBps: Number(o.reporterBps ?? BigInt(defaults.reporterBps)),
          finality: o.finality ?? defaults.finality,
          claimBond: o.claimBond ?? defaults.claimBond,
        };
        const { warnings } = checkDeployParams(evmChainId, params, { unsafe: o.unsafe, blockSeconds });
        for (const w of warnings) warn(`--unsafe: ${w}`);
        const prediction = predictAnchor(evmChainId, params, salt);

        const factoryPresent = await hasCode(pub, CREATE2_FACTORY);
        if (!factoryPresent && o.installFactory && !o.dryRun) await installFactory(wallet!, pub);
        let plan: AnchorPlan | undefined;
        if (factoryPresent || !o.dryRun) plan = await planAnchor(pub, prediction, account?.address);

        const common = {
          evmChainId,
          address: prediction.anchor,
          anchorId: prediction.anchorId,
          verifier: prediction.verifier,
          drand: prediction.drandNetwork
            ? { network: prediction.drandNetwork.name, address: prediction.drand }
            : null,
          factory: prediction.factory,
          salt,
          challengeWindow: params.challengeWindow.toString(),
          finality: params.finality.toString(),
          claimBond: params.claimBond.toString(),
          reporterBps: params.reporterBps,
          ...(blockSeconds === undefined ? {} : { blockSeconds }),
          ...(warnings.length ? { warnings } : {}),
        };
        const verification = (): ReturnType<typeof verificationOutput> =>
          verificationOutput(o, evmChainId, prediction.anchor, !o.dryRun, () =>
            verificationBundle(prediction),
          );

        if (o.dryRun) {
          const balance = account ? await pub.getBalance({ address: account.address }) : undefined;
          print({
            dryRun: true,
            ...common,
            factoryPresent,
            ...(factoryPresent
              ? {}
              : { note: `no CREATE2 factory on this chain: deploying needs --install-factory first` }),
            alreadyDeployed: plan ? plan.anchor.deployed : false,
            verifierDeployed: plan ? plan.verifier.deployed : false,
            gas: plan
              ? {
                  verifier: plan.verifier.gas.toString(),
                  drand: plan.drand?.gas.toString() ?? '0',
                  anchor: plan.anchor.gas.toString(),
                  total: plan.gas.toString(),
                }
              : null,
            feePerGasWei: plan?.feePerGas.toString() ?? null,
            costWei: plan?.costWei.toString() ?? null,
            costEther: plan ? formatEther(plan.costWei) : null,
            ...(account && balance !== undefined
              ? {
                  deployer: account.address,
                  deployerBalanceWei: balance.toString(),
                  enoughFunds: plan ? balance >= plan.costWei : null,
                }
              : {}),
            ...(await verification()),
          });
          return;
        }

        const d = await deployAnchorCreate2(wallet!, pub, prediction, plan);
        if (!d.anchorSent)
          process.stderr.write(`sortition-node: the anchor is deployed already at ${prediction.anchor}\n`);
        print({
          ...common,
          deployer: account!.address,
          alreadyDeployed: !d.anchorSent,
          verifierSent: d.verifierSent,
          anchorSent: d.anchorSent,
          block: d.blockNumber?.toString() ?? null,
          gasUsed: d.gasUsed.toString(),
          transactions: d.transactions,
          ...(await verification()),
        });
      })
  );
}

function readPassword(file: string): string {
  try {
    // Only the trailing newline an editor adds: a password may end in spaces.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new ConfigError(`--evm-password-file: ${(e as Error).message}`);
  }
}

/** Writes the bundle (and says where), or returns it for the output; nothing in a dry run unless asked. */
async function verificationOutput(
  o: DeployCliOptions,
  evmChainId: number,
  anchor: Address,
  byDefault: boolean,
  bundle: () => Promise<unknown>,
): Promise<{ verification?: unknown; verificationFile?: string }> {
  if (o.printVerification) return { verification: await bundle() };
  if (!o.verification && !byDefault) return {};
  const file = resolve(o.verification ?? `sortition-anchor-${evmChainId}-${anchor}.verification.json`);
  await writeFile(file, `${JSON.stringify(await bundle(), null, 2)}\n`);
  return { verificationFile: file };
}

function print(out: object): void {
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
