// Typed errors of the network layer. Each carries a stable string `code` that metrics and logs use as a label.

/** What gossip validation decided about a message that it does not accept. */
export type GossipAction = 'reject' | 'ignore';

/**
 * Thrown by a gossip validator for a message it does not accept.
 *
 * - `reject`: the message is invalid (bad signature, bad proof, malformed). It is dropped and its sender's
 *   gossipsub score is penalised, so a peer that keeps sending invalid messages is pruned, graylisted and
 *   finally disconnected.
 * - `ignore`: the message may be fine but is not relayed now (duplicate, from the future, unknown parent). No
 *   penalty.
 *
 * `code` is a short snake_case reason (`bad_signature`, `future_block`, ...), used as a metric label: keep the
 * set of codes small and fixed, never put data in it.
 */
export class GossipValidationError extends Error {
  override readonly name = 'GossipValidationError';
  readonly action: GossipAction;
  readonly code: string;

  constructor(action: GossipAction, code: string, message?: string, options?: { cause?: unknown }) {
    super(message ?? `${action}: ${code}`, options);
    this.action = action;
    this.code = code;
  }

  static reject(code: string, message?: string): GossipValidationError {
    return new GossipValidationError('reject', code, message);
  }

  static ignore(code: string, message?: string): GossipValidationError {
    return new GossipValidationError('ignore', code, message);
  }
}

export function isGossipValidationError(err: unknown): err is GossipValidationError {
  return err instanceof GossipValidationError;
}

/** A gossip topic name (or topic object) that is not one of ours. */
export class TopicParseError extends Error {
  override readonly name = 'TopicParseError';
  readonly code = 'bad_topic';
  readonly topic: string;

  constructor(topic: string, reason: string) {
    super(
      `invalid topic ${JSON.stringify(topic.length > 200 ? topic.slice(0, 200) + '...' : topic)}: ${reason}`,
    );
    this.topic = topic;
  }
}

/**
 * Why a request/response exchange failed.
 *
 * Raised on the requesting side:
 * - `timeout`: no complete answer within the request timeout (includes dialling).
 * - `dial_failed`: could not connect or open a stream to the peer.
 * - `unsupported_protocol`: the peer does not serve this protocol.
 * - `stream_closed`: the stream was reset or closed before the response ended.
 * - `frame_too_large`: a response frame exceeded the frame size limit.
 * - `too_many_items`: more response items than requested or allowed.
 * - `response_too_large`: the response exceeded the total byte limit.
 * - `invalid_response`: a response frame did not decode (or was not canonical), or was missing.
 * - `aborted`: the caller's signal aborted the request, or the service stopped.
 *
 * Sent by the responder (in a response frame's `error`) and raised as such on the requesting side:
 * - `invalid_request`, `server_error`, `rate_limited`, `resource_unavailable`.
 */
export type ReqRespErrorCode =
  | 'timeout'
  | 'dial_failed'
  | 'unsupported_protocol'
  | 'stream_closed'
  | 'frame_too_large'
  | 'too_many_items'
  | 'response_too_large'
  | 'invalid_response'
  | 'aborted'
  | 'invalid_request'
  | 'server_error'
  | 'rate_limited'
  | 'resource_unavailable';

export class ReqRespError extends Error {
  override readonly name = 'ReqRespError';
  readonly code: ReqRespErrorCode;
  /** The protocol id, when known. */
  readonly protocol: string | undefined;
  /** The remote peer id (string form), when known. */
  readonly peer: string | undefined;

  constructor(
    code: ReqRespErrorCode,
    message?: string,
    options?: { protocol?: string; peer?: string; cause?: unknown },
  ) {
    super(message ?? code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.protocol = options?.protocol;
    this.peer = options?.peer;
  }
}

export function isReqRespError(err: unknown, code?: ReqRespErrorCode): err is ReqRespError {
  return err instanceof ReqRespError && (code === undefined || err.code === code);
}
