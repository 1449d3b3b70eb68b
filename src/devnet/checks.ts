/** The devnet's verdicts, shared by `sortition-node devnet --duration` and the end-to-end tests. */
import { agreement, type Agreement, type Devnet, type NodeStatus, type RunningService } from './runner.js';

/** Polls until every given node answers and all agree on every chain's head, or the deadline passes. */
export async function waitForAgreement(
  devnet: Devnet,
  nodes: RunningService[],
  timeoutMs = 60_000,
): Promise<Agreement> {
  const deadline = Date.now() + timeoutMs;
  let last: Agreement = { ok: false, heads: {} };
  while (Date.now() < deadline) {
    const st = (await Promise.all(nodes.map((s) => devnet.status(s)))).filter(
      (x): x is NodeStatus => x !== null,
    );
    last = agreement(st);
    if (st.length === nodes.length && last.ok) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
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
