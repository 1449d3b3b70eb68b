/**
 * Which of a peer's addresses to hand to other peers in peer exchange. A node listening on 0.0.0.0 identifies
 * with every interface's address, loopback first; handing out 127.0.0.1 tells the asker to dial itself. The address
 * we reach the peer on is the best evidence of what is routable, so it ranks first, then other routable addresses;
 * loopback addresses only when the peer is itself reached over loopback (a local testnet on one host).
 */
import { multiaddr } from '@multiformats/multiaddr';

/** A multiaddr string such as `/ip4/10.0.0.5/tcp/9000` or `/dns4/node-1/tcp/9000/p2p/12D3...`. */
export type MultiaddrString = string;

interface Parsed {
  readonly addr: MultiaddrString;
  readonly host: string;
  readonly kind: 'ip4' | 'ip6' | 'dns';
  readonly tcp: boolean;
}

function parse(a: MultiaddrString): Parsed | null {
  try {
    const parts = multiaddr(a).getComponents();
    const first = parts[0];
    const kind =
      first?.name === 'ip4'
        ? 'ip4'
        : first?.name === 'ip6'
          ? 'ip6'
          : first?.name?.startsWith('dns')
            ? 'dns'
            : null;
    if (!kind || first.value === undefined) return null;
    return { addr: a, host: first.value, kind, tcp: parts.some((p) => p.name === 'tcp') };
  } catch {
    return null;
  }
}

function isUnspecified(p: Parsed): boolean {
  return (
    (p.kind === 'ip4' && p.host === '0.0.0.0') || (p.kind === 'ip6' && (p.host === '::' || p.host === '::0'))
  );
}

function isLoopback(p: Parsed): boolean {
  return (
    (p.kind === 'ip4' && p.host.startsWith('127.')) ||
    (p.kind === 'ip6' && p.host === '::1') ||
    p.host === 'localhost'
  );
}

/**
 * The address to give out for a peer: from its identified listen addresses (`/p2p/` suffix dropped), given the
 * remote address of our connection to it. Undefined when none is dialable by a third party.
 */
export function routableAddress(
  listen: readonly MultiaddrString[],
  remote: MultiaddrString | undefined,
): MultiaddrString | undefined {
  const via = remote ? parse(remote) : null;
  const viaLoopback = via !== null && isLoopback(via);
  const usable = listen
    .map(parse)
    .filter((p): p is Parsed => p !== null && p.tcp && !isUnspecified(p) && (viaLoopback || !isLoopback(p)));
  const best =
    (via && usable.find((p) => p.host === via.host)) ?? usable.find((p) => !isLoopback(p)) ?? usable[0];
  return best?.addr.split('/p2p/')[0];
}
