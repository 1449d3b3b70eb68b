import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ValidatorNode, type BlockJudge } from '../../src/node/validator.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';

/** Polls `cond` until it holds; fails with `what` after the deadline. Never a fixed sleep. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestNet {
  readonly nodes: ValidatorNode[];
  start(opts: {
    ip: string;
    bootstrap?: ValidatorNode[];
    dataDir?: string;
    genesis: GenesisRecord[];
    track: Uint8Array[];
    anchorId?: Uint8Array;
    /** The anchor has no genesis record (the EVM contract). */
    externalAnchor?: boolean;
    alertUrl?: string;
    /** What judges blocks (default: full validation). */
    judge?: BlockJudge;
    /** The watch memory bound in bytes (default: the node's). */
    maxWatchBytes?: number;
  }): Promise<ValidatorNode>;
  stop(node: ValidatorNode): Promise<void>;
  dataDirOf(node: ValidatorNode): string;
  registryOf(node: ValidatorNode): Registry;
  close(): Promise<void>;
}

export async function testNet(): Promise<TestNet> {
  const root = await mkdtemp(join(tmpdir(), 'sortition-net-'));
  const nodes: ValidatorNode[] = [];
  const dirs = new Map<ValidatorNode, string>();
  const registries = new Map<ValidatorNode, Registry>();
  let n = 0;
  return {
    nodes,
    async start(o) {
      const dataDir = o.dataDir ?? join(root, `node-${n++}`);
      const registry = new Registry();
      const node = new ValidatorNode({
        dataDir,
        listen: [`/ip4/${o.ip}/tcp/0`],
        bootstrap: (o.bootstrap ?? []).map((b) => b.multiaddrs()[0]),
        anchorId: o.anchorId,
        externalAnchor: o.externalAnchor,
        track: o.track,
        genesis: o.genesis,
        registry,
        log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', `node-${o.ip}`),
        syncIntervalMs: 1000,
        alertUrl: o.alertUrl,
        judge: o.judge,
        maxWatchBytes: o.maxWatchBytes,
      });
      await node.start();
      nodes.push(node);
      dirs.set(node, dataDir);
      registries.set(node, registry);
      return node;
    },
    async stop(node) {
      await node.stop();
      nodes.splice(nodes.indexOf(node), 1);
    },
    dataDirOf: (node) => dirs.get(node)!,
    registryOf: (node) => registries.get(node)!,
    async close() {
      await Promise.allSettled(nodes.map((x) => x.stop()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Sum of sortition_blocks_total over the series matching `labels`. */
export async function blocksCounted(node: ValidatorNode, labels: Record<string, string>): Promise<number> {
  const m = (await node.metrics.blocks.get()).values;
  const has = (v: (typeof m)[number]) =>
    Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val);
  return m.filter(has).reduce((s, v) => s + v.value, 0);
}
