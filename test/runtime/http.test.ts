/**
 * The HTTP server in front of every node (validator, operator, anchor) answers anything a client sends with a
 * JSON error and keeps running: raw requests over a TCP socket, as an attacker would send them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { HttpApi } from '../../src/runtime/http.js';
import { createLogger } from '../../src/runtime/logger.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `head` (and `body`) on a fresh connection; resolves with the first complete response. */
function rawRequest(port: number, head: string, body?: Uint8Array, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    function finish(err: Error | null, res?: RawResponse): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(res!);
    }
    /** A response is complete once its headers and content-length bytes of body are in. */
    function tryParse(): RawResponse | undefined {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const rest = buf.subarray(end + 4);
      if (headers['transfer-encoding'] === 'chunked') {
        const body = dechunk(rest);
        return body === undefined ? undefined : { status, headers, body };
      }
      const len = Number(headers['content-length'] ?? 0);
      if (rest.length < len) return undefined;
      return { status, headers, body: rest.subarray(0, len).toString('utf8') };
    }
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const res = tryParse();
      if (res) finish(null, res);
    });
    socket.on('close', () =>
      finish(new Error(`connection closed before a response (got ${buf.length} bytes)`)),
    );
    // The server may stop reading a body it refuses; what counts is the answer, not our write.
    socket.on('error', () => undefined);
    socket.write(head);
    if (body) socket.write(body);
  });
}

/** A chunked body once its last chunk is in, else undefined. */
function dechunk(data: Buffer): string | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts).toString('utf8');
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function errorCode(res: RawResponse): string {
  assert.match(res.headers['content-type'] ?? '', /application\/json/);
  const parsed = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof parsed.error?.message, 'string');
  return String(parsed.error?.code);
}

describe('HttpApi under hostile requests', { timeout: 60_000 }, () => {
  const api = new HttpApi(createLogger('silent', 'http-test'));
  let port: number;
  // In a node process an unhandled rejection is fatal; here it would only be reported, so watch for it.
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    api.route('GET', '/ok', () => ({ json: { ok: true } }));
    api.route('GET', '/v1/chains/:id', (req) => ({ json: { id: req.params.id } }));
    api.route('POST', '/echo', (req) => ({ json: { bytes: req.body.length } }));
    ({ port } = await api.start('127.0.0.1', 0));
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await api.stop();
  });

  async function assertStillServing(): Promise<void> {
    const res = await rawRequest(port, 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { ok: true });
    assert.deepEqual(unhandled, []);
  }

  for (const target of ['//', '//[', '//a:b@', '///']) {
    it(`GET ${target} answers 400 BAD_REQUEST and the server survives`, async () => {
      const res = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), 'BAD_REQUEST');
      await assertStillServing();
    });
  }

  it('a malformed percent-escape in a path parameter answers 400, not 500', async () => {
    const res = await rawRequest(port, 'GET /v1/chains/% HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'BAD_REQUEST');
    const ok = await rawRequest(port, 'GET /v1/chains/a%20b HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(JSON.parse(ok.body), { id: 'a b' });
  });

  it('a request line that does not parse answers a JSON 400', async () => {
    const res = await rawRequest(port, 'GET /ok\x01 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'BAD_REQUEST');
    await assertStillServing();
  });

  it('a 10 MB body gets its 413 before the connection closes', async () => {
    const size = 10 * 1024 * 1024;
    const head = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`;
    const res = await rawRequest(port, head, new Uint8Array(size).fill(0x20));
    assert.equal(res.status, 413);
    assert.equal(errorCode(res), 'BODY_TOO_LARGE');
    await assertStillServing();
  });

  it('a body over the limit without a content-length (chunked) also gets its 413', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let body = '';
    for (let i = 0; i < 6; i++) body += `${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`;
    body += '0\r\n\r\n';
    const head = 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    const res = await rawRequest(port, head, Buffer.from(body, 'latin1'));
    assert.equal(res.status, 413);
    assert.equal(errorCode(res), 'BODY_TOO_LARGE');
    await assertStillServing();
  });

  it('a body within the limit is still read whole', async () => {
    const body = new Uint8Array(1024 * 1024).fill(0x20);
    const res = await rawRequest(
      port,
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { bytes: body.length });
  });
});
