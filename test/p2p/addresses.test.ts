import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routableAddress } from '../../src/p2p/addresses.js';

describe('peer exchange: which address of a peer to hand out', () => {
  // What a node listening on 0.0.0.0 in a container identifies with: loopback first, then its interface.
  const container = ['/ip4/127.0.0.1/tcp/9000', '/ip4/172.18.0.5/tcp/9000', '/ip6/::1/tcp/9000'];

  it('never hands out loopback for a peer reached over the network (it would tell the asker to dial itself)', () => {
    assert.equal(routableAddress(container, '/ip4/172.18.0.5/tcp/41234'), '/ip4/172.18.0.5/tcp/9000');
    // Reached through another interface (NAT, a second network): still a routable address, never loopback.
    assert.equal(routableAddress(container, '/ip4/10.1.2.3/tcp/5555'), '/ip4/172.18.0.5/tcp/9000');
    assert.equal(routableAddress(['/ip4/127.0.0.1/tcp/9000'], '/ip4/172.18.0.5/tcp/4000'), undefined);
  });

  it('prefers the address the peer is reached on', () => {
    const two = ['/ip4/127.0.0.1/tcp/9000', '/ip4/192.168.1.10/tcp/9000', '/ip4/172.18.0.5/tcp/9000'];
    assert.equal(routableAddress(two, '/ip4/172.18.0.5/tcp/9000'), '/ip4/172.18.0.5/tcp/9000');
  });

  it('on a one-host testnet, loopback addresses are what peers dial', () => {
    assert.equal(
      routableAddress(['/ip4/127.0.2.7/tcp/9000'], '/ip4/127.0.2.7/tcp/9000'),
      '/ip4/127.0.2.7/tcp/9000',
    );
    assert.equal(routableAddress(container, '/ip4/127.0.0.1/tcp/33333'), '/ip4/127.0.0.1/tcp/9000');
  });

  it('drops unspecified, non-TCP and unparsable addresses, and the /p2p/ suffix', () => {
    assert.equal(
      routableAddress(['/ip4/0.0.0.0/tcp/9000', 'garbage', '/ip4/10.0.0.1/udp/9000'], undefined),
      undefined,
    );
    assert.equal(
      routableAddress(
        ['/dns4/validator-1/tcp/9000/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'],
        undefined,
      ),
      '/dns4/validator-1/tcp/9000',
    );
  });
});
