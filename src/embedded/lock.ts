import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { StartupError } from '../errors/startup.js';

/** Who holds an embedded data directory, as written in its lock file. */
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** ISO time the lock was taken. */
  readonly since: string;
}

/** The lock file of an embedded data directory: beside it, so the PostgreSQL data directory holds only its own files. */
export const lockFileOf = (dataDir: string): string => `${dataDir}.lock`;

/** Directories this process holds (a second open in the same process is refused as well). */
const held = new Set<string>();

/**
 * Takes the embedded database directory `dataDir` (an absolute path) for this process, or throws a
 * StartupError naming the process that has it. Returns the release function; the lock is also
 * released when the process exits.
 *
 * Written by hand rather than with proper-lockfile: that library tells a dead holder from a live one
 * only by a lock whose mtime stopped being refreshed, so after `kill -9` a restart is refused until
 * the stale period has passed, and PGlite's synchronous WASM queries can hold back the refresh timer
 * long enough for a live lock to look stale. This lock names its holder's pid: a holder that is gone
 * (a crash) is seen at once, and a live one can never look stale. The file is written whole and
 * linked into place, so nobody reads a half-written lock.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = lockFileOf(dataDir);
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), since: new Date().toISOString() };
  const content = JSON.stringify(owner);
  if (held.has(dataDir)) throw busy(dataDir, owner);
  for (let attempt = 0; ; attempt++) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, content);
    try {
      linkSync(temp, file); // atomic: fails with EEXIST when a lock is there
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw error;
      const current = readOwner(file);
      if (current && isAlive(current)) throw busy(dataDir, current);
      // The holder is gone without releasing (killed, crashed): take the directory over.
      removeFile(file);
    } finally {
      removeFile(temp);
    }
  }
  held.add(dataDir);
  const release = () => {
    process.off('exit', release);
    if (!held.delete(dataDir)) return;
    // Only our own lock: never one a later process took over.
    if (readOwnerText(file) === content) removeFile(file);
  };
  process.on('exit', release);
  return release;
}

/** The holder of `dataDir`'s lock when one is held by a live process, otherwise undefined. */
export function lockHolder(dataDir: string): LockOwner | undefined {
  const owner = readOwner(lockFileOf(dataDir));
  return owner && (owner.pid === process.pid ? held.has(dataDir) : isAlive(owner)) ? owner : undefined;
}

function busy(dataDir: string, owner: LockOwner): StartupError {
  const where = owner.hostname === hostname() ? '' : ` on host ${owner.hostname}`;
  return new StartupError(
    `The embedded database ${dataDir} is in use by another process (pid ${owner.pid}${where}, since ${owner.since}): ` +
      `stop it first, or set EMBEDDED_DATA_DIR to another directory. If no such process runs, delete ${lockFileOf(dataDir)}.`,
  );
}

function readOwnerText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readOwner(file: string): LockOwner | undefined {
  const text = readOwnerText(file);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string') return { since: '?', ...parsed } as LockOwner;
  } catch {
    // An unreadable lock holds nothing: it is replaced.
  }
  return undefined;
}

/**
 * Whether the lock's holder still runs. A pid on another host cannot be checked, so it counts as alive
 * (the message says how to clear it). Our own pid on this host is a lock left by an earlier process
 * that had the same pid (a container's pid 1), since a directory this process holds is in `held`.
 */
function isAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
