/**
 * Opening a LevelDB database (classic-level) so that a second process on it is told so. LevelDB allows one process
 * per database and takes a lock file to say so; classic-level reports a held lock as LEVEL_DATABASE_NOT_OPEN
 * ("Database failed to open") with the lock only in its `cause`, naming neither the file nor the directory.
 */
import { join } from 'node:path';
import type { ClassicLevel } from 'classic-level';
import { CodedError } from '../codec/errors.js';

export class DatabaseLockedError extends CodedError<'DATABASE_LOCKED'> {
  override readonly name = 'DatabaseLockedError';
  /** The LevelDB lock file another process holds. */
  readonly lockFile: string;
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    const lockFile = join(path, 'LOCK');
    super(
      'DATABASE_LOCKED',
      `database ${path} is in use by another process (LevelDB lock ${lockFile}); stop that process first`,
      options,
    );
    this.lockFile = lockFile;
  }
}

/** Opens `db` (at `path`); a lock held by another process becomes a DatabaseLockedError. */
export async function openLevel<K, V>(
  db: ClassicLevel<K, V>,
  path: string,
  options?: { createIfMissing?: boolean },
): Promise<void> {
  try {
    await db.open(options ?? {});
  } catch (e) {
    const cause = (e as { cause?: { code?: unknown } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new DatabaseLockedError(path, { cause: e });
    throw e;
  }
}
