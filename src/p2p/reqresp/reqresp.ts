// Request/response over libp2p streams: status, blocks by range, evidence.
//
// One stream per request. The requester sends one length-prefixed request frame and closes its writable
// end; the responder answers with zero or more response frames and closes. A frame with `error` set ends
// the response with that error (see proto/p2p.proto). Both sides enforce limits:
// - requester: whole exchange within `requestTimeoutMs` (dial included), each response frame at most
//   `maxResponseFrameBytes`, at most min(asked, maxResponseItems) items and `maxResponseBytes` in total;
// - responder: a request frame of at most `maxRequestBytes`, read within `requestReadTimeoutMs`, the whole
//   answer within `respondTimeoutMs`, a token bucket per peer and protocol (over it: a `RATE_LIMITED` error
//   frame, counted in reqresp_rate_limited_total), answers truncated to the same item / byte limits.
// The data comes from handlers passed in by the runtime; a protocol without a handler is not served.
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { Registry } from 'prom-client';
import { ReqRespError, type ReqRespErrorCode } from '../errors.js';
import { silentLogger, type P2pLogger } from '../options.js';
import type { NetworkLibp2p } from '../services.js';
import { createReqRespMetrics, type ReqRespMetrics } from '../metrics.js';
import { isFrameTooLarge, isUnexpectedEof, readFrames, streamSource, writeFrames } from './frames.js';
import {
  blocksByRangeCodec,
  DecodeError,
  evidenceCodec,
  evidenceRequestLimit,
  genesisCodec,
  type GenesisRequest,
  PROTOCOLS,
  RESPONDER_CODES,
  statusCodec,
  type BlocksByRangeRequest,
  type EvidenceRequest,
  type ProtocolName,
  type Status,
} from './messages.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';

/** Items a handler yields: encoded blocks or evidence (opaque bytes). */
export type ItemSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Responders, provided by the runtime. A handler may throw ReqRespError('RESOURCE_UNAVAILABLE' |
 * 'INVALID_REQUEST', message) to answer with that code; any other throw answers 'SERVER_ERROR'. `signal`
 * aborts when the exchange times out or the requester goes away.
 */
export interface ReqRespHandlers {
  /** Receives the requester's status, returns ours. */
  status?: (peerStatus: Status, peer: PeerId, signal: AbortSignal) => Status | Promise<Status>;
  /** Yields encoded blocks start_height, start_height+1, ... (fewer is fine; extra items are dropped). */
  blocksByRange?: (req: BlocksByRangeRequest, peer: PeerId, signal: AbortSignal) => ItemSource;
  /** Yields encoded evidence. */
  evidence?: (req: EvidenceRequest, peer: PeerId, signal: AbortSignal) => ItemSource;
  /** Yields the encoded genesis records it knows among those asked for. */
  genesis?: (req: GenesisRequest, peer: PeerId, signal: AbortSignal) => ItemSource;
}

export interface ReqRespLimits {
  /** Largest request frame accepted (default 16 KiB). */
  maxRequestBytes: number;
  /** Largest response frame, both sent and accepted (default 10 MiB + 1 KiB: a maximal block plus framing). */
  maxResponseFrameBytes: number;
  /** Most items in one response (default 64). */
  maxResponseItems: number;
  /** Most bytes in one response, all frames (default 64 MiB). */
  maxResponseBytes: number;
  /** Requester: whole exchange including the dial (default 10 s). */
  requestTimeoutMs: number;
  /** Responder: time to receive the request frame (default 5 s). */
  requestReadTimeoutMs: number;
  /** Responder: whole exchange (default 30 s). */
  respondTimeoutMs: number;
  /** Concurrent inbound streams per connection and protocol (default 16). */
  maxInboundStreams: number;
  /** Concurrent outbound streams per connection and protocol (default 16). */
  maxOutboundStreams: number;
}

export const DEFAULT_REQRESP_LIMITS: Readonly<ReqRespLimits> = Object.freeze({
  maxRequestBytes: 16 * 1024,
  maxResponseFrameBytes: 10 * 1024 * 1024 + 1024,
  maxResponseItems: 64,
  maxResponseBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 10_000,
  requestReadTimeoutMs: 5_000,
  respondTimeoutMs: 30_000,
  maxInboundStreams: 16,
  maxOutboundStreams: 16,
});

export const DEFAULT_RATE_LIMITS: Readonly<Record<ProtocolName, RateLimit>> = Object.freeze({
  // A node following N chains sends ceil(N / 64) status pages to a peer it has not swept yet, then 4 a poll
  // (src/node/sync.ts): 32 covers 2,048 chains at once, 2/s the steady polls.
  status: { capacity: 32, refillPerSecond: 2 },
  // A request fetches one chain's blocks, so a node catching up on N chains sends at least N of them: 1,000 chains
  // took 190 s at 5/s. Each answer stays bounded (64 blocks, 64 MiB, 16 streams at once per connection).
  blocksByRange: { capacity: 200, refillPerSecond: 50 },
  evidence: { capacity: 20, refillPerSecond: 2 },
  genesis: { capacity: 20, refillPerSecond: 2 },
});

export interface ReqRespServiceOptions {
  libp2p: NetworkLibp2p;
  handlers?: ReqRespHandlers;
  limits?: Partial<ReqRespLimits>;
  /** Per protocol; `null` disables the limit for that protocol. */
  rateLimits?: Partial<Record<ProtocolName, RateLimit | null>>;
  metrics?: ReqRespMetrics;
  registry?: Registry;
  logger?: P2pLogger;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Overrides limits.requestTimeoutMs for this request. */
  timeoutMs?: number;
}

export type PeerTarget = PeerId | Multiaddr;

interface ResponderDef<Req> {
  name: ProtocolName;
  decodeRequest(bytes: Uint8Array): Req;
  encodeError(code: ReqRespErrorCode, message: string): Uint8Array;
  /** Encoded response frames. */
  respond(req: Req, peer: PeerId, signal: AbortSignal): AsyncIterable<Uint8Array>;
}

class Timeout extends Error {
  override readonly name = 'Timeout';
}

class Stopped extends Error {
  override readonly name = 'Stopped';
}

export class ReqRespService {
  readonly metrics: ReqRespMetrics;
  readonly limits: Readonly<ReqRespLimits>;
  readonly #libp2p: NetworkLibp2p;
  readonly #handlers: ReqRespHandlers;
  readonly #limiter: RateLimiter;
  readonly #log: P2pLogger;
  readonly #inflight = new Set<Promise<void>>();
  readonly #registered: string[] = [];
  #stop = new AbortController();
  #pruneTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;

  constructor(opts: ReqRespServiceOptions) {
    this.#libp2p = opts.libp2p;
    this.#handlers = opts.handlers ?? {};
    this.limits = Object.freeze({ ...DEFAULT_REQRESP_LIMITS, ...opts.limits });
    const rl = new Map<string, RateLimit>();
    for (const name of Object.keys(PROTOCOLS) as ProtocolName[]) {
      const limit = opts.rateLimits?.[name] === undefined ? DEFAULT_RATE_LIMITS[name] : opts.rateLimits[name];
      if (limit !== null) rl.set(PROTOCOLS[name], limit);
    }
    this.#limiter = new RateLimiter(rl);
    this.metrics = opts.metrics ?? createReqRespMetrics(opts.registry ?? new Registry());
    this.#log = opts.logger ?? silentLogger;
  }

  get isStarted(): boolean {
    return this.#started;
  }

  /** Registers the stream handlers of the protocols that have a handler. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#stop = new AbortController();
    const defs: Array<ResponderDef<never>> = [];
    const h = this.#handlers;
    if (h.status) defs.push(this.#statusResponder(h.status) as ResponderDef<never>);
    if (h.blocksByRange) defs.push(this.#blocksResponder(h.blocksByRange) as ResponderDef<never>);
    if (h.evidence) defs.push(this.#evidenceResponder(h.evidence) as ResponderDef<never>);
    if (h.genesis) defs.push(this.#genesisResponder(h.genesis) as ResponderDef<never>);
    for (const def of defs) {
      const protocol = PROTOCOLS[def.name];
      await this.#libp2p.handle(
        protocol,
        (stream, connection) => this.#track(this.#serve(def, stream, connection)),
        {
          maxInboundStreams: this.limits.maxInboundStreams,
          maxOutboundStreams: this.limits.maxOutboundStreams,
        },
      );
      this.#registered.push(protocol);
    }
    this.#pruneTimer = setInterval(() => this.#limiter.prune(), 60_000);
    // A Node timer must not hold the process open; a browser's timer is a number and needs nothing.
    const t: unknown = this.#pruneTimer;
    if (typeof t === 'object' && t !== null && 'unref' in t && typeof t.unref === 'function') t.unref();
  }

  /** Unregisters the handlers and aborts exchanges in progress (both directions). */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#stop.abort(new Stopped('reqresp service stopped'));
    if (this.#pruneTimer !== undefined) clearInterval(this.#pruneTimer);
    if (this.#registered.length > 0) {
      await this.#libp2p.unhandle(this.#registered.splice(0)).catch(() => {});
    }
    await Promise.allSettled([...this.#inflight]);
  }

  // -------------------------------------------------------------------------------------------------------
  // Requester side

  /** Sends our status, returns the peer's. */
  async status(peer: PeerTarget, ours: Status, opts: RequestOptions = {}): Promise<Status> {
    const protocol = PROTOCOLS.status;
    let result: Status | undefined;
    await this.#request(peer, 'status', statusCodec.encodeRequest(ours), opts, (frame, peerStr) => {
      if (result !== undefined)
        throw new ReqRespError('INVALID_RESPONSE', 'more than one status frame', { protocol, peer: peerStr });
      result = statusCodec.decodeResponse(frame, protocol, peerStr);
    });
    if (result === undefined)
      throw new ReqRespError('INVALID_RESPONSE', 'empty status response', { protocol });
    return result;
  }

  /** Encoded blocks startHeight.. in order; possibly fewer than `count`, never more. */
  async blocksByRange(
    peer: PeerTarget,
    req: BlocksByRangeRequest,
    opts: RequestOptions = {},
  ): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(req.count) || req.count < 1)
      throw new RangeError('count must be a positive integer');
    const protocol = PROTOCOLS.blocksByRange;
    return this.#requestItems(
      peer,
      'blocksByRange',
      blocksByRangeCodec.encodeRequest(req),
      req.count,
      opts,
      (f, p) => blocksByRangeCodec.decodeResponse(f, protocol, p),
    );
  }

  /** Encoded evidence items. */
  async evidence(peer: PeerTarget, req: EvidenceRequest, opts: RequestOptions = {}): Promise<Uint8Array[]> {
    const protocol = PROTOCOLS.evidence;
    return this.#requestItems(
      peer,
      'evidence',
      evidenceCodec.encodeRequest(req),
      evidenceRequestLimit(req),
      opts,
      (f, p) => evidenceCodec.decodeResponse(f, protocol, p),
    );
  }

  /** Encoded genesis records the peer knows among those asked for (the caller checks their hashes). */
  async genesis(peer: PeerTarget, req: GenesisRequest, opts: RequestOptions = {}): Promise<Uint8Array[]> {
    const protocol = PROTOCOLS.genesis;
    return this.#requestItems(
      peer,
      'genesis',
      genesisCodec.encodeRequest(req),
      req.chainIds.length,
      opts,
      (f, p) => genesisCodec.decodeResponse(f, protocol, p),
    );
  }

  async #requestItems(
    peer: PeerTarget,
    name: ProtocolName,
    request: Uint8Array,
    asked: number,
    opts: RequestOptions,
    decode: (frame: Uint8Array, peer: string) => Uint8Array,
  ): Promise<Uint8Array[]> {
    const protocol = PROTOCOLS[name];
    const maxItems = Math.min(asked, this.limits.maxResponseItems);
    const items: Uint8Array[] = [];
    let total = 0;
    await this.#request(peer, name, request, opts, (frame, peerStr) => {
      total += frame.length;
      if (total > this.limits.maxResponseBytes) {
        throw new ReqRespError('RESPONSE_TOO_LARGE', `response over ${this.limits.maxResponseBytes} bytes`, {
          protocol,
          peer: peerStr,
        });
      }
      const item = decode(frame, peerStr);
      if (items.length >= maxItems) {
        throw new ReqRespError('TOO_MANY_ITEMS', `more than ${maxItems} items`, { protocol, peer: peerStr });
      }
      items.push(item);
    });
    return items;
  }

  /** One exchange: dial, send the request frame, feed every response frame to `onFrame`. */
  async #request(
    target: PeerTarget,
    name: ProtocolName,
    request: Uint8Array,
    opts: RequestOptions,
    onFrame: (frame: Uint8Array, peer: string) => void,
  ): Promise<void> {
    const protocol = PROTOCOLS[name];
    if (!this.#started) throw new ReqRespError('ABORTED', 'reqresp service is not started', { protocol });
    const timeoutMs = opts.timeoutMs ?? this.limits.requestTimeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Timeout(`no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const signals = [timeout.signal, this.#stop.signal];
    if (opts.signal) signals.push(opts.signal);
    const signal = AbortSignal.any(signals);
    const end = this.metrics.requestSeconds.startTimer({ protocol: name, direction: 'outbound' });
    const peerStr = peerOfTarget(target);
    let stream: Stream | undefined;
    let result = 'OK';
    try {
      try {
        stream = await this.#libp2p.dialProtocol(target, protocol, { signal });
      } catch (err) {
        throw this.#outboundError(err, signal, protocol, peerStr, 'dial');
      }
      const s = stream;
      const onAbort = (): void =>
        s.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        // Listen before writing, so no part of the answer can be missed.
        const source = streamSource(s, signal);
        await writeFrames(s, [request], { maxDataLength: this.limits.maxRequestBytes, signal });
        await s.close({ signal });
        for await (const frame of readFrames(source, this.limits.maxResponseFrameBytes)) {
          try {
            onFrame(frame.subarray(), peerStr);
          } catch (err) {
            if (err instanceof DecodeError) {
              throw new ReqRespError('INVALID_RESPONSE', err.message, {
                protocol,
                peer: peerStr,
                cause: err,
              });
            }
            throw err;
          }
        }
        signal.throwIfAborted();
      } catch (err) {
        const e = this.#outboundError(err, signal, protocol, peerStr, 'stream');
        s.abort(e);
        throw e;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      result = err instanceof ReqRespError ? err.code : 'error';
      throw err;
    } finally {
      clearTimeout(timer);
      end();
      this.metrics.requests.inc({ protocol: name, direction: 'outbound', result });
    }
  }

  #outboundError(
    err: unknown,
    signal: AbortSignal,
    protocol: string,
    peer: string,
    phase: 'dial' | 'stream',
  ): ReqRespError {
    if (err instanceof ReqRespError) return err;
    const reason: unknown = signal.aborted ? signal.reason : undefined;
    if (reason instanceof Timeout)
      return new ReqRespError('TIMEOUT', reason.message, { protocol, peer, cause: err });
    if (signal.aborted) return new ReqRespError('ABORTED', 'request aborted', { protocol, peer, cause: err });
    if (isFrameTooLarge(err)) {
      return new ReqRespError(
        'FRAME_TOO_LARGE',
        `response frame over ${this.limits.maxResponseFrameBytes} bytes`,
        { protocol, peer, cause: err },
      );
    }
    const name = (err as { name?: unknown } | null)?.name;
    if (phase === 'dial') {
      if (name === 'UnsupportedProtocolError') {
        return new ReqRespError('UNSUPPORTED_PROTOCOL', `peer does not serve ${protocol}`, {
          protocol,
          peer,
          cause: err,
        });
      }
      return new ReqRespError('DIAL_FAILED', (err as Error)?.message ?? 'dial failed', {
        protocol,
        peer,
        cause: err,
      });
    }
    if (isUnexpectedEof(err))
      return new ReqRespError('STREAM_CLOSED', 'response ended inside a frame', {
        protocol,
        peer,
        cause: err,
      });
    return new ReqRespError('STREAM_CLOSED', (err as Error)?.message ?? 'stream failed', {
      protocol,
      peer,
      cause: err,
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Responder side

  #track(p: Promise<void>): void {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  async #serve<Req>(def: ResponderDef<Req>, stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer;
    const peerStr = peer.toString();
    const protocol = PROTOCOLS[def.name];
    const end = this.metrics.requestSeconds.startTimer({ protocol: def.name, direction: 'inbound' });
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Timeout('respond timeout')),
      this.limits.respondTimeoutMs,
    );
    const signal = AbortSignal.any([timeout.signal, this.#stop.signal]);
    const onAbort = (): void =>
      stream.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    let result = 'OK';
    try {
      if (!this.#limiter.tryConsume(protocol, peerStr)) {
        this.metrics.rateLimited.inc({ protocol: def.name });
        throw new ReqRespError('RATE_LIMITED', 'rate limit exceeded', { protocol, peer: peerStr });
      }
      const req = await this.#readRequest(def, stream, signal);
      await writeFrames(stream, def.respond(req, peer, signal), {
        maxDataLength: this.limits.maxResponseFrameBytes,
        signal,
      });
      await stream.close({ signal });
    } catch (err) {
      let code: ReqRespErrorCode;
      let message: string;
      if (err instanceof ReqRespError && RESPONDER_CODES.has(err.code)) {
        code = err.code;
        message = err.message;
      } else if (isFrameTooLarge(err)) {
        code = 'SERVER_ERROR';
        message = 'response item too large';
      } else {
        code = 'SERVER_ERROR';
        message = 'internal error';
      }
      const gone = stream.status !== 'open' || stream.writeStatus !== 'writable';
      result = signal.aborted
        ? timeout.signal.aborted
          ? 'TIMEOUT'
          : 'ABORTED'
        : gone
          ? 'STREAM_CLOSED'
          : code;
      if (code === 'SERVER_ERROR' && !signal.aborted && !gone) {
        this.#log.warn({ protocol, peer: peerStr, err: String(err) }, 'reqresp responder failed');
      }
      if (!signal.aborted && !gone) {
        try {
          await writeFrames(stream, [def.encodeError(code, message)], {
            maxDataLength: this.limits.maxResponseFrameBytes,
            signal,
          });
          await stream.close({ signal });
        } catch (e) {
          stream.abort(e instanceof Error ? e : new Error(String(e)));
        }
      } else {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      end();
      this.metrics.requests.inc({ protocol: def.name, direction: 'inbound', result });
    }
  }

  async #readRequest<Req>(def: ResponderDef<Req>, stream: Stream, signal: AbortSignal): Promise<Req> {
    const protocol = PROTOCOLS[def.name];
    const readTimer = AbortSignal.timeout(this.limits.requestReadTimeoutMs);
    const readTimeout = AbortSignal.any([signal, readTimer]);
    const frames = readFrames(streamSource(stream, readTimeout), this.limits.maxRequestBytes);
    let frame: Uint8Array;
    try {
      const first = await frames.next();
      if (first.done === true) throw new ReqRespError('INVALID_REQUEST', 'no request frame', { protocol });
      frame = first.value.subarray();
    } catch (err) {
      if (err instanceof ReqRespError) throw err;
      if (isFrameTooLarge(err)) {
        throw new ReqRespError('INVALID_REQUEST', `request frame over ${this.limits.maxRequestBytes} bytes`, {
          protocol,
        });
      }
      if (isUnexpectedEof(err))
        throw new ReqRespError('INVALID_REQUEST', 'truncated request frame', { protocol });
      // The requester's fault (it sent too little, or nothing), not ours.
      if (readTimer.aborted && !signal.aborted) {
        throw new ReqRespError(
          'INVALID_REQUEST',
          `no complete request frame within ${this.limits.requestReadTimeoutMs} ms`,
          { protocol },
        );
      }
      throw err;
    } finally {
      await frames.return(undefined).catch(() => {});
    }
    try {
      return def.decodeRequest(frame);
    } catch (err) {
      throw new ReqRespError('INVALID_REQUEST', (err as Error).message, { protocol });
    }
  }

  #statusResponder(handler: NonNullable<ReqRespHandlers['status']>): ResponderDef<Status> {
    return {
      name: 'status',
      decodeRequest: (b) => statusCodec.decodeRequest(b),
      encodeError: (c, m) => statusCodec.encodeError(c, m),
      respond: async function* (req, peer, signal) {
        yield statusCodec.encodeResponse(await handler(req, peer, signal));
      },
    };
  }

  #blocksResponder(
    handler: NonNullable<ReqRespHandlers['blocksByRange']>,
  ): ResponderDef<BlocksByRangeRequest> {
    const limits = this.limits;
    return {
      name: 'blocksByRange',
      decodeRequest: (b) => blocksByRangeCodec.decodeRequest(b),
      encodeError: (c, m) => blocksByRangeCodec.encodeError(c, m),
      respond: (req, peer, signal) =>
        limitItems(
          handler(req, peer, signal),
          Math.min(req.count, limits.maxResponseItems),
          limits.maxResponseBytes,
          (b) => blocksByRangeCodec.encodeResponse(b),
        ),
    };
  }

  #genesisResponder(handler: NonNullable<ReqRespHandlers['genesis']>): ResponderDef<GenesisRequest> {
    const limits = this.limits;
    return {
      name: 'genesis',
      decodeRequest: (b) => genesisCodec.decodeRequest(b),
      encodeError: (c, m) => genesisCodec.encodeError(c, m),
      respond: (req, peer, signal) =>
        limitItems(
          handler(req, peer, signal),
          Math.min(req.chainIds.length, limits.maxResponseItems),
          limits.maxResponseBytes,
          (g) => genesisCodec.encodeResponse(g),
        ),
    };
  }

  #evidenceResponder(handler: NonNullable<ReqRespHandlers['evidence']>): ResponderDef<EvidenceRequest> {
    const limits = this.limits;
    return {
      name: 'evidence',
      decodeRequest: (b) => evidenceCodec.decodeRequest(b),
      encodeError: (c, m) => evidenceCodec.encodeError(c, m),
      respond: (req, peer, signal) =>
        limitItems(
          handler(req, peer, signal),
          Math.min(evidenceRequestLimit(req), limits.maxResponseItems),
          limits.maxResponseBytes,
          (e) => evidenceCodec.encodeResponse(e),
        ),
    };
  }
}

function peerOfTarget(target: PeerTarget): string {
  if (!isMultiaddr(target)) return target.toString();
  return target.getComponents().find((c) => c.name === 'p2p')?.value ?? target.toString();
}

/** Encodes items into response frames, stopping at maxItems or before maxBytes would be exceeded. */
async function* limitItems(
  items: ItemSource,
  maxItems: number,
  maxBytes: number,
  encode: (item: Uint8Array) => Uint8Array,
): AsyncGenerator<Uint8Array> {
  if (maxItems <= 0) return;
  let count = 0;
  let bytes = 0;
  for await (const item of items) {
    const frame = encode(item);
    if (bytes + frame.length > maxBytes) return;
    bytes += frame.length;
    yield frame;
    if (++count >= maxItems) return;
  }
}
