// The node a holder names: a multiaddr as typed, or the first browser-dialable address of a pasted devnet manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerAddress } from '../../web/src/address.js';

test('a pasted devnet manifest gives its first WebSockets or WebRTC-direct address', () => {
  const manifest = [
    { name: 'evm', role: 'evm', rpcUrl: 'http://127.0.2.1:8545' },
    { name: 'operator-top', peerId: '12D3KooA', p2p: ['/ip4/127.0.2.2/tcp/9000/p2p/12D3KooA'] },
    {
      name: 'validator-1',
      peerId: '12D3KooB',
      p2p: ['/ip4/127.0.2.4/tcp/9000/p2p/12D3KooB', '/ip4/127.0.2.4/tcp/9001/ws'],
    },
  ];
  assert.deepEqual(peerAddress(JSON.stringify(manifest)), {
    ok: true,
    addr: '/ip4/127.0.2.4/tcp/9001/ws/p2p/12D3KooB',
  });
  assert.deepEqual(peerAddress(' /ip4/1.2.3.4/tcp/443/wss/p2p/X '), {
    ok: true,
    addr: '/ip4/1.2.3.4/tcp/443/wss/p2p/X',
  });
  assert.equal(peerAddress(JSON.stringify(manifest.slice(0, 2))).ok, false);
  const bad = peerAddress('[nope');
  assert.equal(bad.ok === false && bad.code, 'BAD_MANIFEST');
});
