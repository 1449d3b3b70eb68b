/**
 * A small JSON HTTP server for the node APIs and /metrics: routes with path parameters, a body size limit, and
 * one place that turns typed errors into status codes and `{error: {code, message}}` bodies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
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
}

export type Reply = { status?: number; json?: unknown; text?: string; contentType?: string };
export type Handler = (req: Request) => Promise<Reply> | Reply;

/** Maps an error thrown by a handler to a status; errors with a `code` from the protocol are client errors. */
export type ErrorMapper = (e: unknown) => HttpError | undefined;

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
  ) {}

  route(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  mapErrors(m: ErrorMapper): this {
    this.mappers.push(m);
    return this;
  }

  async start(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.serve(req, res));
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
        if (r.parts[i].startsWith(':')) params[r.parts[i].slice(1)] = decodeURIComponent(segs[i]);
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    try {
      const m = this.match(method, url.pathname);
      if (m === null) throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`);
      if (m === 'method')
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`);
      const body = await this.readBody(req);
      const request: Request = {
        method,
        path: url.pathname,
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
      };
      const reply = await m.route.handler(request);
      this.send(res, reply.status ?? 200, reply);
    } catch (e) {
      const he = this.toHttpError(e);
      if (he.status >= 500) this.log.error({ err: e, path: url.pathname }, 'request failed');
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
      res.writeHead(status, { 'content-type': reply.contentType ?? 'text/plain; charset=utf-8' });
      res.end(reply.text);
      return;
    }
    const body = JSON.stringify(reply.json ?? null, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.maxBody) {
          reject(new HttpError(413, 'BODY_TOO_LARGE', `request body over ${this.maxBody} bytes`));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }
}
