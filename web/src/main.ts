/**
 * The holder's page: follows a chain and its ancestors from a node it dials, has every block judged in a Web
 * Worker, keeps the holder's contract proofs current, and remembers them in IndexedDB. The address bar holds the
 * view (`#chain=<id>&peer=<multiaddr>&watch=<start>`, watch repeatable), so a link opens it on another device.
 */
import { JudgeClient } from './judge-client.js';
import type { JudgeView, WatchRecord } from './judge.js';
import { peerAddress } from './address.js';
import { BrowserPeer } from './network.js';
import { PageStore } from './store.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const judge = new JudgeClient(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
let store: PageStore;
let peer: BrowserPeer | null = null;
let followed: string[] = [];
/** The chain the holder asked for (the others are its ancestors). */
let chain = '';
const syncing = new Set<string>();
const again = new Set<string>();
const saved = new Map<string, string>();

interface Hash {
  chain: string;
  peer: string;
  watch: string[];
}

function readHash(): Hash {
  const q = new URLSearchParams(location.hash.slice(1));
  return { chain: q.get('chain') ?? '', peer: q.get('peer') ?? '', watch: q.getAll('watch') };
}

function writeHash(watches: readonly WatchRecord[]): void {
  const q = new URLSearchParams();
  if (chain) q.set('chain', chain);
  const p = ($('peer') as HTMLInputElement).value.trim();
  if (p) q.set('peer', p);
  for (const w of watches) if (w.chainId === chain) q.append('watch', w.start);
  const h = `#${q.toString()}`;
  if (location.hash !== h) history.replaceState(null, '', h);
}

function say(text: string, state: string): void {
  const el = $('state');
  el.textContent = text;
  el.dataset.state = state;
}

/** A node serving this page names its own addresses: the first a browser can dial is the default peer. */
async function servedBy(): Promise<{ peer: string; chain: string } | null> {
  try {
    const r = await fetch('v1/status');
    if (!r.ok) return null;
    const s = (await r.json()) as { peerId: string; listen: string[]; chains: { chainId: string }[] };
    const ws = s.listen.find((a) => /\/(ws|wss|tls\/ws)(\/|$)/.test(a));
    return {
      peer: ws ? (ws.includes('/p2p/') ? ws : `${ws}/p2p/${s.peerId}`) : '',
      chain: s.chains[0]?.chainId ?? '',
    };
  } catch {
    return null;
  }
}

async function follow(chainId: string, addr: string): Promise<void> {
  if (peer) await peer.stop();
  chain = chainId;
  followed = [];
  say('Connecting…', 'connecting');
  peer = await BrowserPeer.connect(addr, {
    block: (id, bytes) => judge.block(id, bytes).finally(scheduleRender),
    evidence: (bytes) => judge.evidence(bytes).finally(scheduleRender),
    behind: (id) => void sync(id),
  });
  // The chain and every ancestor up to the anchor: a chain is only as safe as the chains it is committed into.
  let next: string | null = chainId;
  while (next && followed.length < 64) {
    const [g] = await peer.genesis([next]);
    if (!g) break; // an anchor outside libp2p (the EVM contract) has no genesis record to follow
    const r = await judge.follow(next, g);
    followed.push(next);
    next = r.parent;
  }
  if (followed.length === 0) throw new Error('the node does not know this chain');
  await store.setLastView({ chain: chainId, peer: addr });
  for (const w of await store.watches()) if (followed.includes(w.chainId)) await rewatch(w);
  for (const id of followed) peer.subscribe(id);
  peer.subscribeEvidence();
  // What the node already proved against these chains (a reload judges the chain anew from its blocks, which
  // alone cannot show a second block signed at a height).
  for (const id of followed)
    for (const ev of await peer.evidence(id).catch(() => [])) await judge.evidence(ev);
  say('Catching up…', 'syncing');
  // Ancestors first: a child's commit is checked against blocks the parent has already judged.
  for (const id of [...followed].reverse()) await sync(id);
  say('Following', 'following');
  await render();
}

/** Backfills a chain from its judged height to the peer's head; a call during one runs it again after. */
async function sync(id: string): Promise<void> {
  if (syncing.has(id)) {
    again.add(id);
    return;
  }
  syncing.add(id);
  try {
    do {
      again.delete(id);
      for (;;) {
        const from = (await judge.height(id)) + 1;
        const blocks = await peer!.blocks(id, from);
        for (const b of blocks)
          for (const ev of (await judge.block(id, b)).evidence ?? []) peer!.publishEvidence(ev);
        scheduleRender();
        if (blocks.length === 0) break;
      }
    } while (again.has(id));
  } catch (e) {
    say(`Could not fetch blocks: ${(e as Error).message}`, 'error');
  } finally {
    syncing.delete(id);
  }
}

async function rewatch(w: WatchRecord): Promise<void> {
  if (w.status === 'superseded' || w.status === 'closed') {
    // An ended watch is history: shown as it ended, not followed.
    ended.set(`${w.chainId}:${w.start}`, w);
    return;
  }
  await judge.watch(w.chainId, w.path, w.height);
}
const ended = new Map<string, WatchRecord>();

/** A receipt: the operator's contract answer (`proof.path`, `proof.height`) or an exported watch (`path`). */
function parseReceipt(text: string): { chainId: string; path: string; height: number } {
  const j = JSON.parse(text) as {
    chainId?: string;
    path?: string;
    height?: number;
    proof?: { path?: string; height?: number } | null;
  };
  const path = j.proof?.path ?? j.path;
  const height = j.proof?.height ?? j.height;
  if (typeof j.chainId !== 'string' || typeof path !== 'string' || typeof height !== 'number')
    throw new Error('this receipt has no proof yet: wait for the contract to be in a block');
  return { chainId: j.chainId, path, height };
}

async function addReceipt(text: string): Promise<string> {
  let r: ReturnType<typeof parseReceipt>;
  try {
    r = parseReceipt(text);
  } catch (e) {
    return `That is not a receipt: ${(e as Error).message}`;
  }
  if (!followed.includes(r.chainId)) return 'That contract is on a chain this page does not follow.';
  const v = await judge.watch(r.chainId, r.path, r.height);
  if (!v.ok) return `Not added: ${v.message}`;
  await store.putWatch(v.watch);
  await render();
  return 'Added. This page keeps its proof up to date.';
}

let renderTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleRender(): void {
  renderTimer ??= setTimeout(() => {
    renderTimer = undefined;
    void render();
  }, 150);
}

const fmt = (n: string): string => BigInt(n).toLocaleString('en');

function watchCard(w: WatchRecord): HTMLElement {
  const el = document.createElement('div');
  el.dataset.start = w.start;
  el.dataset.chain = w.chainId;
  el.dataset.status = w.status;
  el.dataset.height = String(w.height);
  el.dataset.path = w.path;
  const words = {
    current: [`Your proof is up to date (block ${w.height}).`, 'ok'],
    waiting: [`Waiting for this page to reach block ${w.height}.`, 'warn'],
    superseded: [
      `Transferred or changed at block ${w.ended?.height ?? '?'}: this proof no longer counts.`,
      'warn',
    ],
    closed: [`Closed at block ${w.ended?.height ?? '?'}.`, 'warn'],
  } as const;
  const [text, tone] = words[w.status];
  el.className = `card watch ${tone}`;
  el.innerHTML = `<div class="big">Positions ${fmt(w.start)} to ${fmt(w.end)}</div><div class="said"></div>`;
  el.querySelector('.said')!.textContent = text;
  if (w.drawn) {
    // After expiry: the lottery's answer, in the holder's words.
    el.dataset.point = w.drawn.point;
    el.dataset.won = String(w.drawn.won);
    const p = document.createElement('div');
    p.className = 'big won';
    p.textContent = w.drawn.won
      ? `Did I win? Yes: the drawn position ${fmt(w.drawn.point)} is in this contract.`
      : `Did I win? No: the drawn position was ${fmt(w.drawn.point)}.`;
    el.append(p);
  }
  return el;
}

async function render(): Promise<void> {
  const v: JudgeView = await judge.view();
  const names = new Map(v.chains.map((c) => [c.chainId, c.name]));
  const box = $('chains');
  box.replaceChildren(
    ...v.chains
      .filter((c) => followed.includes(c.chainId))
      .sort((a, b) => followed.indexOf(a.chainId) - followed.indexOf(b.chainId))
      .map((c) => {
        const el = document.createElement('div');
        el.className = `card chain ${c.faulty ? 'bad' : 'ok'}`;
        Object.assign(el.dataset, {
          chain: c.chainId,
          height: String(c.height),
          anchored: String(c.anchoredHeight),
          faulty: String(c.faulty),
        });
        const role = c.chainId === chain ? 'Your chain' : 'Holds your chain';
        el.innerHTML = '<div class="big"></div><div></div><div class="quiet"></div>';
        const [title, line, note] = [...el.children] as HTMLElement[];
        title.textContent = `${role}: ${c.name || 'unnamed'}`;
        line.textContent =
          c.parentId === null
            ? `Checked up to block ${c.height}. This chain is the anchor everything is committed into.`
            : `Checked up to block ${c.height}; anchored up to block ${c.anchoredHeight}.`;
        note.textContent = c.faulty
          ? 'The operator broke the rules: do not trust new blocks from it.'
          : 'No problem found.';
        return el;
      }),
  );
  const problems = $('problems');
  problems.replaceChildren(
    ...v.evidence.map((e) => {
      const el = document.createElement('div');
      el.className = 'card problem bad';
      el.dataset.kind = e.kind;
      const what =
        e.kind === 'equivocation' ? 'signed two different blocks at one height' : `made a ${e.kind} fault`;
      el.textContent = `Proof of cheating: the operator of ${names.get(e.chainId) || 'a chain'} ${what}.`;
      return el;
    }),
  );
  const all = [...v.watches, ...[...ended.values()].filter((e) => !v.watches.some((w) => same(w, e)))];
  for (const w of v.watches) {
    const key = `${w.chainId}:${w.start}`;
    const s = JSON.stringify(w);
    if (saved.get(key) === s || w.status === 'waiting') continue;
    saved.set(key, s);
    const before = ended.get(key);
    if (w.status !== 'current' && !before) notify(w);
    await store.putWatch(w);
  }
  $('watches').replaceChildren(...(all.length ? all.map(watchCard) : [quiet('None yet.')]));
  writeHash(all);
  document.body.dataset.crypto = v.crypto;
}

const same = (a: WatchRecord, b: WatchRecord) => a.chainId === b.chainId && a.start === b.start;

function quiet(text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'quiet';
  p.textContent = text;
  return p;
}

function notify(w: WatchRecord): void {
  const text = `Your contract at ${fmt(w.start)} was ${w.status === 'closed' ? 'closed' : 'transferred or changed'}.`;
  if ('Notification' in window && Notification.permission === 'granted') new Notification(text);
}

async function main(): Promise<void> {
  store = await PageStore.open();
  const h = readHash();
  const last = await store.lastView();
  const served = h.chain && h.peer ? null : await servedBy();
  const c = h.chain || last?.chain || served?.chain || '';
  const p = h.peer || last?.peer || served?.peer || '';
  ($('chain') as HTMLInputElement).value = c;
  ($('peer') as HTMLInputElement).value = p;
  $('follow').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = ($('chain') as HTMLInputElement).value.trim().toLowerCase();
    const p = peerAddress(($('peer') as HTMLInputElement).value);
    if (!p.ok) return say(p.message, 'error');
    ($('peer') as HTMLInputElement).value = p.addr;
    follow(id, p.addr).catch((e: unknown) => say(`Could not follow: ${(e as Error).message}`, 'error'));
  });
  $('add').addEventListener('submit', (ev) => {
    ev.preventDefault();
    // Asked on the holder's click (browsers allow it only then): a change to a contract is worth a notification.
    if ('Notification' in window && Notification.permission === 'default')
      void Notification.requestPermission();
    const text = ($('receipt') as HTMLTextAreaElement).value;
    addReceipt(text)
      .then((m) => ($('add-result').textContent = m))
      .catch((e: unknown) => ($('add-result').textContent = `Not added: ${(e as Error).message}`));
  });
  if (!c || !p) return;
  try {
    await follow(c, p);
  } catch (e) {
    say(`Could not follow: ${(e as Error).message}`, 'error');
    return;
  }
  // Watches named in the link but not kept here: their receipt from the node serving this page (an operator).
  const kept = new Set((await store.watches()).map((w) => `${w.chainId}:${w.start}`));
  for (const start of h.watch) {
    if (kept.has(`${c}:${start}`)) continue;
    const r = await fetch(`v1/contracts/${encodeURIComponent(start)}`).catch(() => null);
    if (r?.ok) $('add-result').textContent = await addReceipt(await r.text());
  }
}

void main();
