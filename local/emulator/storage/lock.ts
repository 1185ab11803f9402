/**
 * One writer per data directory. Two processes writing one directory lose data: each keeps its
 * own in-memory table and compacts the journal at open, so the other's writes vanish at the next
 * restart. The first process takes `<dir>/livecycle.lock`; a second refuses at once, naming the
 * first (pid, URLs) so the user can attach to it, stop it, or pick another directory.
 *
 * Node has no flock in core, so this is a lock file created atomically (written to a temp file,
 * then hard-linked into place: the link fails if the lock exists, and the file is never seen
 * half-written) holding {pid, hostname, …}. It survives a crash as a stale file; a later
 * process sees that the pid is gone and takes it over (logged). Limits (docs/emulator.md): a
 * dead holder's pid reused by an unrelated process makes the lock look held (the message says
 * which file to remove); a lock written on another host cannot be checked and is never taken
 * over; three processes racing for one stale lock can in theory both win.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'livecycle.lock';

/** What the lock file says about the process holding it. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Which program holds it, e.g. `livecycle start`. */
  program: string;
  /** Where it serves, once it does: e.g. {emulator: 'http://127.0.0.1:9000', api: '…'}. */
  urls: Record<string, string>;
  /** Tells this holding apart from an earlier one by the same pid. */
  token: string;
}

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';

  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    const urls = Object.entries(holder.urls)
      .map(([what, url]) => `, ${what} ${url}`)
      .join('');
    const where = holder.hostname === hostname() ? '' : ` on host ${holder.hostname}`;
    super(
      `data directory ${dir} is in use by ${holder.program} (pid ${holder.pid}${where}${urls}, since ${holder.startedAt}); ` +
        `a second writer would lose data. Use the running one, stop it (pid ${holder.pid}), or give another --data DIR. ` +
        `If pid ${holder.pid} is not livecycle (a reused pid), remove ${join(dir, LOCK_FILE)}.`,
    );
  }
}

/** Lock paths this process holds: the same pid in a lock file is ours only if listed here. */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    if (Number.isSafeInteger(holder.pid) && typeof holder.token === 'string' && typeof holder.hostname === 'string')
      return holder;
  } catch {
    // fall through
  }
  throw new Error(`cannot read the lock file ${path}; if no livecycle process uses this data directory, remove it`);
}

/** Writes `content` to a fresh temp file next to `path`, runs `place(temp)`, and removes the temp. */
async function viaTemp(path: string, content: string, place: (temp: string) => Promise<void>): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content);
  try {
    await place(temp);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

function isStale(path: string, holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  // Our own pid: another incarnation (a container restarted with the same pid) unless we hold it.
  if (holder.pid === process.pid) return !heldHere.has(path);
  return !isAlive(holder.pid);
}

export class DataDirLock {
  private constructor(
    private readonly path: string,
    private holder: LockHolder,
  ) {}

  /**
   * Takes the lock of `dir` (which must exist) or throws DataDirInUseError naming the holder.
   * A stale lock (its process gone) is taken over, reported through `onTakeover`.
   */
  static async acquire(dir: string, program: string, onTakeover: (message: string) => void): Promise<DataDirLock> {
    const path = join(resolve(dir), LOCK_FILE);
    const holder: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      program,
      urls: {},
      token: randomBytes(8).toString('hex'),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await viaTemp(path, JSON.stringify(holder), (temp) => link(temp, path));
        heldHere.add(path);
        return new DataDirLock(path, holder);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = await readHolder(path);
      if (!current) continue; // released meanwhile
      if (!isStale(path, current)) throw new DataDirInUseError(resolve(dir), current);
      if (await takeOver(path, current))
        onTakeover(
          `taking over the lock of ${resolve(dir)}: ${current.program} (pid ${current.pid}, since ${current.startedAt}) is no longer running`,
        );
    }
    throw new Error(`could not take the lock ${path}: other processes keep taking it`);
  }

  /** Adds where the holder serves (shown to a second process), once it is listening. */
  async announce(urls: Record<string, string>): Promise<void> {
    this.holder = { ...this.holder, urls: { ...this.holder.urls, ...urls } };
    if ((await readHolder(this.path))?.token !== this.holder.token) return;
    await viaTemp(this.path, JSON.stringify(this.holder), (temp) => rename(temp, this.path));
  }

  async release(): Promise<void> {
    if (!heldHere.delete(this.path)) return;
    if ((await readHolder(this.path).catch(() => undefined))?.token === this.holder.token)
      await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Removes the stale lock `stale` from `path`; true when it did. Moved aside first and checked,
 * so a lock another process took in between is never deleted: it is put back instead.
 */
async function takeOver(path: string, stale: LockHolder): Promise<boolean> {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const moved = await readHolder(aside).catch(() => undefined);
    if (moved?.token === stale.token) return true;
    await link(aside, path).catch(() => undefined);
    return false;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}
