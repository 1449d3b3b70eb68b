// Keeps a node connected to its bootstrap peers: dials each with exponential backoff until connected, and starts
// again whenever the node has no connection left.
import { peerIdFromString } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { BanList } from './banlist.js';
import type { NetworkLibp2p } from './services.js';
import type { P2pLogger, RedialOptions } from './options.js';

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function peerIdOf(addr: Multiaddr): string | undefined {
  return addr.getComponents().find((c) => c.name === 'p2p')?.value;
}

interface BootstrapTarget {
  addr: Multiaddr;
  peerId: string | undefined;
  running: boolean;
}

/** Dials bootstrap peers with backoff until connected; redials when the node has no connection left. */
export class BootstrapDialer {
  readonly #libp2p: NetworkLibp2p;
  #targets: BootstrapTarget[];
  readonly #opts: Required<RedialOptions> & { dialTimeoutMs: number };
  readonly #bans: BanList;
  readonly #log: P2pLogger;
  #controller: AbortController | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;
  readonly #tasks = new Set<Promise<void>>();

  constructor(
    libp2p: NetworkLibp2p,
    addrs: Multiaddr[],
    opts: Required<RedialOptions> & { dialTimeoutMs: number },
    bans: BanList,
    log: P2pLogger,
  ) {
    this.#libp2p = libp2p;
    const self = libp2p.peerId.toString();
    this.#targets = addrs
      .filter((addr) => peerIdOf(addr) !== self)
      .map((addr) => ({ addr, peerId: peerIdOf(addr), running: false }));
    this.#opts = opts;
    this.#bans = bans;
    this.#log = log;
  }

  readonly #onDisconnect = (): void => {
    if (this.#libp2p.getConnections().length === 0) this.kick();
  };

  /**
   * More peers to keep dialing like bootstrap peers: those a peer store on disk remembered (peer-memory.ts). Call
   * before `start`; the dialer then starts even with no bootstrap list.
   */
  add(addrs: Multiaddr[]): void {
    const self = this.#libp2p.peerId.toString();
    const known = new Set(this.#targets.map((t) => t.peerId));
    for (const addr of addrs) {
      const peerId = peerIdOf(addr);
      if (peerId === self || (peerId !== undefined && known.has(peerId))) continue;
      this.#targets.push({ addr, peerId, running: false });
    }
  }

  /** Peer ids named in the bootstrap addresses. */
  peerIds(): string[] {
    return this.#targets.flatMap((t) => (t.peerId === undefined ? [] : [t.peerId]));
  }

  start(): void {
    if (this.#targets.length === 0 || this.#controller !== undefined) return;
    this.#controller = new AbortController();
    this.#libp2p.addEventListener('peer:disconnect', this.#onDisconnect);
    this.#interval = setInterval(() => {
      if (this.#libp2p.getConnections().length === 0) this.kick();
    }, this.#opts.checkIntervalMs);
    this.#interval.unref?.();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#controller?.abort();
    this.#controller = undefined;
    this.#libp2p.removeEventListener('peer:disconnect', this.#onDisconnect);
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    await Promise.allSettled([...this.#tasks]);
  }

  /** Starts a dial loop for every bootstrap peer that is not connected and has no loop running. */
  kick(): void {
    const signal = this.#controller?.signal;
    if (signal === undefined || signal.aborted) return;
    for (const target of this.#targets) {
      if (target.running || this.#isConnected(target)) continue;
      const task = this.#run(target, signal).finally(() => this.#tasks.delete(task));
      this.#tasks.add(task);
    }
  }

  #isConnected(target: BootstrapTarget): boolean {
    if (target.peerId === undefined) return false;
    return this.#libp2p.getConnections(peerIdFromString(target.peerId)).length > 0;
  }

  async #run(target: BootstrapTarget, signal: AbortSignal): Promise<void> {
    target.running = true;
    let delay = this.#opts.initialDelayMs;
    try {
      while (!signal.aborted && !this.#isConnected(target)) {
        if (target.peerId === undefined || !this.#bans.isBanned(target.peerId)) {
          try {
            const conn = await this.#libp2p.dial(target.addr, {
              signal: AbortSignal.any([signal, AbortSignal.timeout(this.#opts.dialTimeoutMs)]),
            });
            target.peerId = conn.remotePeer.toString();
            this.#log.info(
              { peer: target.peerId, addr: target.addr.toString() },
              'connected to bootstrap peer',
            );
            return;
          } catch (err) {
            if (signal.aborted) return;
            this.#log.debug(
              { addr: target.addr.toString(), err: (err as Error).message, retryInMs: delay },
              'bootstrap dial failed',
            );
          }
        }
        // +-20 % jitter so that restarted testnets do not dial in lockstep.
        await abortableSleep(delay * (0.8 + Math.random() * 0.4), signal);
        // Back off only after real dial failures: while the peer is banned, keep checking at the first delay so
        // the dial happens as soon as the ban ends.
        if (target.peerId === undefined || !this.#bans.isBanned(target.peerId)) {
          delay = Math.min(delay * 2, this.#opts.maxDelayMs);
        }
      }
    } finally {
      target.running = false;
    }
  }
}
