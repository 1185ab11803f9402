/**
 * One writer per data directory (storage/lock.ts): a second emulator on a directory in use
 * fails at once naming the first, and the first is unaffected; a stale lock is taken over.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { DataDirInUseError, LOCK_FILE, type LockHolder } from '../../local/emulator/storage/lock';
import { capturingLogger } from '../api/helpers';
import { oss } from './helpers';
import { quietEmulator } from './setup';

let dataDir: string;
const running: Emulator[] = [];
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'emu-lock-'));
});
afterEach(async () => {
  for (const emu of running.splice(0)) await emu.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function start(opts: Parameters<typeof quietEmulator>[0] = {}): Promise<Emulator> {
  const emu = await quietEmulator({ dataDir, ...opts });
  running.push(emu);
  return emu;
}

async function refusal(): Promise<DataDirInUseError> {
  try {
    await start();
  } catch (err) {
    if (err instanceof DataDirInUseError) return err;
    throw err;
  }
  throw new Error('the second emulator started on a data directory in use');
}

const readLock = async () => JSON.parse(await readFile(join(dataDir, LOCK_FILE), 'utf8')) as LockHolder;

/** The pid of a process that has exited (a real dead pid, not a guess). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

function staleLock(fields: Partial<LockHolder>): Promise<void> {
  const holder: LockHolder = {
    pid: fields.pid ?? deadPid(),
    hostname: hostname(),
    startedAt: '2024-05-01T12:00:00.000Z',
    program: 'livecycle start',
    urls: { emulator: 'http://127.0.0.1:9000' },
    token: 'old',
    ...fields,
  };
  return writeFile(join(dataDir, LOCK_FILE), JSON.stringify(holder));
}

describe('data directory lock', () => {
  it('a second emulator on the directory fails at once naming the first (pid, URL); the first keeps serving', async () => {
    const first = await start();
    expect(await readLock()).toMatchObject({
      pid: process.pid,
      program: 'livecycle emulator',
      urls: { emulator: first.url },
    });
    await oss(first, { method: 'PUT', key: 'before.ts', body: 'one' });

    const err = await refusal();
    expect(err.message).toContain(`in use by livecycle emulator (pid ${process.pid}, emulator ${first.url}`);
    expect(err.message).toContain('another --data DIR');
    expect(err.message).toContain(`stop it (pid ${process.pid})`);

    await oss(first, { method: 'PUT', key: 'after.ts', body: 'two' });
    expect((await oss(first, { method: 'GET', key: 'before.ts' })).text).toBe('one');
    expect((await readLock()).urls.emulator).toBe(first.url);

    // Once the first stops, a second starts and sees everything the first wrote.
    await running.shift()!.stop();
    const second = await start();
    expect((await oss(second, { method: 'GET', key: 'after.ts' })).text).toBe('two');
    expect((await readLock()).urls.emulator).toBe(second.url);
  });

  it('takes over a stale lock whose process is gone, and says so', async () => {
    const pid = deadPid();
    await staleLock({ pid });
    const { logger, lines } = capturingLogger();
    const emu = await start({ logger });
    expect(lines.join('\n')).toContain(`taking over the lock of ${dataDir}: livecycle start (pid ${pid}`);
    expect(await readLock()).toMatchObject({ pid: process.pid, urls: { emulator: emu.url } });
  });

  it('takes over a lock naming our own pid that this process does not hold (a restarted container)', async () => {
    await staleLock({ pid: process.pid });
    await start();
    expect((await readLock()).token).not.toBe('old');
  });

  it('never takes over a lock written on another host (its pid cannot be checked)', async () => {
    await staleLock({ hostname: 'elsewhere.example' });
    const err = await refusal();
    expect(err.message).toContain('on host elsewhere.example');
    expect((await readLock()).token).toBe('old');
  });

  it('refuses an unreadable lock file rather than guess', async () => {
    await writeFile(join(dataDir, LOCK_FILE), '{"pid":');
    await expect(start()).rejects.toThrow(
      /cannot read the lock file .*livecycle\.lock; if no livecycle process uses this data directory, remove it/,
    );
  });

  it('removes the lock on stop, and leaves memory-only emulators alone', async () => {
    const emu = await start();
    await emu.stop();
    await expect(readFile(join(dataDir, LOCK_FILE))).rejects.toThrow(/ENOENT/);
    const a = await quietEmulator();
    const b = await quietEmulator();
    await Promise.all([a.stop(), b.stop()]);
  });
});
