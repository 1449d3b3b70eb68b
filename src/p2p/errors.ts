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
