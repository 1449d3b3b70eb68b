/** The devnet's verdicts, shared by `sortition-node devnet --duration` and the end-to-end tests. */
import type { Devnet, NodeStatus, RunningService } from './runner.js';

/** A node's API, as the checks reach it: a devnet service or a container's published port. */
export interface NodeApi {
  readonly name: string;
  readonly apiUrl: string;
}

export interface CommonAgreement {
  readonly ok: boolean;
  /** chain id -> what was compared: the common height, each node's head, and the distinct blocks held there. */
  readonly chains: Record<string, { common: number; heads: Record<string, number>; blocks: number }>;
  /** Why not, in words (empty when ok). */
  readonly problems: string[];
}

async function json<T>(url: string): Promise<T | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return r.ok ? ((await r.json()) as T) : null;
  } catch {
    return null;
  }
}

/**
 * Agreement that holds while chains move: on every chain any of the nodes follows, each node holds the same block
 * at the highest height all of them have, and none is more than `maxLag` blocks behind the front. Comparing heads
 * instead asks every node to show one head at one instant, which a chain sealing every second and a dozen
 * processes on two loaded cores rarely allow: that measures timing, not divergence.
 */
export async function agreeAtCommonHeight(nodes: readonly NodeApi[], maxLag = 5): Promise<CommonAgreement> {
  const statuses = await Promise.all(nodes.map((n) => json<NodeStatus>(`${n.apiUrl}/v1/status`)));
  const problems = nodes.filter((_, i) => statuses[i] === null).map((n) => `${n.name} does not answer`);
  const chains: CommonAgreement['chains'] = {};
  if (problems.length) return { ok: false, chains, problems };
  const ids = new Set(statuses.flatMap((s) => s!.chains.map((c) => c.chainId)));
  for (const id of ids) {
    const holders = nodes
      .map((n, i) => ({ n, height: statuses[i]!.chains.find((c) => c.chainId === id)?.height }))
      .filter((x): x is { n: NodeApi; height: number } => x.height !== undefined);
    const heads = Object.fromEntries(holders.map((x) => [x.n.name, x.height]));
    const common = Math.min(...holders.map((x) => x.height));
    const front = Math.max(...holders.map((x) => x.height));
    for (const x of holders)
      if (front - x.height > maxLag)
        problems.push(`${x.n.name} is ${front - x.height} blocks behind on ${id.slice(0, 16)}`);
    let blocks = 0;
    if (common > 0) {
      const held = await Promise.all(
        holders.map((x) => json<{ block: string }>(`${x.n.apiUrl}/v1/chains/${id}/blocks/${common}`)),
      );
      blocks = new Set(held.map((b) => b?.block ?? 'missing')).size;
      if (held.some((b) => b === null))
        problems.push(`a node does not serve block ${common} of ${id.slice(0, 16)}`);
      else if (blocks !== 1)
        problems.push(`${blocks} different blocks at height ${common} of ${id.slice(0, 16)}`);
    }
    chains[id] = { common, heads, blocks };
  }
  return { ok: problems.length === 0, chains, problems };
}

/** Polls until the nodes agree at a common height on every chain, or the deadline passes; returns the last look. */
export async function waitForAgreement(
  nodes: RunningService[],
  timeoutMs = 60_000,
): Promise<CommonAgreement> {
  const deadline = Date.now() + timeoutMs;
  const apis = nodes.map((s) => ({ name: s.plan.name, apiUrl: s.apiUrl }));
  for (;;) {
    const last = await agreeAtCommonHeight(apis);
    if (last.ok || Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The chain a service operates, from its API. */
export async function chainOf(s: RunningService): Promise<string | undefined> {
  const r = await fetch(`${s.apiUrl}/v1/chain`).catch(() => null);
  if (!r?.ok) return undefined;
  return ((await r.json()) as { chainId?: string }).chainId;
}

/** Whether a validator shows the chain faulty and holds evidence against it. */
export async function flagged(devnet: Devnet, v: RunningService, chainId: string): Promise<boolean> {
  const st = await devnet.status(v);
  const ev = await devnet.evidence(v);
  return !!st?.chains.some((c) => c.chainId === chainId && c.faulty) && ev.some((e) => e.chainId === chainId);
}

/** Sum of sortition_blocks_total{result="accept"} for a chain on a node: blocks it took and so relayed. */
export async function acceptedBlocks(s: RunningService, chainId: string): Promise<number> {
  const text = await fetch(`${s.apiUrl}/metrics`).then((r) => r.text());
  let n = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('sortition_blocks_total{') &&
      line.includes(`chain="${chainId.slice(0, 16)}"`) &&
      line.includes('result="accept"')
    ) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return n;
}

/** A chain as GET /v1/anchor shows it (a node following the EVM anchor), read from the contract. */
export interface AnchorChain {
  readonly chainId: string;
  readonly phase: string;
  readonly depositWei: string;
  readonly slashed: boolean;
  readonly committedHeight: number;
  readonly settlement: null | { point: string; winnerKey: string; paidWei: string };
}

/** The chain in the EVM contract as `s` reads it; undefined if the node follows no EVM anchor or the chain is not there. */
export async function anchorChain(
  s: NodeApi | RunningService,
  chainId: string,
): Promise<AnchorChain | undefined> {
  const j = await json<{ chains?: AnchorChain[] }>(`${s.apiUrl}/v1/anchor`);
  return j?.chains?.find((c) => c.chainId === chainId);
}

/** Whether the chain is registered in the EVM contract (a top-level chain of an EVM-anchored devnet). */
export async function onAnchor(s: RunningService | undefined, chainId: string): Promise<boolean> {
  return !!s && (await anchorChain(s, chainId)) !== undefined;
}

/** Polls until every node shows the chain slashed in the contract, or the deadline; each node's last answer. */
export async function waitForSlashed(
  nodes: readonly RunningService[],
  chainId: string,
  timeoutMs = 60_000,
): Promise<boolean[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await Promise.all(nodes.map(async (s) => (await anchorChain(s, chainId))?.slashed === true));
    if (seen.every(Boolean) || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Polls until every node shows the chain settled in the contract, or the deadline; each node's last view. */
export async function waitForSettled(
  nodes: readonly RunningService[],
  chainId: string,
  timeoutMs = 120_000,
): Promise<(AnchorChain | undefined)[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await Promise.all(nodes.map((s) => anchorChain(s, chainId)));
    if (seen.every((c) => c?.settlement) || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
