// Length-prefixed frames over libp2p 3 streams.
//
// In libp2p 3 a Stream is an EventTarget: incoming data arrives as 'message' events, writes are synchronous
// `send()` calls that return false when the caller should wait for `onDrain()`, `close()` half-closes the
// writable end, 'end' fires once the remote closed its writable end and everything was read, and 'close'
// (with `error` set after a reset or abort) when the stream is finished. Streams are also async iterable, but
// that iterator attaches its listeners only when first pulled and ends on events that may already have
// fired; streamSource() below attaches at once and also checks `readableEnded`, so no end is ever missed.
// One subtlety: dialProtocol's multistream-select reads ahead, and when the responder answered and closed
// quickly, 'end' has already fired while the answer still sits in the read buffer (pushed back by
// multistream-select): `readableEnded` is then true although data is still to come.
import * as lp from 'it-length-prefixed';
import { pipe } from 'it-pipe';
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';

type Chunk = Uint8Array | Uint8ArrayList;

/** The stream's incoming bytes as an async iterable. Listens from the moment it is called. */
export function streamSource(stream: Stream, signal?: AbortSignal): AsyncIterable<Chunk> {
  const queue: Chunk[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const finish = (err?: unknown): void => {
    if (ended) return;
    ended = true;
    failure = err;
    cleanup();
    notify();
  };
  // True once no more data can come: the remote closed its writable end (or the stream is finished) and
  // nothing is left in the stream's read buffer.
  const drained = (): boolean =>
    stream.readBufferLength === 0 && (stream.readableEnded || stream.status === 'closed');
  const onMessage = (evt: StreamMessageEvent): void => {
    if (ended) return;
    queue.push(evt.data);
    // 'end' and 'close' fire once; bytes pushed back after them (mss negotiation reading ahead) end here.
    if (drained()) finish();
    else notify();
  };
  // An abort or reset also dispatches 'end' (before 'close'): that is not a clean end.
  const onEnd = (): void =>
    finish(
      stream.status === 'aborted' || stream.status === 'reset'
        ? new Error(`stream ${stream.status}`)
        : undefined,
    );
  // 'close' without an error can precede the dispatch of data still buffered in the stream (both ends
  // closed while unread bytes remained); then 'end' follows once they are delivered.
  const onClose = (evt: StreamCloseEvent): void => {
    if (evt.error !== undefined) finish(evt.error);
    else if (stream.readBufferLength === 0) finish();
  };
  const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'));
  function cleanup(): void {
    stream.removeEventListener('message', onMessage);
    stream.removeEventListener('end', onEnd);
    stream.removeEventListener('close', onClose);
    signal?.removeEventListener('abort', onAbort);
  }

  stream.addEventListener('message', onMessage);
  stream.addEventListener('end', onEnd);
  stream.addEventListener('close', onClose);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) onAbort();
  else if (stream.status === 'aborted' || stream.status === 'reset')
    finish(new Error(`stream ${stream.status}`));
  else if (drained()) finish();

  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const next = queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (ended) {
            if (failure !== undefined) throw failure;
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        cleanup();
      }
    },
  };
}

/** Writes chunks to the stream, waiting for 'drain' whenever send() asks for it. */
export async function streamSink(
  stream: Stream,
  source: AsyncIterable<Chunk>,
  signal?: AbortSignal,
): Promise<void> {
  for await (const chunk of source) {
    signal?.throwIfAborted();
    if (!stream.send(chunk)) await stream.onDrain({ signal });
  }
}

/** Writes each payload as one length-prefixed frame (lp.encode throws for a payload over maxDataLength). */
export async function writeFrames(
  stream: Stream,
  payloads: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { maxDataLength: number; signal?: AbortSignal },
): Promise<void> {
  await pipe(
    payloads,
    (source) => lp.encode(source, { maxDataLength: opts.maxDataLength }),
    (source) => streamSink(stream, source, opts.signal),
  );
}

/** Decodes length-prefixed frames from a source; a frame over maxDataLength throws InvalidDataLengthError. */
export function readFrames(
  source: AsyncIterable<Chunk>,
  maxDataLength: number,
): AsyncGenerator<Uint8ArrayList> {
  return lp.decode(source, { maxDataLength });
}

/** it-length-prefixed's error names. */
export function isFrameTooLarge(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError';
}

export function isUnexpectedEof(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'UnexpectedEOFError';
}
