/**
 * The holder page (web/, bundled into dist/web by `npm run build`) served from a node's HTTP API with `--web`. The
 * files are read once at start and served from memory by name: no path from a request ever reaches the file
 * system, so no request can read outside the page.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config.js';
import { HttpError, type HttpApi } from './http.js';

/** dist/web beside dist/src, where the build writes the bundled page. */
export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

export interface WebFile {
  readonly text: string;
  readonly contentType: string;
}

/** The page's files by name; a ConfigError when the page was not built. */
export async function loadWebPage(dir = WEB_DIR): Promise<ReadonlyMap<string, WebFile>> {
  const files = new Map<string, WebFile>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new ConfigError(`--web: the page is not built at ${dir} (run npm run build)`);
  }
  for (const name of names) {
    const contentType = TYPES[extname(name)];
    if (contentType) files.set(name, { text: await readFile(join(dir, name), 'utf8'), contentType });
  }
  if (!files.has('index.html')) throw new ConfigError(`--web: no index.html in ${dir} (run npm run build)`);
  return files;
}

/** `GET /` and `GET /<file>`; registered after the API's own routes, which keep their paths. */
export function addWebRoutes(api: HttpApi, files: ReadonlyMap<string, WebFile>): void {
  const reply = (name: string) => {
    const f = files.get(name);
    if (!f) throw new HttpError(404, 'NOT_FOUND', `no file ${name}`);
    return { text: f.text, contentType: f.contentType };
  };
  api.route('GET', '/', () => reply('index.html'));
  api.route('GET', '/:file', (req) => reply(req.params.file));
}
