/**
 * `evm` command: the anchor contract on an EVM chain (docs/protocol.md section 12).
 *   evm deploy --evm-rpc URL --evm-key FILE  deploys it through the CREATE2 factory (src/cli/evm-deploy.ts)
 *   evm status --evm-rpc URL --anchor-address 0x..  prints registrations, commits, slashings and settlements as JSON
 *   evm node [--fund 0x..]               the devnet's EVM service: anvil, the contract deployed, accounts funded
 */
import { Command, InvalidArgumentError } from 'commander';
import { isAddress, type Address } from 'viem';
import { anchorStatus, connect } from '../evm/client.js';
import { deployCommand } from './evm-deploy.js';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { DEFAULT_FUND_WEI, parseAddresses, startDevnode } from '../evm/devnode.js';
import { alias, ConfigError, intOption, listOption, logFormatOption, option } from '../runtime/config.js';
import { HttpApi } from '../runtime/http.js';
import { createLogger } from '../runtime/logger.js';
import { onShutdown } from '../runtime/shutdown.js';

interface DevnodeCliOptions {
  host: string;
  port: string | number;
  apiHost: string;
  apiPort: string | number;
  dataDir?: string;
  fund?: string[] | string;
  fundEth: string | number;
  blockTime: string | number;
  challengeWindow: string | number;
  logLevel: string;
}

/** `evm node`: anvil for a devnet, with a health API the devnet runner and compose poll. */
function devnodeCommand(): Command {
  return new Command('node')
    .description(
      'devnet only: run anvil, deploy the anchor contract through the CREATE2 factory, fund the given accounts',
    )
    .addOption(option('--host <address>', 'anvil JSON-RPC listen address', '127.0.0.1'))
    .addOption(option('--port <n>', 'anvil JSON-RPC port', 8545))
    .addOption(option('--api-host <address>', 'health API listen address', '127.0.0.1'))
    .addOption(option('--api-port <n>', 'health API port (GET /v1/status, /v1/health)', 8080))
    .addOption(option('--data-dir <dir>', "keep anvil's chain in <dir>/anvil-state.json across restarts"))
    .addOption(option('--fund <address...>', 'EVM accounts to fund from the dev account'))
    .addOption(option('--fund-eth <n>', 'ether each funded account holds at least', 1000))
    .addOption(option('--block-time <s>', 'seal a block every s seconds (0: only on a transaction)', 1))
    .addOption(option('--challenge-window <blocks>', "the contract's lottery challenge window", 20))
    .addOption(option('--log-level <level>', 'log level', 'info'))
    .addOption(logFormatOption())
    .action(async (o: DevnodeCliOptions) => {
      const log = createLogger(o.logLevel, 'evm');
      if (o.dataDir) await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
      const node = await startDevnode({
        host: o.host,
        port: intOption(o.port, 'port', 0, 65535),
        stateFile: o.dataDir ? join(o.dataDir, 'anvil-state.json') : undefined,
        blockTime: intOption(o.blockTime, 'block-time', 0, 3600),
        fund: parseAddresses(listOption(o.fund)),
        fundWei: BigInt(intOption(o.fundEth, 'fund-eth', 0, 1_000_000)) * (DEFAULT_FUND_WEI / 1000n),
        challengeWindow: BigInt(intOption(o.challengeWindow, 'challenge-window', 2, 2 ** 20)),
        reporterBps: 1000,
        log,
      });
      const api = new HttpApi(log.child({ component: 'api' }));
      const { pub } = await connect(node.rpcUrl);
      const status = async () => ({
        role: 'evm',
        // No peer id to tell this process from another on the same address (a second devnet): the devnet runner
        // counts a health answer only from the pid it started.
        pid: process.pid,
        peerId: '',
        peers: 0,
        chains: [],
        rpcUrl: node.rpcUrl,
        anchorAddress: node.anchorAddress,
        evmChainId: node.evmChainId,
        blockNumber: Number(await pub.getBlockNumber({ cacheTime: 0 })),
      });
      api.route('GET', '/v1/status', async () => ({ json: await status() }));
      api.route('GET', '/v1/health', async () => ({ json: await status() }));
      await api.start(o.apiHost, intOption(o.apiPort, 'api-port', 0, 65535));
      log.info({ rpcUrl: node.rpcUrl, anchorAddress: node.anchorAddress }, 'EVM devnet node up');
      onShutdown(log, async () => {
        await api.stop();
        await node.stop();
      });
    });
}

export function evmCommand(): Command {
  const evm = new Command('evm').description('the sortition anchor contract on an EVM chain');
  evm.addCommand(deployCommand());
  const address = (v: string): Address => {
    if (!isAddress(v)) throw new InvalidArgumentError('not an EVM address');
    return v;
  };
  evm
    .command('status')
    .description('print the anchor contract state as JSON')
    .addOption(option('--evm-rpc <url>', 'EVM JSON-RPC URL'))
    .addOption(option('--anchor-address <0x...>', 'the anchor contract address').argParser(address))
    // The names this command had before every command took --evm-rpc and --anchor-address.
    .addOption(alias('--rpc <url>', '--evm-rpc'))
    .addOption(alias('--address <0x...>', '--anchor-address').argParser(address))
    .action(async (o: { evmRpc?: string; anchorAddress?: Address; rpc?: string; address?: Address }) => {
      const rpc = o.evmRpc ?? o.rpc;
      const anchor = o.anchorAddress ?? o.address;
      if (!rpc) throw new ConfigError('--evm-rpc <url> (or SORTITION_EVM_RPC) is required');
      if (!anchor)
        throw new ConfigError('--anchor-address <0x...> (or SORTITION_ANCHOR_ADDRESS) is required');
      const { pub } = await connect(rpc);
      process.stdout.write(`${JSON.stringify(await anchorStatus(pub, anchor), null, 2)}\n`);
    });
  evm.addCommand(devnodeCommand());
  return evm;
}
