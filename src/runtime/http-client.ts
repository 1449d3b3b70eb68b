/**
 * A small JSON client for the node APIs (the upstream submitter, chain bootstrap, the devnet anchor client, the
 * EVM settler, the `contract` command), with the retry helpers they share. Errors carry the server's
 * `{error: {code, message}}`.
 */
import { CodedError } from '../codec/errors.js';

export class ApiError extends CodedError {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the server could not be reached or did not answer in time. */
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }

  /** Worth retrying later: the server was unreachable, overloaded or not ready. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface RequestOptions {
  readonly token?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export async function apiRequest<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<T> {
  const url = base.replace(/\/+$/, '') + path;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    const cause = (e as Error & { cause?: { code?: string } }).cause;
    throw new ApiError(0, 'UNREACHABLE', `${method} ${url}: ${cause?.code ?? (e as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      `${method} ${url}: ${err?.message ?? text}`,
    );
  }
  return parsed as T;
}

/** Sleeps `ms`, or less if the signal aborts (then resolves; callers check the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Exponential backoff with jitter: attempt 0 waits about `min`, never more than `max`. */
export function backoff(attempt: number, min: number, max: number): number {
  const base = Math.min(max, min * 2 ** Math.min(attempt, 20));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}
