import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import { isReqRespError, ReqRespError } from '../../src/p2p/errors.js';
import type { NetworkNode } from '../../src/p2p/libp2p.js';
import { metricValue } from '../../src/p2p/metrics.js';
import { readFrames, streamSource } from '../../src/p2p/reqresp/frames.js';
import { evidenceCodec, PROTOCOLS, type Status } from '../../src/p2p/reqresp/messages.js';
import { ReqRespService } from '../../src/p2p/reqresp/reqresp.js';
import { addrOf, chainId, startNode, stopAll } from './helpers.js';

function block(height: bigint, size = 100): Uint8Array {
  const b = new Uint8Array(size).fill(Number(height % 251n));
  new DataView(b.buffer).setBigUint64(0, height);
  return b;
}

function heightOf(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0);
}

const CHAIN = chainId(3);
const SERVER_STATUS: Status = {
  heads: [{ chainId: CHAIN, height: 41n, headHash: new Uint8Array(32).fill(9) }],
  // Peer exchange: the responder names some of its peers.
  peers: ['/ip4/127.0.0.9/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'],
};

async function expectReqRespError(p: Promise<unknown>, code: string): Promise<ReqRespError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isReqRespError(err), `expected ReqRespError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ReqRespError ${code}`);
}

describe('req/resp between real nodes', { timeout: 60_000 }, () => {
  const nodes: NetworkNode[] = [];
  const services: ReqRespService[] = [];
  let server: ReqRespService;
  let client: ReqRespService;
  let flooder: ReqRespService;
  let serverAddr: ReturnType<typeof multiaddr>;
  const seenStatus: Status[] = [];

  before(async () => {
    const s = await startNode('127.0.0.21', {}, nodes);
    server = new ReqRespService({
      libp2p: s.libp2p,
      limits: { maxRequestBytes: 1024, requestReadTimeoutMs: 500 },
      rateLimits: { status: { capacity: 3, refillPerSecond: 0.2 } },
      handlers: {
        status: (peerStatus) => {
          seenStatus.push(peerStatus);
          return SERVER_STATUS;
        },
        blocksByRange: async function* (req) {
          if (req.startHeight === 999n) {
            yield block(999n, 200 * 1024);
            return;
          }
          if (req.startHeight === 500n) {
            for (let h = 500n; h < 500n + BigInt(req.count); h++) yield block(h, 2 * 1024 * 1024);
            return;
          }
          if (req.startHeight > 1000n) throw new ReqRespError('RESOURCE_UNAVAILABLE', 'no such blocks');
          // Yields more than asked: the responder must cut the answer to `count`.
          for (let h = req.startHeight; h < req.startHeight + BigInt(req.count) + 5n; h++) yield block(h);
        },
        evidence: (req) => req.ids.map((id) => id),
      },
    });
    services.push(server);
    await server.start();
    serverAddr = multiaddr(addrOf(s));

    const c = await startNode('127.0.0.22', {}, nodes);
    client = new ReqRespService({
      libp2p: c.libp2p,
      limits: { maxResponseFrameBytes: 64 * 1024, requestTimeoutMs: 5_000 },
    });
    services.push(client);
    await client.start();

    const f = await startNode('127.0.0.23', {}, nodes);
    flooder = new ReqRespService({ libp2p: f.libp2p });
    services.push(flooder);
    await flooder.start();
  });

  after(async () => {
    await stopAll(services);
    await stopAll(nodes);
  });

  it('status round trip', async () => {
    const ours: Status = { heads: [{ chainId: CHAIN, height: 7n, headHash: new Uint8Array(32).fill(1) }] };
    const theirs = await client.status(serverAddr, ours);
    assert.deepEqual(theirs, SERVER_STATUS);
    assert.equal(seenStatus.length, 1);
    assert.deepEqual(seenStatus[0], ours);
  });

  it('blocks by range round trip, cut to the requested count', async () => {
    const blocks = await client.blocksByRange(serverAddr, { chainId: CHAIN, startHeight: 10n, count: 8 });
    assert.equal(blocks.length, 8);
    assert.deepEqual(
      blocks.map((b) => heightOf(b)),
      [10n, 11n, 12n, 13n, 14n, 15n, 16n, 17n],
    );
    assert.deepEqual(blocks[3], block(13n));
  });

  it('blocks of several MiB stream through (back pressure)', async () => {
    const blocks = await flooder.blocksByRange(serverAddr, { chainId: CHAIN, startHeight: 500n, count: 4 });
    assert.deepEqual(
      blocks.map((b) => [heightOf(b), b.length]),
      [500n, 501n, 502n, 503n].map((h) => [h, 2 * 1024 * 1024]),
    );
  });

  it('evidence round trip', async () => {
    const ids = [new Uint8Array(32).fill(5), new Uint8Array(32).fill(6)];
    assert.deepEqual(await client.evidence(serverAddr, { chainId: CHAIN, ids, maxCount: 0 }), ids);
  });

  it('a responder error comes back typed', async () => {
    await expectReqRespError(
      client.blocksByRange(serverAddr, { chainId: CHAIN, startHeight: 5000n, count: 1 }),
      'RESOURCE_UNAVAILABLE',
    );
  });

  it('an oversize response frame is rejected by the requester', async () => {
    await expectReqRespError(
      client.blocksByRange(serverAddr, { chainId: CHAIN, startHeight: 999n, count: 1 }),
      'FRAME_TOO_LARGE',
    );
  });

  it('an oversize request frame is rejected by the responder', async () => {
    const ids = Array.from({ length: 64 }, (_, i) => new Uint8Array(32).fill(i));
    await expectReqRespError(
      client.evidence(serverAddr, { chainId: CHAIN, ids, maxCount: 0 }),
      'INVALID_REQUEST',
    );
    assert.equal(
      await metricValue(server.metrics.requests, {
        protocol: 'evidence',
        direction: 'inbound',
        result: 'INVALID_REQUEST',
      }),
      1,
    );
  });

  it('a request frame that is never completed is answered INVALID_REQUEST when the read times out', async () => {
    const stream = await nodes[1].libp2p.dialProtocol(serverAddr, PROTOCOLS.evidence);
    const source = streamSource(stream);
    // A length prefix announcing 100 bytes, then 10 of them, and the stream left open.
    stream.send(Uint8Array.from([100, ...new Uint8Array(10).fill(7)]));
    const started = Date.now();
    const frames: Uint8Array[] = [];
    for await (const f of readFrames(source, 64 * 1024)) frames.push(f.subarray());
    assert.equal(frames.length, 1);
    const err = (() => {
      try {
        evidenceCodec.decodeResponse(frames[0], PROTOCOLS.evidence, 'server');
      } catch (e) {
        return e;
      }
    })();
    assert.ok(isReqRespError(err, 'INVALID_REQUEST'), String(err));
    assert.ok(Date.now() - started >= 400, 'answered only once the read timed out');
    assert.equal(
      await metricValue(server.metrics.requests, {
        protocol: 'evidence',
        direction: 'inbound',
        result: 'INVALID_REQUEST',
      }),
      2,
    );
  });

  it('a request flood hits the rate limit while another peer is still served', async () => {
    const results: string[] = [];
    const flood = async (): Promise<void> => {
      for (let i = 0; i < 8; i++) {
        try {
          await flooder.status(serverAddr, { heads: [] });
          results.push('ok');
        } catch (err) {
          results.push(isReqRespError(err) ? err.code : String(err));
        }
      }
    };
    // Four concurrent request loops from one peer, and meanwhile the honest peer's requests.
    const honest = (async () => {
      const answers: number[] = [];
      for (let i = 0; i < 4; i++) {
        answers.push(
          (await client.blocksByRange(serverAddr, { chainId: CHAIN, startHeight: 1n, count: 2 })).length,
        );
      }
      return answers;
    })();
    await Promise.all([flood(), flood(), flood(), flood()]);
    assert.deepEqual(await honest, [2, 2, 2, 2]);
    assert.equal(results.length, 32);
    assert.ok(results.filter((r) => r === 'ok').length <= 4, results.join(','));
    assert.ok(results.filter((r) => r === 'RATE_LIMITED').length >= 28, results.join(','));
    assert.ok((await metricValue(server.metrics.rateLimited, { protocol: 'status' })) >= 28);
    // The honest peer's own status bucket is untouched by the flood.
    assert.deepEqual(await client.status(serverAddr, { heads: [] }), SERVER_STATUS);
  });

  it('a peer that never answers times out with a typed error', async () => {
    const silent = await startNode('127.0.0.24', {}, nodes);
    const held: Array<{ abort(err: Error): void }> = [];
    await silent.libp2p.handle(PROTOCOLS.status, (stream) => {
      held.push(stream); // read nothing, answer nothing
    });
    const started = Date.now();
    await expectReqRespError(
      client.status(multiaddr(addrOf(silent)), { heads: [] }, { timeoutMs: 700 }),
      'TIMEOUT',
    );
    const took = Date.now() - started;
    assert.ok(took >= 600 && took < 5_000, `took ${took} ms`);
    for (const s of held) s.abort(new Error('test done'));
  });

  it('a protocol the peer does not serve fails typed', async () => {
    const bare = await startNode('127.0.0.25', {}, nodes);
    await expectReqRespError(client.status(multiaddr(addrOf(bare)), { heads: [] }), 'UNSUPPORTED_PROTOCOL');
  });

  it('an unreachable peer fails typed', async () => {
    const gone = await startNode('127.0.0.26', {}, nodes);
    const addr = multiaddr(addrOf(gone));
    await gone.stop();
    const err = await client.status(addr, { heads: [] }, { timeoutMs: 3_000 }).catch((e: unknown) => e);
    assert.ok(isReqRespError(err) && (err.code === 'DIAL_FAILED' || err.code === 'TIMEOUT'), String(err));
  });
});
