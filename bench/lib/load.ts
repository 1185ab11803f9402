/**
 * Load (require) time in fresh `node` processes. Each child times only its own `require()` of
 * the module with process.hrtime (node's own boot is the same for every candidate and not
 * counted) and the CPU time the process spent on it (process.cpuUsage, every thread: on a loaded
 * machine wall time mostly measures the wait for a core, CPU time much less so), and reports
 * whether `@alicloud/fc2` got loaded along the way. Candidates run
 * interleaved so drift on the shared cores hits all of them alike.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { median } from './stats';
import { ROOT } from './emulator';

const run = promisify(execFile);

const PROBE = `
const target = process.argv[1];
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const mod = require(target);
const t1 = process.hrtime.bigint();
const cpu = process.cpuUsage(c0);
const fc2 = Object.keys(require.cache).some((k) => k.includes('@alicloud/fc2') || k.includes('@alicloud\\\\fc2'));
process.stdout.write(JSON.stringify({ ms: Number(t1 - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1e3, fc2, exports: Object.keys(mod).slice(0, 5) }));
`;

export interface LoadSample {
  ms: number;
  cpuMs: number;
  fc2: boolean;
  exports: string[];
}

/** A module to require, and the NODE_OPTIONS its process runs with (none by default). */
export type LoadTarget = string | { path: string; nodeOptions: string };

export async function loadOnce(target: LoadTarget): Promise<LoadSample> {
  const { path, nodeOptions } = typeof target === 'string' ? { path: target, nodeOptions: '' } : target;
  const { stdout } = await run(process.execPath, ['-e', PROBE, path], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  return JSON.parse(stdout) as LoadSample;
}

/** Median load time of each target over `runs` fresh processes. */
export interface LoadFigures {
  medianMs: number;
  minMs: number;
  maxMs: number;
  cpuMedianMs: number;
  cpuMinMs: number;
  cpuMaxMs: number;
  samples: number[];
  cpuSamples: number[];
  fc2: boolean;
  exports: string[];
}

export type LoadTimes = Record<string, LoadFigures>;

export async function loadTimes(targets: Record<string, LoadTarget>, runs: number): Promise<LoadTimes> {
  const names = Object.keys(targets);
  const samples = new Map<string, LoadSample[]>(names.map((n) => [n, []]));
  // One warm-up each (file system cache), not counted.
  for (const n of names) await loadOnce(targets[n]!);
  for (let i = 0; i < runs; i++) for (const n of names) samples.get(n)!.push(await loadOnce(targets[n]!));
  return Object.fromEntries(
    names.map((n) => {
      const s = samples.get(n)!;
      const ms = s.map((x) => x.ms);
      const cpu = s.map((x) => x.cpuMs);
      return [
        n,
        {
          medianMs: median(ms),
          minMs: Math.min(...ms),
          maxMs: Math.max(...ms),
          cpuMedianMs: median(cpu),
          cpuMinMs: Math.min(...cpu),
          cpuMaxMs: Math.max(...cpu),
          samples: ms,
          cpuSamples: cpu,
          fc2: s.some((x) => x.fc2),
          exports: s[0]!.exports,
        },
      ];
    }),
  );
}
