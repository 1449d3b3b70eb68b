/**
 * A small JSON HTTP server for the node APIs and /metrics: routes with path parameters, a body size limit, and
 * one place that turns typed errors into status codes and `{error: {code, message}}` bodies. It is exposed to
 * anyone, so every request gets an answer of that shape, malformed ones included, and none can end the process.
 */
import { CodedError } from '../codec/errors.js';
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClientBudgets } from './budget.js';
import type { Logger } from './logger.js';

export class HttpError extends CodedError {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** A 429: the client spent its budget (`Retry-After` says when it has enough again). */
export class RateLimited extends HttpError {
  constructor(
    readonly retryAfterS: number,
    message: string,
  ) {
    super(429, 'RATE_LIMITED', message);
  }
}

export interface Request {
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Raw body (empty for GET). */
  readonly body: Buffer;
  json<T>(): T;
  /**
   * Charges the client `cost` more tokens of its budget for work this request is about to do (a replay of stored
   * blocks); throws a 429 RATE_LIMITED, before the work, when the client cannot afford it. Free without budgets.
   */
  charge(cost: number, what: string): void;
}

export type Reply = { status?: number; json?: unknown; text?: string; contentType?: string };
export type Handler = (req: Request) => Promise<Reply> | Reply;

/** Maps an error thrown by a handler to a status; errors with a `code` from the protocol are client errors. */
export type ErrorMapper = (e: unknown) => HttpError | undefined;

/**
 * A handler that converts its own errors with `map`, so that the mappers other components registered on the API
 * (`mapErrors`) never judge what it throws. HttpErrors pass as they are; what `map` leaves alone is rethrown.
 */
export function guarded(h: Handler, map: ErrorMapper = () => undefined): Handler {
  return async (req) => {
    try {
      return await h(req);
    } catch (e) {
      throw (e instanceof HttpError ? e : map(e)) ?? e;
    }
  };
}

/** After refusing a body, how much more of it is read and dropped so that the refusal reaches the client. */
const DISCARD_BYTES = 64 * 1024 * 1024;
const DISCARD_MS = 10_000;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

export class HttpApi {
  private readonly routes: Route[] = [];
  private server: Server | null = null;
  private readonly mappers: ErrorMapper[] = [];

  constructor(
    private readonly log: Logger,
    private readonly maxBody = 4 * 1024 * 1024,
    /** Per-client request budgets (a public API); every request costs 1, `charge` more. */
    private readonly budgets?: { readonly table: ClientBudgets; readonly refused?: () => void },
  ) {}

  /** Takes `cost` of `client`'s budget, or throws the 429 that says when to come back. */
  private spend(client: string, cost: number, what: string): void {
    if (!this.budgets) return;
    const r = this.budgets.table.take(client, cost);
    if (r.ok) return;
    this.budgets.refused?.();
    const l = this.budgets.table.limits;
    throw new RateLimited(
      r.retryAfterS,
      `${what} is over this client's budget (${l.perSecond} per second, at most ${l.burst} at once): retry in ` +
        `${r.retryAfterS} s`,
    );
  }

  route(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  mapErrors(m: ErrorMapper): this {
    this.mappers.push(m);
    return this;
  }

  async start(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      // serve() answers every error itself; this only keeps a bug there from becoming an unhandled rejection.
      this.serve(req, res).catch((e: unknown) => {
        this.log.error({ err: e }, 'request handling failed');
        res.destroy();
      });
    });
    // A request the parser refuses (bad request line, oversized headers) has no req/res: answer on the socket.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | 'method' | null {
    const segs = path.split('/').filter(Boolean);
    let wrongMethod = false;
    for (const r of this.routes) {
      if (r.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        if (r.parts[i].startsWith(':')) params[r.parts[i].slice(1)] = decodeSegment(segs[i]);
        else ok = r.parts[i] === segs[i];
      }
      if (!ok) continue;
      if (r.method !== method) {
        wrongMethod = true;
        continue;
      }
      return { route: r, params };
    }
    return wrongMethod ? 'method' : null;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let path = req.url ?? '';
    const client = req.socket.remoteAddress ?? 'unknown';
    try {
      this.spend(client, 1, 'a request');
      const url = parseTarget(path);
      path = url.pathname;
      const m = this.match(method, path);
      if (m === null) throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${path}`);
      if (m === 'method')
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`);
      const body = await this.readBody(req);
      const request: Request = {
        method,
        path,
        params: m.params,
        query: url.searchParams,
        headers: req.headers,
        body,
        json<T>(): T {
          try {
            return JSON.parse(body.toString('utf8') || 'null') as T;
          } catch (e) {
            throw new HttpError(400, 'BAD_JSON', `request body is not JSON: ${(e as Error).message}`);
          }
        },
        charge: (cost, what) => this.spend(client, cost, what),
      };
      const reply = await m.route.handler(request);
      this.send(res, reply.status ?? 200, reply);
    } catch (e) {
      const he = this.toHttpError(e);
      // 503 is a component saying it is not serving now (an operator stopping, or stopped by a failure it has
      // logged itself): the client is told and retries, and every shutdown has a few. Logging each at error with a
      // stack would report a bug where there is none; the rest of 5xx are bugs or failures, logged in full.
      if (he.status === 503)
        this.log.debug({ code: he.code, err: he.message, path }, 'request refused: unavailable');
      else if (he.status >= 500) this.log.error({ err: e, path }, 'request failed');
      if (he.status === 413) discardRest(req);
      if (he instanceof RateLimited && !res.headersSent) res.setHeader('retry-after', String(he.retryAfterS));
      this.send(res, he.status, { json: { error: { code: he.code, message: he.message } } });
    }
  }

  private toHttpError(e: unknown): HttpError {
    if (e instanceof HttpError) return e;
    for (const m of this.mappers) {
      const he = m(e);
      if (he) return he;
    }
    return new HttpError(500, 'INTERNAL', (e as Error)?.message ?? 'internal error');
  }

  private send(res: ServerResponse, status: number, reply: Reply): void {
    if (res.headersSent) return;
    if (reply.text !== undefined) {
      res.writeHead(status, {
        'content-type': reply.contentType ?? 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(reply.text),
      });
      res.end(reply.text);
      return;
    }
    const body = JSON.stringify(reply.json ?? null, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** The body, or a 413 as soon as it is known to be too large (from its content-length, or while reading). */
  private readBody(req: IncomingMessage): Promise<Buffer> {
    const tooLarge = (): HttpError =>
      new HttpError(413, 'BODY_TOO_LARGE', `request body over ${this.maxBody} bytes`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer): void => {
        size += c.length;
        if (size <= this.maxBody) {
          chunks.push(c);
          return;
        }
        // Not destroyed here: that would reset the connection before the 413 is written (discardRest).
        req.off('data', onData);
        chunks.length = 0;
        reject(tooLarge());
      };
      req.on('data', onData);
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }
}

/**
 * Path and query of a request target. Served are origin-form targets ("/a/b?q=1") and absolute http(s) URLs;
 * anything else, such as "//host" (which a URL parser reads as an authority, not a path), is a 400.
 */
function parseTarget(target: string): URL {
  try {
    if (target.startsWith('/') && !target.startsWith('//')) return new URL(target, 'http://localhost');
    if (/^https?:\/\//i.test(target)) return new URL(target);
  } catch {
    // falls through to the 400
  }
  throw new HttpError(400, 'BAD_REQUEST', `request target ${quote(target)} is not a path`);
}

function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `path segment ${quote(seg)} is not validly percent-encoded`);
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 100 ? s.slice(0, 100) + '...' : s);
}

/**
 * Reads and drops what is left of a refused body so the connection is not reset (which can lose the answer
 * already written) while the client still sends; a client that keeps sending past a bound is cut off.
 */
function discardRest(req: IncomingMessage): void {
  if (req.complete) return;
  let dropped = 0;
  const cut = (): void => {
    req.socket.destroy();
  };
  const timer = setTimeout(cut, DISCARD_MS);
  timer.unref();
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > DISCARD_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** The JSON error answer to a request that did not parse, written straight to the socket (there is no res). */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT']
        : [400, 'BAD_REQUEST'];
  const body = JSON.stringify({
    error: { code, message: `malformed HTTP request (${err.code ?? 'error'})` },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
