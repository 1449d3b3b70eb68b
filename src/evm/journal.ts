/**
 * The EVM transaction journal of a node without an operator store (a validator submitting evidence): one JSON
 * file per record in the data directory, replaced atomically (written, fsync'd, renamed), so a crash leaves the
 * old record or the new one.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Journal } from './sender.js';

export function fileJournal(dir: string): Journal {
  const path = (name: string) => join(dir, `${name.replace(/[^a-z0-9-]/gi, '_')}.json`);
  return {
    async get<T>(name: string): Promise<T | undefined> {
      try {
        return JSON.parse(await readFile(path(name), 'utf8')) as T;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async put(name: string, value: unknown): Promise<void> {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${path(name)}.tmp`;
      const f = await open(tmp, 'w', 0o600);
      try {
        await f.writeFile(JSON.stringify(value ?? null));
        await f.sync();
      } finally {
        await f.close();
      }
      await rename(tmp, path(name));
    },
  };
}
