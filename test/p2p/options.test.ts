import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_MESSAGE_SIZE, resolveNetworkOptions, silentLogger } from '../../src/p2p/options.js';
import { DEFAULT_SCORE_THRESHOLDS } from '../../src/p2p/scoring.js';

describe('network node options', () => {
  it('fill in the defaults', () => {
    const o = resolveNetworkOptions({ listen: [] });
    assert.equal(o.log, silentLogger);
    assert.equal(o.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
    assert.deepEqual(o.gossip, {
      floodPublish: true,
      D: 6,
      Dlo: 4,
      Dhi: 12,
      Dlazy: 6,
      heartbeatIntervalMs: 700,
      seenTtlMs: 120_000,
      maxTopicsPerPeer: 4096,
    });
    assert.deepEqual(o.connections, {
      maxConnections: 200,
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 64,
      dialTimeoutMs: 10_000,
      maxStoredPeers: 1024,
    });
    assert.deepEqual(o.redial, {
      initialDelayMs: 250,
      maxDelayMs: 30_000,
      checkIntervalMs: 5_000,
      dialTimeoutMs: 10_000,
    });
    assert.equal(o.scoring.disconnectThreshold, DEFAULT_SCORE_THRESHOLDS.graylistThreshold);
    assert.equal(o.scoring.banDurationMs, 600_000);
    assert.deepEqual(o.scoreParams.topics, {});
  });

  it('take what is given, the disconnect threshold following a given graylist threshold', () => {
    const o = resolveNetworkOptions({
      listen: [],
      gossip: { D: 8 },
      connections: { dialTimeoutMs: 3000 },
      scoring: { thresholds: { graylistThreshold: -50 } },
    });
    assert.equal(o.gossip.D, 8);
    assert.equal(o.gossip.Dlo, 4);
    assert.equal(o.redial.dialTimeoutMs, 3000);
    assert.equal(o.scoring.disconnectThreshold, -50);
  });

  it('refuse sizes that are not positive integers', () => {
    assert.throws(() => resolveNetworkOptions({ listen: [], maxMessageSize: 0 }), RangeError);
    assert.throws(() => resolveNetworkOptions({ listen: [], maxMessageSize: 1.5 }), RangeError);
    assert.throws(
      () => resolveNetworkOptions({ listen: [], connections: { maxStoredPeers: 0 } }),
      RangeError,
    );
  });
});
