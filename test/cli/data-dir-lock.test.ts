/**
 * Two stacks on one data directory lose data, so the built CLI refuses a second one: `start`
 * (even with --fresh, free ports) and `emulator` on a directory a running stack holds exit 1
 * naming it; after a crash (SIGKILL) the next `start` takes the lock over; SIGTERM releases it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootStack, STACK_FILE, type LocalStack } from '../../local/stack';
import { LOCK_FILE } from '../../local/emulator/storage/lock';
import { ensureBuilt } from '../helpers/build';
import { oss } from '../emulator/helpers';
import { cli, ROOT } from './helpers';

/** Ceiling for tests that spawn the CLI several times (a loaded 2-core machine); not a timing assertion. */
const SPAWNS_TIMEOUT = 90_000;

let stack: LocalStack;
let dataDir: string;
beforeAll(async () => {
  ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'lc-lock-cli-'));
  stack = await bootStack({ root: ROOT, dataDir, apiPort: 0, emulatorPort: 0, rate: 0, logSink: () => {} });
  await oss(stack.emulator, { method: 'PUT', key: 'cam-1/000001.ts', body: 'written by the first stack' });
}, SPAWNS_TIMEOUT);
afterAll(async () => {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A `livecycle start` child; resolves once it reports it is serving (its own output, no timing). */
function startChild(
  dir: string,
): Promise<{ child: ReturnType<typeof spawn>; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'cli.js'), 'start', '--data', dir, '--port', '0', '--emulator-port', '0'],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('Ctrl-C stops.')) resolve({ child, stderr: () => text, exited });
    });
    void exited.then((code) => reject(new Error(`start exited ${code} before serving:\n${text}`)));
  });
}

describe('one stack per data directory (CLI)', () => {
  it(
    'a second `start` on the directory, even with free ports and --fresh, exits 1 naming the running one; nothing is lost',
    async () => {
      for (const extra of [[], ['--fresh']]) {
        const res = await cli(['start', '--data', dataDir, '--port', '0', '--emulator-port', '0', ...extra]);
        expect(res.code, res.stderr).toBe(1);
        expect(res.stderr).toContain(
          `data directory ${dataDir} is in use by livecycle start (pid ${process.pid}, emulator ${stack.emulator.url}, api ${stack.runtime.httpUrl}`,
        );
        expect(res.stderr).toContain('or give another --data DIR');
        expect(res.stderr).toContain(
          `To use it: node bin/livecycle.js channels|invoke|cleanup|sign-request --data ${dataDir} (push: --endpoint ${stack.emulator.url})`,
        );
      }
      expect((await oss(stack.emulator, { method: 'GET', key: 'cam-1/000001.ts' })).text).toBe(
        'written by the first stack',
      );
      expect(existsSync(join(dataDir, STACK_FILE))).toBe(true);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    "`emulator --data` on the running stack's emulator directory exits 1 naming it",
    async () => {
      const res = await cli(['emulator', '--data', join(dataDir, 'emulator'), '--port', '0']);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toContain(`is in use by livecycle start (pid ${process.pid}, emulator ${stack.emulator.url}`);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'after a crash the next `start` takes the lock over (logged); SIGTERM releases it',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lc-lock-crash-'));
      try {
        const crashed = await startChild(dir);
        crashed.child.kill('SIGKILL');
        await crashed.exited;
        expect(existsSync(join(dir, LOCK_FILE))).toBe(true);

        const next = await startChild(dir);
        expect(next.stderr()).toContain(`taking over the lock of ${dir}: livecycle start (pid ${crashed.child.pid}`);
        next.child.kill('SIGTERM');
        const code = await next.exited;
        expect(code, next.stderr()).toBe(0);
        expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    SPAWNS_TIMEOUT,
  );
});
