/** Starts bench/lib/emu-child.ts and talks to it (IPC for counters, HTTP admin API for the rest). */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { ADMIN_PREFIX, adminHeaders } from '../../local/emulator/admin-client';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export { BUCKET } from './constants';

export interface RequestCounts {
  total: number;
  admin: number;
  byKind: Record<string, number>;
  byChannel: Record<string, number>;
}

export interface BenchEmulator {
  url: string;
  region: string;
  accessKey: { id: string; secret: string };
  child: ChildProcess;
  /** Requests received since the last reset; `reset` zeroes them after reading. */
  counts(reset?: boolean): Promise<RequestCounts>;
  /** The emulator process's peak RSS and CPU so far (process.cpuUsage(), microseconds). */
  usage(): Promise<{ maxRssKiB: number; cpu: { user: number; system: number } }>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Replaces the fault rules (e.g. `[{ operation: '*', rate: 1, kind: 'latency', ms: 20 }]`). */
  setFaults(rules: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

export async function spawnEmulator(
  opts: { dataDir?: string; buckets?: string[]; clockStartMs?: number; clockRate?: number } = {},
): Promise<BenchEmulator> {
  const child = fork(join(here, 'emu-child.ts'), [JSON.stringify(opts)], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; region: string; accessKey: { id: string; secret: string } }>(
    (resolve, reject) => {
      child.once('message', (m) => resolve(m as never));
      child.once('exit', (code) => reject(new Error(`emulator child exited with ${code}`)));
    },
  );
  const request = <T>(type: string, extra: Record<string, unknown> = {}) =>
    new Promise<T>((resolve) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve(m as T);
      };
      child.on('message', onMessage);
      child.send({ type, ...extra });
    });
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${ready.url}${ADMIN_PREFIX}${path}`, {
      method,
      headers: adminHeaders(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`emulator admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    ...ready,
    child,
    counts: (reset = false) => request<RequestCounts>('counts', { reset }),
    usage: () => request<{ maxRssKiB: number; cpu: { user: number; system: number } }>('usage'),
    admin,
    setFaults: async (rules) => {
      await admin('PUT', '/faults', { rules, seed: 1 });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}
