/**
 * What the holder typed as the node to dial: a multiaddr, or a devnet manifest (`.data/devnet/manifest.json`, or
 * `devnet --manifest`) pasted whole, from which the first address a browser can dial is taken. No DOM: tested in
 * Node (test/web/address.test.ts).
 */

interface ManifestNode {
  readonly peerId?: string;
  readonly p2p?: readonly string[];
}

/** Browsers dial WebSockets and WebRTC-direct only. */
export function browserDialable(addr: string): boolean {
  return /\/(ws|wss|tls\/ws)(\/|$)/.test(addr) || addr.includes('/webrtc-direct/');
}

/** The multiaddr to dial, or a typed refusal saying what is missing. */
export function peerAddress(
  input: string,
): { ok: true; addr: string } | { ok: false; code: 'NO_BROWSER_ADDRESS' | 'BAD_MANIFEST'; message: string } {
  const t = input.trim();
  if (!t.startsWith('[') && !t.startsWith('{')) return { ok: true, addr: t };
  let nodes: readonly ManifestNode[];
  try {
    const j = JSON.parse(t) as ManifestNode[] | { nodes?: ManifestNode[] };
    nodes = Array.isArray(j) ? j : (j.nodes ?? []);
  } catch (e) {
    return { ok: false, code: 'BAD_MANIFEST', message: `not a devnet manifest: ${(e as Error).message}` };
  }
  for (const n of nodes)
    for (const a of n.p2p ?? [])
      if (browserDialable(a))
        return { ok: true, addr: a.includes('/p2p/') || !n.peerId ? a : `${a}/p2p/${n.peerId}` };
  return {
    ok: false,
    code: 'NO_BROWSER_ADDRESS',
    message: 'no node in this manifest listens on WebSockets or WebRTC-direct',
  };
}
