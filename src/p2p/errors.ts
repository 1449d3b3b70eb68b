// Typed errors of the network layer. Each carries a stable string `code` that metrics and logs use as a label.
// Gossip validation throws none: a validator returns a Verdict (src/codec/verdict.ts).
import { CodedError } from '../codec/errors.js';

/** A gossip topic name (or topic object) that is not one of ours. */
export class TopicParseError extends CodedError<'BAD_TOPIC'> {
  override readonly name = 'TopicParseError';
  readonly topic: string;

  constructor(topic: string, reason: string) {
    super(
      'BAD_TOPIC',
      `invalid topic ${JSON.stringify(topic.length > 200 ? topic.slice(0, 200) + '...' : topic)}: ${reason}`,
    );
    this.topic = topic;
  }
}

/**
 * Why a request/response exchange failed.
 *
 * Raised on the requesting side:
 * - `TIMEOUT`: no complete answer within the request timeout (includes dialling).
 * - `DIAL_FAILED`: could not connect or open a stream to the peer.
 * - `UNSUPPORTED_PROTOCOL`: the peer does not serve this protocol.
 * - `STREAM_CLOSED`: the stream was reset or closed before the response ended.
 * - `FRAME_TOO_LARGE`: a response frame exceeded the frame size limit.
 * - `TOO_MANY_ITEMS`: more response items than requested or allowed.
 * - `RESPONSE_TOO_LARGE`: the response exceeded the total byte limit.
 * - `INVALID_RESPONSE`: a response frame did not decode (or was not canonical), or was missing.
 * - `ABORTED`: the caller's signal aborted the request, or the service stopped.
 *
 * Sent by the responder (in a response frame's `error`) and raised as such on the requesting side:
 * - `INVALID_REQUEST`, `SERVER_ERROR`, `RATE_LIMITED`, `RESOURCE_UNAVAILABLE`.
 */
export type ReqRespErrorCode =
  | 'TIMEOUT'
  | 'DIAL_FAILED'
  | 'UNSUPPORTED_PROTOCOL'
  | 'STREAM_CLOSED'
  | 'FRAME_TOO_LARGE'
  | 'TOO_MANY_ITEMS'
  | 'RESPONSE_TOO_LARGE'
  | 'INVALID_RESPONSE'
  | 'ABORTED'
  | 'INVALID_REQUEST'
  | 'SERVER_ERROR'
  | 'RATE_LIMITED'
  | 'RESOURCE_UNAVAILABLE';

export class ReqRespError extends CodedError<ReqRespErrorCode> {
  override readonly name = 'ReqRespError';
  /** The protocol id, when known. */
  readonly protocol: string | undefined;
  /** The remote peer id (string form), when known. */
  readonly peer: string | undefined;

  constructor(
    code: ReqRespErrorCode,
    message?: string,
    options?: { protocol?: string; peer?: string; cause?: unknown },
  ) {
    super(code, message ?? code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.protocol = options?.protocol;
    this.peer = options?.peer;
  }
}

export function isReqRespError(err: unknown, code?: ReqRespErrorCode): err is ReqRespError {
  return err instanceof ReqRespError && (code === undefined || err.code === code);
}
