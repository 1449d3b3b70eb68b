/**
 * The operator API token: operator-only calls (selling space) need `Authorization: Bearer <token>`. The token is
 * generated once into the data directory (`api-token`, mode 0600) and read by whoever runs the operator.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { TOKEN_FILE } from '../api/operator.js';
import { HttpError } from '../runtime/http.js';

export async function loadOrCreateApiToken(dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE);
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if ((await stat(path)).mode & 0o077) await chmod(path, 0o600);
    if (token.length >= 32) return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(32).toString('hex');
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(token + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  return token;
}

/** Throws 401 UNAUTHORIZED unless the request carries the token. */
export function requireToken(headers: IncomingHttpHeaders, token: string): void {
  const h = headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  const given = Buffer.from(m ? m[1] : '');
  const want = Buffer.from(token);
  if (!m || given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new HttpError(401, 'UNAUTHORIZED', 'operator calls need "Authorization: Bearer <api-token>"');
  }
}
