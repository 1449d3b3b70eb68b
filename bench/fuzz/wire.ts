/**
 * Wire mutations of every message kind: a corpus of valid encodings (block, header, signed header, each
 * transaction kind, owner action, path, contract, genesis, each evidence kind, each request/response message) from
 * a real chain, each mutated (wire-mutators.ts) and handed to the decoder a peer's bytes reach. A decoder must give
 * a typed verdict; what it accepts must re-encode to exactly the bytes received; a validator (validateBlock, the
 * tracker) must not accept a block that differs from the signed one, nor verifyEvidence a forgery.
 */
import { sortition } from '../../src/gen/proto.js';
import { bytesEqual, decodeCanonical, encode } from '../../src/codec/canonical.js';
import { LIMITS } from '../../src/codec/limits.js';
import { decodeBlock, encodeBlock } from '../../src/chain/block.js';
import { verifyEvidence } from '../../src/chain/evidence.js';
import { decodeGenesis, makeGenesis } from '../../src/chain/genesis.js';
import { decodeHeader, decodeSignedHeader, encodeHeader } from '../../src/chain/header.js';
import type { ChainState } from '../../src/chain/state.js';
import { decodeAction, decodeTx, encodeAction, encodeTx } from '../../src/chain/tx.js';
import { validateBlock } from '../../src/chain/validate.js';
import { decodeContract, encodeContract } from '../../src/tree/contract.js';
import { pathFromProto } from '../../src/tree/path.js';
import { Tracker } from '../../src/light/tracker.js';
import {
  blocksByRangeCodec,
  evidenceCodec,
  genesisCodec,
  statusCodec,
} from '../../src/p2p/reqresp/messages.js';
import { EvidenceWorld } from './evidence.js';
import type { Tally } from './judge.js';
import type { Rng } from './prng.js';
import { honestBlock, newTemplate, SemanticWorld } from './semantic.js';
import { mutateWire } from './wire-mutators.js';
import { contractBytes, pathProtoBytes, signedHeaderBytes, txBytes } from './world.js';

/** What a decoder made of bytes: whether it accepted them, and their re-encoding when it did. */
interface Decoded {
  readonly reencoded: Uint8Array | null;
  /** A validator accepted a block or evidence that the corpus did not hold as is: a forgery got through. */
  readonly forged?: string;
}

interface WireKind {
  readonly name: string;
  readonly seeds: Uint8Array[];
  readonly judge: (bytes: Uint8Array, seed: Uint8Array) => Decoded;
}

const PathPb = sortition.v1.Path;
const EvPb = sortition.v1.Evidence;
const P = 'fuzz';

function corpus(rng: Rng): WireKind[] {
  const w = new SemanticWorld(rng.fork(7));
  const state: ChainState = w.state;
  const tx: Record<string, Uint8Array[]> = {};
  const actions: Uint8Array[] = [];
  const paths: Uint8Array[] = [];
  const contracts: Uint8Array[] = [];
  const genesis: Uint8Array[] = [w.genesis.bytes];
  const blocks: Uint8Array[] = [];
  const headers: Uint8Array[] = [];
  const signed: Uint8Array[] = [];
  for (let k = 0; k < 60; k++) {
    const b = honestBlock(w, newTemplate(w));
    if (!b) continue;
    blocks.push(b.bytes);
    headers.push(b.headerBytes);
    signed.push(signedHeaderBytes(b.headerBytes, b.signature));
    for (const t of b.txs) {
      const name = t.kind === 'owner' ? t.action.op.kind : t.kind;
      (tx[name] ??= []).push(txBytes(t));
      paths.push(pathProtoBytes(t.path));
      if (t.kind === 'owner') {
        actions.push(t.actionBytes);
        if (t.insertPath) paths.push(pathProtoBytes(t.insertPath));
        if (t.genesis) genesis.push(t.genesis.bytes);
        if (t.path.leaf) contracts.push(t.path.leaf.bytes);
      } else if (t.kind === 'create') contracts.push(t.leaf.bytes);
      else signed.push(signedHeaderBytes(t.headerBytes, t.signature));
    }
  }
  contracts.push(
    contractBytes({
      start: 0n,
      end: (1n << 64n) - 1n,
      owner: new Uint8Array(32).fill(3),
      nonce: (1n << 53n) - 1n,
      terms: new Uint8Array(32),
    }),
  );
  const tracker = () => {
    const t = new Tracker();
    t.track(w.genesis);
    return t;
  };
  const ew = new EvidenceWorld(rng.fork(8));
  const canon = (x: Uint8Array) => ({ reencoded: x });
  const id = new Uint8Array(32).fill(9);
  const kinds: WireKind[] = [
    {
      name: 'block',
      seeds: blocks,
      judge: (bytes, seed) => {
        const b = decodeBlock(bytes);
        const re = encodeBlock(b.signed, b.txs);
        const r = validateBlock(state, bytes);
        // Blocks that follow on from the head are judged in full; the tracker sees them from genesis (ahead).
        tracker().onBlock(w.genesis.chainId, bytes);
        return {
          reencoded: re,
          forged: r.ok && !bytesEqual(bytes, seed) ? 'validateBlock accepted a mutated block' : undefined,
        };
      },
    },
    { name: 'header', seeds: headers, judge: (b) => canon(encodeHeader(decodeHeader(b))) },
    {
      name: 'signed header',
      seeds: signed,
      judge: (b) => {
        const sh = decodeSignedHeader(b);
        return canon(signedHeaderBytes(encodeHeader(sh.header), sh.signature));
      },
    },
    ...Object.entries(tx).map(([k, seeds]) => ({
      name: `tx ${k}`,
      seeds,
      judge: (b: Uint8Array) => canon(encodeTx(decodeTx(b))),
    })),
    { name: 'owner action', seeds: actions, judge: (b) => canon(encodeAction(decodeAction(b))) },
    {
      name: 'path',
      seeds: paths,
      judge: (b) => canon(pathProtoBytes(pathFromProto(decodeCanonical(PathPb, b, LIMITS.txBytes, 'path')))),
    },
    { name: 'contract', seeds: contracts, judge: (b) => canon(encodeContract(decodeContract(b))) },
    { name: 'genesis', seeds: genesis, judge: (b) => canon(makeGenesis(decodeGenesis(b).genesis).bytes) },
    {
      name: 'evidence',
      seeds: ew.genuine.map((g) => g.bytes),
      judge: (bytes) => {
        const t = new Tracker();
        t.learn(ew.parent.genesis);
        t.learn(ew.child.genesis);
        t.onEvidence(bytes);
        verifyEvidence(bytes, ew.genesisOf);
        const forged = ew.truth(bytes)
          ? undefined
          : 'verifyEvidence accepted what the honest data does not support';
        return { reencoded: encode(EvPb, EvPb.decode(bytes)), forged };
      },
    },
    {
      name: 'status request',
      seeds: [
        statusCodec.encodeRequest({
          heads: [
            { chainId: id, height: 5n, headHash: id },
            { chainId: id, height: 0n, headHash: new Uint8Array(0) },
          ],
        }),
      ],
      judge: (b) => canon(statusCodec.encodeRequest(statusCodec.decodeRequest(b))),
    },
    {
      name: 'status response',
      seeds: [
        statusCodec.encodeResponse({
          heads: [{ chainId: id, height: (1n << 64n) - 1n, headHash: id }],
          peers: ['/ip4/127.0.0.1/tcp/1/p2p/x'],
        }),
        statusCodec.encodeError('RATE_LIMITED', 'slow down'),
      ],
      judge: (b) => canon(statusCodec.encodeResponse(statusCodec.decodeResponse(b, P, P))),
    },
    {
      name: 'blocks-by-range request',
      seeds: [blocksByRangeCodec.encodeRequest({ chainId: id, startHeight: 3n, count: 64 })],
      judge: (b) => canon(blocksByRangeCodec.encodeRequest(blocksByRangeCodec.decodeRequest(b))),
    },
    {
      name: 'blocks-by-range response',
      seeds: [
        blocksByRangeCodec.encodeResponse(blocks[0]),
        blocksByRangeCodec.encodeError('RESOURCE_UNAVAILABLE', 'gone'),
      ],
      judge: (b) => canon(blocksByRangeCodec.encodeResponse(blocksByRangeCodec.decodeResponse(b, P, P))),
    },
    {
      name: 'evidence request',
      seeds: [
        evidenceCodec.encodeRequest({ chainId: id, ids: [id, id], maxCount: 0 }),
        evidenceCodec.encodeRequest({ chainId: id, ids: [], maxCount: 7 }),
      ],
      judge: (b) => canon(evidenceCodec.encodeRequest(evidenceCodec.decodeRequest(b))),
    },
    {
      name: 'evidence response',
      seeds: [
        evidenceCodec.encodeResponse(ew.genuine[0].bytes),
        evidenceCodec.encodeError('INVALID_REQUEST', 'no'),
      ],
      judge: (b) => canon(evidenceCodec.encodeResponse(evidenceCodec.decodeResponse(b, P, P))),
    },
    {
      name: 'genesis request',
      seeds: [genesisCodec.encodeRequest({ chainIds: [id, w.genesis.chainId] })],
      judge: (b) => canon(genesisCodec.encodeRequest(genesisCodec.decodeRequest(b))),
    },
    {
      name: 'genesis response',
      seeds: [genesisCodec.encodeResponse(w.genesis.bytes), genesisCodec.encodeError('SERVER_ERROR', 'x')],
      judge: (b) => canon(genesisCodec.encodeResponse(genesisCodec.decodeResponse(b, P, P))),
    },
  ];
  return kinds.filter((k) => k.seeds.length > 0);
}

/** Runs `count` wire inputs spread evenly over the kinds (or until `deadline`); returns how many ran. */
export function wireCampaign(rng: Rng, tally: Tally, count: number, deadline: number): number {
  const kinds = corpus(rng);
  let done = 0;
  for (; done < count && performance.now() < deadline; done++) {
    const k = kinds[done % kinds.length];
    const seed = rng.pick(k.seeds);
    const bytes = mutateWire(seed, rng);
    const name = `wire ${k.name}`;
    const what = () => `${bytes.length} bytes from a ${seed.length}-byte seed`;
    const out = tally.call(name, what, () => k.judge(bytes, seed));
    tally.input(name, out.ok);
    if (!out.ok) continue;
    const d = out.value;
    if (d.reencoded && !bytesEqual(d.reencoded, bytes))
      tally.note(name, 'acceptedInvalid', `non-canonical encoding accepted: ${what()}`);
    if (d.forged) tally.note(name, 'acceptedInvalid', `${d.forged}: ${what()}`);
  }
  // Each seed itself must be accepted: a corpus the decoders refuse would test nothing past the first check.
  for (const k of count > 0 ? kinds : [])
    for (const s of k.seeds.slice(0, 3)) {
      const name = `wire ${k.name}`;
      const out = tally.call(
        name,
        () => 'seed',
        () => k.judge(s, s),
      );
      const errorFrame = !out.ok && (out.error as Error).name === 'ReqRespError';
      if (!out.ok && !out.crashed && !errorFrame)
        tally.note(
          name,
          'rejectedValid',
          `seed refused: ${String((out.error as Error).message).slice(0, 120)}`,
        );
    }
  return done;
}
