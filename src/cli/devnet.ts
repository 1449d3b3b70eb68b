/**
 * `sortition-node devnet`: the docker-compose topology as local processes on 127.0.2.x, with a live summary, an
 * optional fault scenario, and (with --duration) a verdict: exit 0 only if every honest node agrees on every
 * chain's head and, in a scenario, every honest validator flagged the fault.
 */
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { ConfigError, intOption, listOption, logFormatOption, option } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import {
  DEFAULT_SUBNET,
  loadCompose,
  planServices,
  scaleValidators,
  type ServicePlan,
} from '../devnet/compose.js';
import {
  chainOf,
  flagged,
  onAnchor,
  waitForAgreement,
  waitForSettled,
  waitForSlashed,
} from '../devnet/checks.js';
import { Devnet, type DevnetError, type RunningService } from '../devnet/runner.js';
import { checkListens, lockWorkDir, wipeWorkDir, type WorkDirLock } from '../devnet/preflight.js';
import { anvilAccount } from '../evm/anvil.js';
import { connect } from '../evm/client.js';
import { toHex } from '../crypto/hash.js';
import { readKeyFile } from '../runtime/keyfile.js';

/** How long the settle verdict waits for the payout: expiry, the challenge window (20 blocks), the timeout. */
const SETTLE_WAIT_MS = 180_000;

const SCENARIOS = {
  equivocation: 'equivocate',
  'invalid-block': 'invalid',
  'root-mismatch': 'root-mismatch',
} as const;
/** Not a fault: the top-level chain gets an expiry a few EVM blocks ahead, settles, and pays out on chain. */
const SETTLE = 'settle';
type Scenario = keyof typeof SCENARIOS | typeof SETTLE;
/** EVM blocks (anvil seals one a second) between the top chain's registration and its expiry, by default. */
const SETTLE_AFTER_BLOCKS = 30;
/** Where the settle scenario's prize goes: anvil's dev account 5 (any address would do). */
const SETTLE_PAYOUT = anvilAccount(5).address;

interface DevnetCliOptions {
  compose: string;
  workDir: string;
  manifest?: string;
  scenario?: Scenario;
  faultHeight: string | number;
  validators?: string | number;
  duration?: string | number;
  profile?: string[] | string;
  subnet: string;
  settleAfter: string | number;
  keep?: boolean;
  logLevel: string;
}

export function devnetCommand(): Command {
  return new Command('devnet')
    .description(
      'run the docker-compose.yml topology as local processes, each on its own 127.0.2.x address (see --subnet)',
    )
    .addOption(option('--compose <file>', 'compose file that defines the topology', 'docker-compose.yml'))
    .addOption(
      option(
        '--work-dir <dir>',
        'folder for data volumes and logs (wiped at start unless --keep)',
        '.data/devnet',
      ),
    )
    .addOption(
      option(
        '--manifest <file>',
        'write [{name, role, apiUrl, peerId, p2p, tokenFile}] here once every node is healthy (default: <work-dir>/manifest.json)',
      ),
    )
    .addOption(
      new Option(
        '--scenario <name>',
        'turn on a fault in the fault-target operator, or (settle) let the top-level chain expire and settle on chain',
      )
        .choices([...Object.keys(SCENARIOS), SETTLE])
        .env('SORTITION_SCENARIO'),
    )
    .addOption(option('--fault-height <h>', 'height at which the scenario misbehaves', 4))
    .addOption(option('--validators <n>', 'scale the validators to n (from the first validator service)'))
    .addOption(
      option('--duration <s>', 'stop after s seconds and check convergence (exit 0 only if it holds)'),
    )
    .addOption(option('--profile <name...>', 'compose profiles to enable'))
    .addOption(
      // Two devnets (or a devnet and the devnet tests) on one machine each take their own block.
      option(
        '--subnet <a.b.c>',
        'loopback address block for the services: <a.b.c>.1, .2, ...',
        DEFAULT_SUBNET,
      ).env('SORTITION_DEVNET_SUBNET'),
    )
    .addOption(
      // Long enough for a person to buy, watch and then ask "did I win?" (docs/holder.md); short for the verdict.
      option(
        '--settle-after <blocks>',
        "settle scenario: EVM blocks (one a second) from the top chain's registration to its expiry",
        SETTLE_AFTER_BLOCKS,
      ),
    )
    .addOption(option('--keep', 'keep the work dir from a previous run (continue its chains)'))
    .addOption(option('--log-level <level>', 'runner log level', 'info'))
    .addOption(logFormatOption())
    .action(async (o: DevnetCliOptions) => {
      process.exitCode = await runDevnet(o);
    });
}

/** Everything the options say, checked before any process starts: a bad option must not leave services behind. */
interface DevnetPlan {
  readonly plans: ServicePlan[];
  readonly overrides: Record<string, Record<string, string>>;
  readonly faultTarget: string | null;
  /** The settle scenario: the top-level operator whose chain expires and settles. */
  readonly settleTarget: string | null;
  readonly durationS: number | null;
}

function planDevnet(o: DevnetCliOptions, workDir: string): DevnetPlan {
  const durationS = o.duration === undefined ? null : intOption(o.duration, 'duration', 1);
  let services = loadCompose(o.compose);
  if (o.validators !== undefined)
    services = scaleValidators(services, intOption(o.validators, 'validators', 1, 200));
  const plans = planServices(services, { workDir, profiles: listOption(o.profile), subnet: o.subnet });
  const overrides: Record<string, Record<string, string>> = {};
  let faultTarget: string | null = null;
  let settleTarget: string | null = null;
  if (o.scenario === SETTLE) {
    const target = plans.find((p) => p.labels['sortition.slash-target'] === 'true');
    if (!target || !plans.some((p) => p.role === 'evm'))
      throw new ConfigError(
        `settle needs an evm service and a sortition.slash-target operator in ${o.compose}`,
      );
    settleTarget = target.name;
    // The operator settles its own chain: it wins where the point falls in space it never sold (nearly all of it).
    overrides[target.name] = {
      SORTITION_SETTLE_KEY: join(target.env.SORTITION_DATA_DIR ?? '', 'operator-key.json'),
      SORTITION_SETTLE_PAYOUT: SETTLE_PAYOUT,
    };
  } else if (o.scenario) {
    // Equivocation by a top-level chain's operator is what the EVM contract slashes: on a topology with one, that
    // chain (`sortition.slash-target`) equivocates, so the verdict can see the deposit slashed on chain.
    const slashTarget =
      o.scenario === 'equivocation'
        ? plans.find((p) => p.labels['sortition.slash-target'] === 'true')
        : undefined;
    const target = slashTarget ?? plans.find((p) => p.labels['sortition.fault-target'] === 'true');
    if (!target) throw new ConfigError(`no service labelled sortition.fault-target=true in ${o.compose}`);
    faultTarget = target.name;
    const h = intOption(o.faultHeight, 'fault-height', 2);
    overrides[target.name] = { SORTITION_DEVNET: 'true', SORTITION_FAULT: `${SCENARIOS[o.scenario]}@${h}` };
  }
  return { plans, overrides, faultTarget, settleTarget, durationS };
}

/** The settle scenario's expiry: a few blocks past the EVM head when the operator starts (and registers). */
async function setExpiry(devnet: Devnet, s: RunningService, afterBlocks: number): Promise<void> {
  const rpc = devnet.evmService()?.evm?.rpcUrl;
  if (!rpc) throw new ConfigError('settle: the evm service did not report its RPC');
  const { pub } = await connect(rpc);
  const head = Number(await pub.getBlockNumber({ cacheTime: 0 }));
  s.env.SORTITION_EXPIRY = String(head + afterBlocks);
}

async function runDevnet(o: DevnetCliOptions): Promise<number> {
  const log = createLogger(o.logLevel, 'devnet');
  const workDir = resolve(o.workDir);
  const { plans, overrides, faultTarget, settleTarget, durationS } = planDevnet(o, workDir);
  const settleAfter = intOption(o.settleAfter, 'settle-after', 2, 1_000_000);
  // The work dir and every address first: a second devnet must refuse before it removes or starts anything.
  let lock: WorkDirLock;
  try {
    lock = await lockWorkDir(workDir);
  } catch (e) {
    log.error({ err: (e as Error).message, code: (e as DevnetError).code }, 'devnet refused');
    return 1;
  }
  try {
    await checkListens(plans);
  } catch (e) {
    await lock.release();
    log.error({ err: (e as Error).message, code: (e as DevnetError).code }, 'devnet refused');
    return 1;
  }
  if (!o.keep) await wipeWorkDir(workDir);
  const devnet: Devnet = new Devnet({
    plans,
    workDir,
    log,
    overrides,
    prepare: async (s) => {
      if (s.plan.name === settleTarget) await setExpiry(devnet, s, settleAfter);
    },
  });
  let stopping: Promise<void> | null = null;
  const summaryTimer: { id?: NodeJS.Timeout } = {};
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(summaryTimer.id);
      log.info('stopping every service');
      await devnet.stop();
      await lock.release();
    })();
    return stopping;
  };
  const onSignal = () => void stopAll().then(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ended = new AbortController();
  try {
    // A failure while starting: start() throws, or a service that was up dies while others are still starting.
    const failed = await Promise.race([
      devnet.start().then(
        () => null,
        (e: unknown) => e as Error,
      ),
      devnet.failure,
    ]);
    if (failed) {
      log.error({ err: failed.message, code: (failed as DevnetError).code }, 'devnet failed to start');
      return 1;
    }
    // From here a service that dies stops the devnet: no restart policy, no `down` for ever in the summary.
    const died = devnet.failure.then((e) => {
      log.error({ err: e.message, code: e.code }, 'a service died: stopping the devnet');
      return 1;
    });
    const manifest = o.manifest ?? join(workDir, 'manifest.json');
    await devnet.writeManifest(manifest);
    log.info({ manifest }, 'manifest written: `sortition-node run --join <manifest>` adds a validator');
    log.info({ services: plans.length, workDir, scenario: o.scenario ?? null }, 'devnet up');
    const summary = new Summary(devnet, faultTarget);
    // The first table at once: a user waits for it, not for the first tick.
    void summary.print();
    summaryTimer.id = setInterval(() => void summary.print(), process.stdout.isTTY ? 2000 : 10_000);
    if (durationS === null) return await died;
    const run = async () => {
      await sleep(durationS * 1000, undefined, { signal: ended.signal });
      clearInterval(summaryTimer.id);
      const ok = await verdict(devnet, faultTarget, log);
      return ok && (!settleTarget || (await settleVerdict(devnet, settleTarget, log))) ? 0 : 1;
    };
    return await Promise.race([run().catch(() => 1), died]);
  } finally {
    ended.abort();
    // Whatever ended the run (a verdict, a failed start, an error thrown on the way), no service outlives it.
    await stopAll();
  }
}

/** Every honest node agrees on every chain's head; in a scenario every honest validator flagged the fault. */
async function verdict(
  devnet: Devnet,
  faultTarget: string | null,
  log: ReturnType<typeof createLogger>,
): Promise<boolean> {
  for (const s of devnet.services.filter((x) => x.plan.role === 'client')) await devnet.kill(s.plan.name);
  const honest = devnet.nodes().filter((s) => s.plan.name !== faultTarget);
  const agreed = await waitForAgreement(honest);
  log.info(
    { agreed: agreed.ok, chains: agreed.chains, problems: agreed.problems },
    agreed.ok
      ? 'honest nodes hold the same block at a common height on every chain'
      : 'honest nodes DISAGREE',
  );
  if (!faultTarget) return agreed.ok;
  const faultChain = await chainOf(devnet.service(faultTarget));
  const validators = honest.filter((s) => s.plan.role === 'validator');
  const flags = faultChain ? await Promise.all(validators.map((v) => flagged(devnet, v, faultChain))) : [];
  const all = flags.length === validators.length && flags.every(Boolean);
  log.info(
    { chain: faultChain, flagged: flags.filter(Boolean).length, validators: validators.length },
    all ? 'every honest validator flagged the fault' : 'some validators did NOT flag the fault',
  );
  if (!faultChain || !devnet.evmService() || !(await onAnchor(validators[0], faultChain)))
    return agreed.ok && all;
  // A chain registered in the EVM contract: its equivocation must have cost the operator its deposit there.
  const slashed = await waitForSlashed(validators, faultChain);
  log.info(
    { chain: faultChain, slashed: slashed.filter(Boolean).length, validators: validators.length },
    slashed.every(Boolean)
      ? 'the contract slashed the faulty chain (GET /v1/anchor on every honest validator)'
      : 'the contract did NOT slash the faulty chain',
  );
  return agreed.ok && all && slashed.every(Boolean);
}

/**
 * The settle scenario's verdict: the top-level chain settled in the contract, and its prize (the deposit less the
 * safety share) went to the operator's key and the configured payout address, as every validator reads it.
 */
async function settleVerdict(
  devnet: Devnet,
  target: string,
  log: ReturnType<typeof createLogger>,
): Promise<boolean> {
  const chain = await chainOf(devnet.service(target));
  const validators = devnet.nodes().filter((s) => s.plan.role === 'validator');
  if (!chain) return false;
  const op = devnet.service(target);
  const key = (await readKeyFile(op.env.SORTITION_SETTLE_KEY!)).publicKey;
  const safetyBps = BigInt(op.env.SORTITION_SAFETY_BPS ?? '5000');
  const paid = await waitForSettled(validators, chain, SETTLE_WAIT_MS);
  // The prize is the deposit less the operator's safety share (returned to it, not paid to the winner). The
  // contract zeroes a settled chain's deposit, so the deposit is the one configured (gwei), not the one read.
  const deposit = BigInt(op.env.SORTITION_DEPOSIT ?? '0') * 10n ** 9n;
  const ok = paid.every((c) => {
    if (!c?.settlement) return false;
    return (
      c.phase === 'settled' &&
      c.settlement.winnerKey === toHex(key) &&
      BigInt(c.settlement.paidWei) === deposit - (deposit * safetyBps) / 10_000n
    );
  });
  log.info(
    { chain, settlement: paid[0]?.settlement ?? null, payout: SETTLE_PAYOUT, validators: validators.length },
    ok
      ? 'the chain settled on chain: its prize was paid out (GET /v1/anchor on every validator)'
      : 'the chain did NOT settle and pay out',
  );
  return ok;
}

/** The live table: per node its heights per chain, peers, flags. */
class Summary {
  private names = new Map<string, string>();
  constructor(
    private readonly devnet: Devnet,
    private readonly faultTarget: string | null,
  ) {}

  async print(): Promise<void> {
    const rows: string[] = [];
    for (const s of this.devnet.nodes()) {
      const st = await this.devnet.status(s);
      if (!st) {
        rows.push(`${s.plan.name.padEnd(16)} ${s.plan.role.padEnd(9)} ${'down'.padEnd(6)}`);
        continue;
      }
      const chains = st.chains
        .map((c) => {
          const n = this.names.get(c.chainId) ?? (c as { name?: string }).name ?? c.chainId.slice(0, 8);
          this.names.set(c.chainId, n);
          return `${n}@${c.height}${c.anchoredHeight ? `/a${c.anchoredHeight}` : ''}${c.faulty ? '!FAULTY' : ''}`;
        })
        .join(' ');
      const mark = s.plan.name === this.faultTarget ? ' (faulty by design)' : '';
      rows.push(
        `${s.plan.name.padEnd(16)} ${s.plan.role.padEnd(9)} peers=${String(st.peers).padEnd(3)} ${chains}${mark}`,
      );
    }
    const text = `devnet ${new Date().toISOString()}  (name@height/aANCHORED)\n${rows.join('\n')}\n`;
    if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H' + text);
    else process.stdout.write(text);
  }
}
